//! `nn.AdaptiveAvgPool2d` and `nn.AdaptiveMaxPool2d`: pooling to a fixed
//! output size whatever the input's (global average pooling is
//! `AdaptiveAvgPool2d::new(1)`).

use std::fmt;

use tch::Tensor;

use super::assert_valid;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;

/// An adaptive pool's `output_size`: an int, an `(h, w)` tuple, or a tuple
/// with `None` where the input's size is kept (`(None, Some(7))` for
/// PyTorch's `(None, 7)`).
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(OutputSize2::from(7).to_string(), "7");
/// assert_eq!(OutputSize2::from((None, Some(7))).to_string(), "(None, 7)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputSize2 {
    h: Option<i64>,
    w: Option<i64>,
    /// Given as one int (printed so).
    single: bool,
}

impl OutputSize2 {
    /// `(h, w)` for an input of `input` `(h, w)`.
    fn resolve(self, input: (i64, i64)) -> [i64; 2] {
        [self.h.unwrap_or(input.0), self.w.unwrap_or(input.1)]
    }
}

impl From<i64> for OutputSize2 {
    fn from(v: i64) -> Self {
        OutputSize2 {
            h: Some(v),
            w: Some(v),
            single: true,
        }
    }
}
impl From<i32> for OutputSize2 {
    fn from(v: i32) -> Self {
        i64::from(v).into()
    }
}
impl From<(i64, i64)> for OutputSize2 {
    fn from((h, w): (i64, i64)) -> Self {
        (Some(h), Some(w)).into()
    }
}
impl From<(i32, i32)> for OutputSize2 {
    fn from((h, w): (i32, i32)) -> Self {
        (i64::from(h), i64::from(w)).into()
    }
}
impl From<(Option<i64>, Option<i64>)> for OutputSize2 {
    fn from((h, w): (Option<i64>, Option<i64>)) -> Self {
        OutputSize2 {
            h,
            w,
            single: false,
        }
    }
}

impl fmt::Display for OutputSize2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = |v: Option<i64>| v.map_or("None".to_string(), |v| v.to_string());
        if self.single {
            f.write_str(&one(self.h))
        } else {
            write!(f, "({}, {})", one(self.h), one(self.w))
        }
    }
}

fn output_size_problem(output_size: OutputSize2) -> Option<String> {
    let (h, w) = (output_size.h.unwrap_or(0), output_size.w.unwrap_or(0));
    (h < 0 || w < 0).then(|| {
        format!(
            "elements of output_size must be greater than or equal to 0 but received {{{h}, {w}}}"
        )
    })
}

/// The input's last two sizes (what `None` in an output size keeps).
fn spatial(xs: &Tensor) -> (i64, i64) {
    let size = xs.size();
    let n = size.len();
    if n >= 2 {
        (size[n - 2], size[n - 1])
    } else {
        (1, 1)
    }
}

/// `nn.AdaptiveAvgPool2d(output_size)`: averages over windows chosen so
/// that the output is `output_size` (an int, an `(h, w)` tuple, or
/// `(None, Some(w))`-style to keep one of the input's sizes).
///
/// ```
/// use cnn_lab::*;
/// let gap = AdaptiveAvgPool2d::new(1);
/// assert_eq!(gap.to_string(), "AdaptiveAvgPool2d(output_size=1)");
/// let x = Tensor::ones([2, 8, 7, 5], (Kind::Float, Device::Cpu));
/// assert_eq!(gap.forward_t(&x, false).size(), [2, 8, 1, 1]);
/// assert_eq!(AdaptiveAvgPool2d::new((2, 3)).to_string(), "AdaptiveAvgPool2d(output_size=(2, 3))");
/// let rows = AdaptiveAvgPool2d::new((None, Some(1)));
/// assert_eq!(rows.to_string(), "AdaptiveAvgPool2d(output_size=(None, 1))");
/// assert_eq!(rows.forward_t(&x, false).size(), [2, 8, 7, 1]);
/// ```
pub struct AdaptiveAvgPool2d {
    output_size: OutputSize2,
    hooks: ForwardHooks,
}

impl AdaptiveAvgPool2d {
    /// Average pooling to `output_size`.
    pub fn new(output_size: impl Into<OutputSize2>) -> AdaptiveAvgPool2d {
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
            xs.adaptive_avg_pool2d(self.output_size.resolve(spatial(xs)))
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
    output_size: OutputSize2,
    hooks: ForwardHooks,
}

impl AdaptiveMaxPool2d {
    /// Max pooling to `output_size`.
    pub fn new(output_size: impl Into<OutputSize2>) -> AdaptiveMaxPool2d {
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
            xs.adaptive_max_pool2d(self.output_size.resolve(spatial(xs)))
                .0
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
