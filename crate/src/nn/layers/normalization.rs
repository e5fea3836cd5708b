//! `nn.LayerNorm` and `nn.GroupNorm` (`torch/nn/modules/normalization.py`):
//! statistics of each sample, the same in training and eval mode.

use tch::Tensor;

use super::conv_core::py_tuple;
use super::{assert_valid, filled_param, param};
use crate::nn::args::IntoShape;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::{Module, NamedTensor};
use crate::pyfmt::{py_bool, py_float};

/// What `LayerNorm` and `GroupNorm` share: `eps`, the affine switch and its
/// learnable `weight` (ones) and `bias` (zeros) of `shape`, and the hooks slot.
struct AffineNorm {
    shape: Vec<i64>,
    eps: f64,
    affine: bool,
    use_bias: bool,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    hooks: ForwardHooks,
}

impl AffineNorm {
    /// PyTorch's defaults: `eps=1e-05`, affine, with a bias.
    fn new(shape: Vec<i64>) -> AffineNorm {
        let mut norm = AffineNorm {
            shape,
            eps: 1e-5,
            affine: true,
            use_bias: true,
            weight: None,
            bias: None,
            hooks: ForwardHooks::default(),
        };
        norm.reset_parameters();
        norm
    }

    fn reset_parameters(&mut self) {
        let shape: Vec<i64> = self.shape.iter().map(|&v| v.max(0)).collect();
        self.weight = self.affine.then(|| filled_param(&shape, 1.0));
        self.bias = (self.affine && self.use_bias).then(|| filled_param(&shape, 0.0));
    }

    /// `eps=…, <affine_name>=…, bias=…`, the end of the printout.
    fn extra_repr(&self, affine_name: &str) -> String {
        format!(
            "eps={}, {affine_name}={}, bias={}",
            py_float(self.eps),
            py_bool(self.affine),
            py_bool(self.bias.is_some())
        )
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        let mut out: Vec<NamedTensor> = self.weight.iter().map(|t| param("weight", t)).collect();
        out.extend(self.bias.iter().map(|t| param("bias", t)));
        out
    }
}

/// The builders `eps`, the affine switch (named `$affine` as PyTorch names
/// it) and `bias`, for a type holding a `norm: AffineNorm`, with the affine
/// and bias builders' docs.
macro_rules! affine_norm_options {
    ($(#[$affine_doc:meta])* $affine:ident, $(#[$bias_doc:meta])*) => {
        /// `eps`, added to the variance (default 1e-5).
        pub fn eps(mut self, eps: f64) -> Self {
            self.norm.eps = eps;
            self
        }

        $(#[$affine_doc])*
        pub fn $affine(mut self, $affine: bool) -> Self {
            self.norm.affine = $affine;
            self.norm.reset_parameters();
            self
        }

        $(#[$bias_doc])*
        pub fn bias(mut self, bias: bool) -> Self {
            self.norm.use_bias = bias;
            self.norm.reset_parameters();
            self
        }
    };
}

/// The `Module` methods every `AffineNorm` holder shares (hooks, tensors).
macro_rules! affine_norm_module {
    () => {
        fn forward_hooks(&self) -> Option<&ForwardHooks> {
            Some(&self.norm.hooks)
        }

        fn own_tensors(&self) -> Vec<NamedTensor> {
            self.norm.own_tensors()
        }
    };
}

/// `nn.LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True,
/// bias=True)`: normalises over the last dimensions (`normalized_shape`,
/// an int or a list) of each sample. Parameters `weight` (ones) and `bias`
/// (zeros) of shape `normalized_shape`.
///
/// ```
/// use cnn_lab::*;
/// let ln = LayerNorm::new(8);
/// assert_eq!(ln.to_string(), "LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)");
/// assert_eq!(
///     LayerNorm::new([4, 5]).eps(1e-3).elementwise_affine(false).to_string(),
///     "LayerNorm((4, 5), eps=0.001, elementwise_affine=False, bias=False)"
/// );
/// let x = Tensor::randn([2, 3, 8], (Kind::Float, Device::Cpu));
/// assert_eq!(ln.forward_t(&x, false).size(), [2, 3, 8]);
/// ```
pub struct LayerNorm {
    /// `shape` is `normalized_shape`.
    norm: AffineNorm,
}

impl LayerNorm {
    /// Layer normalisation over the trailing `normalized_shape`.
    pub fn new(normalized_shape: impl IntoShape) -> LayerNorm {
        LayerNorm {
            norm: AffineNorm::new(normalized_shape.into_shape()),
        }
    }

    affine_norm_options!(
        /// `elementwise_affine` (default `true`): learnable `weight` and `bias`.
        elementwise_affine,
        /// `bias` (default `true`): with `elementwise_affine`, a learnable `bias`.
    );
}

impl Module for LayerNorm {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            let n = &self.norm;
            let (weight, bias) = (n.weight.as_ref(), n.bias.as_ref());
            xs.layer_norm(n.shape.as_slice(), weight, bias, n.eps, true)
        })
    }

    fn type_name(&self) -> String {
        "LayerNorm".into()
    }

    fn extra_repr(&self) -> String {
        let shape = py_tuple(&self.norm.shape);
        format!("{shape}, {}", self.norm.extra_repr("elementwise_affine"))
    }

    affine_norm_module!();
}

/// `nn.GroupNorm(num_groups, num_channels, eps=1e-05, affine=True, *,
/// bias=True)`: normalises each sample over groups of channels (with the
/// spatial dimensions). Parameters `weight` (ones) and `bias` (zeros),
/// `[num_channels]`.
///
/// ```
/// use cnn_lab::*;
/// let gn = GroupNorm::new(2, 8);
/// assert_eq!(gn.to_string(), "GroupNorm(2, 8, eps=1e-05, affine=True, bias=True)");
/// let err = GroupNorm::new(3, 8).validate().unwrap_err().to_string();
/// assert!(err.contains("num_channels (8) must be divisible by num_groups (3)"), "{err}");
/// ```
pub struct GroupNorm {
    num_groups: i64,
    num_channels: i64,
    /// `shape` is `[num_channels]`.
    norm: AffineNorm,
}

impl GroupNorm {
    /// Group normalisation of `num_channels` channels in `num_groups` groups.
    pub fn new(num_groups: i64, num_channels: i64) -> GroupNorm {
        GroupNorm {
            num_groups,
            num_channels,
            norm: AffineNorm::new(vec![num_channels]),
        }
    }

    affine_norm_options!(
        /// `affine` (default `true`): learnable per-channel `weight` and `bias`.
        affine,
        /// `bias` (keyword-only, default `true`): with `affine`, a learnable `bias`.
    );
}

impl Module for GroupNorm {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            let n = &self.norm;
            let (weight, bias) = (n.weight.as_ref(), n.bias.as_ref());
            xs.group_norm(self.num_groups, weight, bias, n.eps, true)
        })
    }

    fn type_name(&self) -> String {
        "GroupNorm".into()
    }

    fn extra_repr(&self) -> String {
        let (groups, channels) = (self.num_groups, self.num_channels);
        format!("{groups}, {channels}, {}", self.norm.extra_repr("affine"))
    }

    affine_norm_module!();

    fn config_error(&self) -> Option<String> {
        if self.num_groups <= 0 {
            return Some(format!(
                "num_groups must be positive, got {}",
                self.num_groups
            ));
        }
        (self.num_channels % self.num_groups != 0).then(|| {
            format!(
                "num_channels ({}) must be divisible by num_groups ({})",
                self.num_channels, self.num_groups
            )
        })
    }
}

layer_traits!(LayerNorm, GroupNorm);
