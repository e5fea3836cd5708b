//! `nn.LayerNorm` and `nn.GroupNorm` (`torch/nn/modules/normalization.py`):
//! statistics of each sample, the same in training and eval mode.

use tch::Tensor;

use super::conv_core::py_tuple;
use super::{assert_valid, filled_param, param};
use crate::nn::args::IntoShape;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::{Module, NamedTensor};
use crate::pyfmt::{py_bool, py_float};

/// Learnable `(weight, bias)` of `shape`, ones and zeros, as the norm layers make them.
fn affine_params(shape: &[i64], affine: bool, bias: bool) -> (Option<Tensor>, Option<Tensor>) {
    let shape: Vec<i64> = shape.iter().map(|&v| v.max(0)).collect();
    (
        affine.then(|| filled_param(&shape, 1.0)),
        (affine && bias).then(|| filled_param(&shape, 0.0)),
    )
}

fn affine_tensors(weight: &Option<Tensor>, bias: &Option<Tensor>) -> Vec<NamedTensor> {
    let mut out: Vec<NamedTensor> = weight.iter().map(|t| param("weight", t)).collect();
    out.extend(bias.iter().map(|t| param("bias", t)));
    out
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
    normalized_shape: Vec<i64>,
    eps: f64,
    affine: bool,
    use_bias: bool,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    hooks: ForwardHooks,
}

impl LayerNorm {
    /// Layer normalisation over the trailing `normalized_shape`.
    pub fn new(normalized_shape: impl IntoShape) -> LayerNorm {
        let mut ln = LayerNorm {
            normalized_shape: normalized_shape.into_shape(),
            eps: 1e-5,
            affine: true,
            use_bias: true,
            weight: None,
            bias: None,
            hooks: ForwardHooks::default(),
        };
        ln.reset_parameters();
        ln
    }

    /// `eps`, added to the variance (default 1e-5).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// `elementwise_affine` (default `true`): learnable `weight` and `bias`.
    pub fn elementwise_affine(mut self, elementwise_affine: bool) -> Self {
        self.affine = elementwise_affine;
        self.reset_parameters();
        self
    }

    /// `bias` (default `true`): with `elementwise_affine`, a learnable `bias`.
    pub fn bias(mut self, bias: bool) -> Self {
        self.use_bias = bias;
        self.reset_parameters();
        self
    }

    fn reset_parameters(&mut self) {
        (self.weight, self.bias) =
            affine_params(&self.normalized_shape, self.affine, self.use_bias);
    }
}

impl Module for LayerNorm {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            xs.layer_norm(
                self.normalized_shape.as_slice(),
                self.weight.as_ref(),
                self.bias.as_ref(),
                self.eps,
                true,
            )
        })
    }

    fn type_name(&self) -> String {
        "LayerNorm".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "{}, eps={}, elementwise_affine={}, bias={}",
            py_tuple(&self.normalized_shape),
            py_float(self.eps),
            py_bool(self.affine),
            py_bool(self.bias.is_some())
        )
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        affine_tensors(&self.weight, &self.bias)
    }
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
    eps: f64,
    affine: bool,
    use_bias: bool,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    hooks: ForwardHooks,
}

impl GroupNorm {
    /// Group normalisation of `num_channels` channels in `num_groups` groups.
    pub fn new(num_groups: i64, num_channels: i64) -> GroupNorm {
        let mut gn = GroupNorm {
            num_groups,
            num_channels,
            eps: 1e-5,
            affine: true,
            use_bias: true,
            weight: None,
            bias: None,
            hooks: ForwardHooks::default(),
        };
        gn.reset_parameters();
        gn
    }

    /// `eps`, added to the variance (default 1e-5).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// `affine` (default `true`): learnable per-channel `weight` and `bias`.
    pub fn affine(mut self, affine: bool) -> Self {
        self.affine = affine;
        self.reset_parameters();
        self
    }

    /// `bias` (keyword-only, default `true`): with `affine`, a learnable `bias`.
    pub fn bias(mut self, bias: bool) -> Self {
        self.use_bias = bias;
        self.reset_parameters();
        self
    }

    fn reset_parameters(&mut self) {
        (self.weight, self.bias) = affine_params(&[self.num_channels], self.affine, self.use_bias);
    }
}

impl Module for GroupNorm {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.group_norm(
                self.num_groups,
                self.weight.as_ref(),
                self.bias.as_ref(),
                self.eps,
                true,
            )
        })
    }

    fn type_name(&self) -> String {
        "GroupNorm".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "{}, {}, eps={}, affine={}, bias={}",
            self.num_groups,
            self.num_channels,
            py_float(self.eps),
            py_bool(self.affine),
            py_bool(self.bias.is_some())
        )
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        affine_tensors(&self.weight, &self.bias)
    }

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
