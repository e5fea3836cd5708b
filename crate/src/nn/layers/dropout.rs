//! `nn.Dropout` (its training-mode mask is a speed-up: see
//! [`speedups`](crate::nn::speedups)), `nn.Dropout1d` and `nn.Dropout2d`.

use tch::Tensor;

use super::assert_valid;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::{header_line, Module};
use crate::nn::speedups::dropout_mask;
use crate::pyfmt::py_float;

/// `nn.Dropout(p=0.5)`: in training mode zeroes each element with
/// probability `p` and scales the rest by `1/(1-p)`; the identity in eval mode.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Dropout::new(0.3).to_string(), "Dropout(p=0.3, inplace=False)");
/// ```
pub struct Dropout {
    p: f64,
    inplace: bool,
    hooks: ForwardHooks,
}

impl Dropout {
    /// Dropout with probability `p` (PyTorch's default is 0.5: [`Dropout::default`]).
    pub fn new(p: f64) -> Dropout {
        Dropout {
            p,
            inplace: false,
            hooks: ForwardHooks::default(),
        }
    }

    /// `inplace` (default `false`): printed as `inplace=True` (torchvision's
    /// MobileNetV3 and EfficientNet heads); the output is the same.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(Dropout::new(0.2).inplace(true).to_string(), "Dropout(p=0.2, inplace=True)");
    /// ```
    pub fn inplace(mut self, inplace: bool) -> Self {
        self.inplace = inplace;
        self
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl Default for Dropout {
    fn default() -> Self {
        Dropout::new(0.5)
    }
}

impl Module for Dropout {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            if train {
                dropout_mask::dropout_train(xs, self.p)
            } else {
                xs.shallow_clone()
            }
        })
    }

    fn type_name(&self) -> String {
        "Dropout".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        let inplace = if self.inplace { "True" } else { "False" };
        format!("p={}, inplace={inplace}", py_float(self.p))
    }

    fn config_error(&self) -> Option<String> {
        probability_problem(self.p)
    }
}

fn probability_problem(p: f64) -> Option<String> {
    (!(0.0..=1.0).contains(&p)).then(|| {
        format!(
            "dropout probability has to be between 0 and 1, but got {}",
            py_float(p)
        )
    })
}

/// `nn.Dropout2d(p=0.5)`: in training mode zeroes whole channels (each
/// `[H, W]` plane of an `[N, C, H, W]` or `[C, H, W]` input) with
/// probability `p` and scales the rest by `1/(1-p)`; the identity in eval
/// mode.
///
/// ```
/// use cnn_lab::*;
/// let drop = Dropout2d::new(0.2);
/// assert_eq!(drop.to_string(), "Dropout2d(p=0.2, inplace=False)");
/// let x = Tensor::ones([2, 16, 4, 4], (Kind::Float, Device::Cpu));
/// let y = drop.forward_t(&x, true);
/// // Each channel is all zeros or all 1/(1-p).
/// let per_channel = y.amax([2, 3], false) - y.amin([2, 3], false);
/// assert_eq!(per_channel.abs().max().double_value(&[]), 0.0);
/// ```
pub type Dropout2d = ChannelDropout<2>;

/// `nn.Dropout1d(p=0.5)`: whole channels of `[N, C, L]` or `[C, L]` inputs.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Dropout1d::new(0.1).to_string(), "Dropout1d(p=0.1, inplace=False)");
/// let x = Tensor::ones([2, 3, 4, 5], (Kind::Float, Device::Cpu));
/// assert!(Dropout1d::new(0.1).try_forward_t(&x, true).is_err());
/// ```
pub type Dropout1d = ChannelDropout<1>;

/// Channel dropout for inputs with `DIMS` spatial dimensions: [`Dropout1d`]
/// and [`Dropout2d`] (PyTorch's `_DropoutNd`).
///
/// ```
/// use cnn_lab::*;
/// let drop: ChannelDropout<2> = Dropout2d::default();
/// assert_eq!(drop.p(), 0.5);
/// ```
pub struct ChannelDropout<const DIMS: usize> {
    p: f64,
    hooks: ForwardHooks,
}

impl<const DIMS: usize> ChannelDropout<DIMS> {
    /// Channel dropout with probability `p` (PyTorch's default is 0.5: `default()`).
    pub fn new(p: f64) -> Self {
        ChannelDropout {
            p,
            hooks: ForwardHooks::default(),
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl<const DIMS: usize> Default for ChannelDropout<DIMS> {
    fn default() -> Self {
        ChannelDropout::new(0.5)
    }
}

impl<const DIMS: usize> Module for ChannelDropout<DIMS> {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            let dim = xs.dim();
            if DIMS == 1 {
                assert!(
                    dim == 2 || dim == 3,
                    "{}: dropout1d: Expected 2D or 3D input, but received a {dim}D input",
                    header_line(self)
                );
            }
            if !train {
                return xs.shallow_clone();
            }
            // As F.dropout1d/2d: without a batch dimension the input is one sample.
            if dim == DIMS + 1 {
                xs.unsqueeze(0).feature_dropout(self.p, true).squeeze_dim(0)
            } else {
                xs.feature_dropout(self.p, true)
            }
        })
    }

    fn type_name(&self) -> String {
        format!("Dropout{DIMS}d")
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("p={}, inplace=False", py_float(self.p))
    }

    fn config_error(&self) -> Option<String> {
        probability_problem(self.p)
    }
}

layer_traits!(Dropout, Dropout1d, Dropout2d);
