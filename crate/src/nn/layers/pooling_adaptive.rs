//! `nn.AdaptiveAvgPool2d` and `nn.AdaptiveMaxPool2d`: pooling to a fixed
//! output size whatever the input's (global average pooling is
//! `AdaptiveAvgPool2d::new(1)`).

use tch::Tensor;

use super::assert_valid;
use crate::nn::args::Size2;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;

fn output_size_problem(output_size: Size2) -> Option<String> {
    let (h, w) = output_size.pair();
    (h < 0 || w < 0).then(|| {
        format!(
            "elements of output_size must be greater than or equal to 0 but received {{{h}, {w}}}"
        )
    })
}

/// `nn.AdaptiveAvgPool2d(output_size)`: averages over windows chosen so
/// that the output is `output_size` (an int or an `(h, w)` tuple).
///
/// ```
/// use cnn_lab::*;
/// let gap = AdaptiveAvgPool2d::new(1);
/// assert_eq!(gap.to_string(), "AdaptiveAvgPool2d(output_size=1)");
/// let x = Tensor::ones([2, 8, 7, 5], (Kind::Float, Device::Cpu));
/// assert_eq!(gap.forward_t(&x, false).size(), [2, 8, 1, 1]);
/// assert_eq!(AdaptiveAvgPool2d::new((2, 3)).to_string(), "AdaptiveAvgPool2d(output_size=(2, 3))");
/// ```
pub struct AdaptiveAvgPool2d {
    output_size: Size2,
    hooks: ForwardHooks,
}

impl AdaptiveAvgPool2d {
    /// Average pooling to `output_size`.
    pub fn new(output_size: impl Into<Size2>) -> AdaptiveAvgPool2d {
        AdaptiveAvgPool2d {
            output_size: output_size.into(),
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for AdaptiveAvgPool2d {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.adaptive_avg_pool2d(self.output_size.list())
        })
    }

    fn type_name(&self) -> String {
        "AdaptiveAvgPool2d".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("output_size={}", self.output_size)
    }

    fn config_error(&self) -> Option<String> {
        output_size_problem(self.output_size)
    }
}

/// `nn.AdaptiveMaxPool2d(output_size, return_indices=False)`: the maximum
/// over windows chosen so that the output is `output_size`.
///
/// ```
/// use cnn_lab::*;
/// let pool = AdaptiveMaxPool2d::new(2);
/// assert_eq!(pool.to_string(), "AdaptiveMaxPool2d(output_size=2)");
/// let x = Tensor::ones([2, 8, 7, 5], (Kind::Float, Device::Cpu));
/// assert_eq!(pool.forward_t(&x, false).size(), [2, 8, 2, 2]);
/// ```
pub struct AdaptiveMaxPool2d {
    output_size: Size2,
    hooks: ForwardHooks,
}

impl AdaptiveMaxPool2d {
    /// Max pooling to `output_size`.
    pub fn new(output_size: impl Into<Size2>) -> AdaptiveMaxPool2d {
        AdaptiveMaxPool2d {
            output_size: output_size.into(),
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for AdaptiveMaxPool2d {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.adaptive_max_pool2d(self.output_size.list()).0
        })
    }

    fn type_name(&self) -> String {
        "AdaptiveMaxPool2d".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("output_size={}", self.output_size)
    }

    fn config_error(&self) -> Option<String> {
        output_size_problem(self.output_size)
    }
}

layer_traits!(AdaptiveAvgPool2d, AdaptiveMaxPool2d);
