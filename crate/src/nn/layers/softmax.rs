//! `nn.Softmax`, `nn.Softmin`, `nn.LogSoftmax` and `nn.Softmax2d`
//! (`torch/nn/modules/activation.py`).

use tch::Tensor;

use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;

/// `nn.Softmax(dim)`: `exp(x) / sum(exp(x))` along `dim`, e.g.
/// `Softmax::new(1)` turns a classifier's logits `[N, classes]` into
/// probabilities. A `dim` outside the input is an error from
/// `try_forward_t`/`summary`, as PyTorch's `IndexError`.
///
/// ```
/// use cnn_lab::*;
/// let softmax = Softmax::new(1);
/// assert_eq!(softmax.to_string(), "Softmax(dim=1)");
/// let p = softmax.forward_t(&Tensor::from_slice(&[1.0f32, 1.0]).view([1, 2]), false);
/// assert_eq!(p.double_value(&[0, 1]), 0.5);
/// ```
pub struct Softmax {
    dim: i64,
    hooks: ForwardHooks,
}

impl Softmax {
    /// Softmax along `dim` (negative counts from the end).
    pub fn new(dim: i64) -> Softmax {
        Softmax {
            dim,
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for Softmax {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || xs.softmax(self.dim, None))
    }

    fn type_name(&self) -> String {
        "Softmax".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("dim={}", self.dim)
    }
}

/// `nn.Softmin(dim)`: `softmax(-x)` along `dim`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Softmin::new(1).to_string(), "Softmin(dim=1)");
/// ```
pub struct Softmin {
    dim: i64,
    hooks: ForwardHooks,
}

impl Softmin {
    /// Softmin along `dim`.
    pub fn new(dim: i64) -> Softmin {
        Softmin {
            dim,
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for Softmin {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || xs.neg().softmax(self.dim, None))
    }

    fn type_name(&self) -> String {
        "Softmin".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("dim={}", self.dim)
    }
}

/// `nn.LogSoftmax(dim)`: `log(softmax(x))` along `dim`, computed stably
/// (what `NLLLoss` expects).
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(LogSoftmax::new(1).to_string(), "LogSoftmax(dim=1)");
/// ```
pub struct LogSoftmax {
    dim: i64,
    hooks: ForwardHooks,
}

impl LogSoftmax {
    /// Log-softmax along `dim`.
    pub fn new(dim: i64) -> LogSoftmax {
        LogSoftmax {
            dim,
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for LogSoftmax {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || xs.log_softmax(self.dim, None))
    }

    fn type_name(&self) -> String {
        "LogSoftmax".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("dim={}", self.dim)
    }
}

simple_layer!(
    /// `nn.Softmax2d()`: softmax over the channels at each location of a
    /// `[N, C, H, W]` or `[C, H, W]` input.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(Softmax2d::new().to_string(), "Softmax2d()");
    /// let p = Softmax2d::new().forward_t(&Tensor::zeros([1, 4, 2, 2], (Kind::Float, Device::Cpu)), false);
    /// assert_eq!(p.double_value(&[0, 3, 1, 1]), 0.25);
    /// ```
    Softmax2d,
    |xs| {
        let dim = xs.dim();
        assert!(
            dim == 3 || dim == 4,
            "Softmax2d(): expected input to be 3D or 4D, got {dim}D instead"
        );
        xs.softmax(-3, None)
    }
);

layer_traits!(Softmax, Softmin, LogSoftmax);
