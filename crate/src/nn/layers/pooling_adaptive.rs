//! `nn.AdaptiveAvgPool2d` and `nn.AdaptiveMaxPool2d`: pooling to a fixed
//! output size whatever the input's (global average pooling is
//! `AdaptiveAvgPool2d::new(1)`). One type, [`AdaptivePoolNd`], for the
//! output size's type and the kind of pooling; another number of dimensions
//! is an output-size type with an [`AdaptiveSize`] impl and two aliases.

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

/// An adaptive pool's output size for one number of spatial dimensions
/// ([`OutputSize2`] for [`AdaptiveAvgPool2d`] and [`AdaptiveMaxPool2d`]).
/// Implemented by the crate only.
///
/// ```
/// use cnn_lab::*;
/// fn name<S: AdaptiveSize>(pool: &AdaptivePoolNd<S, false>) -> String {
///     pool.type_name()
/// }
/// assert_eq!(name(&AdaptiveAvgPool2d::new(1)), "AdaptiveAvgPool2d");
/// ```
pub trait AdaptiveSize: dims::AdaptiveDims {}

impl<S: dims::AdaptiveDims> AdaptiveSize for S {}

mod dims {
    use super::*;

    /// What [`AdaptiveSize`](super::AdaptiveSize) hides: libtorch's calls
    /// and the check for this number of dimensions.
    pub trait AdaptiveDims: Copy + fmt::Display {
        /// The number of spatial dimensions.
        const DIMS: usize;
        /// Why PyTorch rejects this output size, if it does.
        fn problem(self) -> Option<String>;
        /// `F.adaptive_avg_poolNd`.
        fn avg_pool(self, xs: &Tensor) -> Tensor;
        /// `F.adaptive_max_poolNd` without the indices.
        fn max_pool(self, xs: &Tensor) -> Tensor;
    }

    impl AdaptiveDims for OutputSize2 {
        const DIMS: usize = 2;

        fn problem(self) -> Option<String> {
            let (h, w) = (self.h.unwrap_or(0), self.w.unwrap_or(0));
            (h < 0 || w < 0).then(|| {
                format!(
                    "elements of output_size must be greater than or equal to 0 but received {{{h}, {w}}}"
                )
            })
        }

        fn avg_pool(self, xs: &Tensor) -> Tensor {
            xs.adaptive_avg_pool2d(self.resolve(spatial(xs)))
        }

        fn max_pool(self, xs: &Tensor) -> Tensor {
            xs.adaptive_max_pool2d(self.resolve(spatial(xs))).0
        }
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
pub type AdaptiveAvgPool2d = AdaptivePoolNd<OutputSize2, false>;

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
pub type AdaptiveMaxPool2d = AdaptivePoolNd<OutputSize2, true>;

/// Adaptive max (`MAX = true`) or average pooling to an output size of type
/// `S`: [`AdaptiveAvgPool2d`] and [`AdaptiveMaxPool2d`]. No parameters.
///
/// ```
/// use cnn_lab::*;
/// let pool: AdaptivePoolNd<OutputSize2, true> = AdaptiveMaxPool2d::new((3, 3));
/// assert_eq!(pool.to_string(), "AdaptiveMaxPool2d(output_size=(3, 3))");
/// ```
pub struct AdaptivePoolNd<S: AdaptiveSize, const MAX: bool> {
    output_size: S,
    hooks: ForwardHooks,
}

impl<S: AdaptiveSize, const MAX: bool> AdaptivePoolNd<S, MAX> {
    /// Pooling to `output_size`.
    pub fn new(output_size: impl Into<S>) -> Self {
        AdaptivePoolNd {
            output_size: output_size.into(),
            hooks: ForwardHooks::default(),
        }
    }
}

impl<S: AdaptiveSize, const MAX: bool> Module for AdaptivePoolNd<S, MAX> {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            if MAX {
                self.output_size.max_pool(xs)
            } else {
                self.output_size.avg_pool(xs)
            }
        })
    }

    fn type_name(&self) -> String {
        let kind = if MAX { "Max" } else { "Avg" };
        format!("Adaptive{kind}Pool{}d", S::DIMS)
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("output_size={}", self.output_size)
    }

    fn config_error(&self) -> Option<String> {
        self.output_size.problem()
    }
}

layer_traits!(AdaptiveAvgPool2d, AdaptiveMaxPool2d);
