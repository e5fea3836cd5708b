//! `nn.MaxPool1d`, `nn.MaxPool2d`, `nn.AvgPool1d` and `nn.AvgPool2d`: one
//! type, [`PoolNd`] (PyTorch's `_MaxPoolNd` and `_AvgPoolNd`), for the
//! window's size type and the kind of pooling. What differs between the
//! dimensions — libtorch's functions, the checks with their messages and
//! `AvgPool1d`'s tuple printout — is the size type's [`PoolSize`] impl, so a
//! 3-d pooling is one more impl and two aliases.

use std::fmt;

use tch::Tensor;

use super::assert_valid;
use super::conv_core::py_tuple;
use crate::error::Result;
use crate::nn::args::{pool_output_size, pool_problem, Size2};
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;
use crate::pyfmt::py_bool;

/// `nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1,
/// ceil_mode=False)`; `stride` defaults to `kernel_size`. Padding is
/// implicit negative infinity and may be at most half the kernel.
///
/// ```
/// use cnn_lab::*;
/// let pool = MaxPool2d::new(2).stride(2).padding(1);
/// assert_eq!(pool.to_string(), "MaxPool2d(kernel_size=2, stride=2, padding=1, dilation=1, ceil_mode=False)");
/// assert_eq!(pool.output_size((7, 7))?, (4, 4));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub type MaxPool2d = PoolNd<Size2, true>;

/// `nn.AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False,
/// count_include_pad=True, divisor_override=None)`; `stride` defaults to
/// `kernel_size`. Padding is implicit zeros, counted in the average unless
/// `count_include_pad(false)`, and may be at most half the kernel.
///
/// ```
/// use cnn_lab::*;
/// let pool = AvgPool2d::new(2);
/// assert_eq!(pool.to_string(), "AvgPool2d(kernel_size=2, stride=2, padding=0)");
/// let x = Tensor::ones([1, 1, 4, 4], (Kind::Float, Device::Cpu));
/// assert_eq!(pool.forward_t(&x, false).size(), [1, 1, 2, 2]);
/// assert_eq!(AvgPool2d::new((2, 3)).stride(1).padding(1).output_size((6, 6))?, (7, 6));
/// assert!(AvgPool2d::new(2).divisor_override(0).validate().is_err());
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub type AvgPool2d = PoolNd<Size2, false>;

/// `nn.MaxPool1d(kernel_size, stride=None, padding=0, dilation=1,
/// ceil_mode=False)` over inputs `[N, C, L]`; `stride` defaults to
/// `kernel_size`.
///
/// ```
/// use cnn_lab::*;
/// let pool = MaxPool1d::new(2);
/// assert_eq!(pool.to_string(), "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
/// let x = Tensor::zeros([4, 3, 20], (Kind::Float, Device::Cpu));
/// assert_eq!(pool.forward_t(&x, false).size(), [4, 3, 10]);
/// ```
pub type MaxPool1d = PoolNd<i64, true>;

/// `nn.AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False,
/// count_include_pad=True)` over inputs `[N, C, L]`; `stride` defaults to
/// `kernel_size`.
///
/// ```
/// use cnn_lab::*;
/// let pool = AvgPool1d::new(3).stride(2).padding(1);
/// assert_eq!(pool.to_string(), "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))");
/// let x = Tensor::zeros([4, 3, 20], (Kind::Float, Device::Cpu));
/// assert_eq!(pool.forward_t(&x, false).size(), [4, 3, 10]);
/// ```
pub type AvgPool1d = PoolNd<i64, false>;

/// A pooling window's size for one number of spatial dimensions: `i64` for
/// [`MaxPool1d`] and [`AvgPool1d`], [`Size2`] (an int or an `(h, w)` pair)
/// for [`MaxPool2d`] and [`AvgPool2d`]. Implemented by the crate only.
///
/// ```
/// use cnn_lab::*;
/// fn describe<S: PoolSize>(pool: &PoolNd<S, true>) -> String {
///     format!("{}({})", pool.type_name(), pool.extra_repr())
/// }
/// assert_eq!(describe(&MaxPool1d::new(3)), MaxPool1d::new(3).to_string());
/// ```
pub trait PoolSize: dims::PoolDims {}

impl<S: dims::PoolDims> PoolSize for S {}

mod dims {
    use super::*;

    /// What [`PoolSize`](super::PoolSize) hides: libtorch's calls and the
    /// checks for this number of dimensions.
    pub trait PoolDims: Copy + fmt::Display {
        /// The number of spatial dimensions (the `N` of `MaxPoolNd`).
        const DIMS: usize;
        /// The same value in every dimension.
        fn splat(v: i64) -> Self;
        /// How `AvgPoolNd` prints it (`AvgPool1d` stores a tuple).
        fn avg_repr(self) -> String;
        /// What `MaxPoolNd`/`AvgPoolNd` reject (`dilation` is 1 for average pooling).
        fn problem(kernel: Self, stride: Self, padding: Self, dilation: Self) -> Option<String>;
        /// `F.max_poolNd`.
        fn max_pool(xs: &Tensor, k: Self, s: Self, p: Self, d: Self, ceil: bool) -> Tensor;
        /// `F.avg_poolNd` (`divisor` is only ever set for 2-d).
        #[allow(clippy::too_many_arguments)]
        fn avg_pool(
            xs: &Tensor,
            k: Self,
            s: Self,
            p: Self,
            ceil: bool,
            count_include_pad: bool,
            divisor: Option<i64>,
        ) -> Tensor;
    }

    impl PoolDims for i64 {
        const DIMS: usize = 1;

        fn splat(v: i64) -> Self {
            v
        }

        fn avg_repr(self) -> String {
            py_tuple(&[self])
        }

        fn problem(kernel: i64, stride: i64, padding: i64, dilation: i64) -> Option<String> {
            if dilation <= 0 {
                return Some(format!("dilation must be positive, got {dilation}"));
            }
            if kernel <= 0 || stride <= 0 {
                return Some(format!(
                    "kernel_size and stride must be positive, got {kernel} and {stride}"
                ));
            }
            // As libtorch's max_pool1d: half the kernel, whatever the dilation.
            (padding < 0 || padding > kernel / 2).then(|| {
                format!(
                    "pad should be at most half of effective kernel size, but got pad={padding}, kernel_size={kernel} and dilation=1"
                )
            })
        }

        fn max_pool(xs: &Tensor, k: i64, s: i64, p: i64, d: i64, ceil: bool) -> Tensor {
            xs.max_pool1d([k], [s], [p], [d], ceil)
        }

        fn avg_pool(
            xs: &Tensor,
            k: i64,
            s: i64,
            p: i64,
            ceil: bool,
            count_include_pad: bool,
            _divisor: Option<i64>,
        ) -> Tensor {
            xs.avg_pool1d([k], [s], [p], ceil, count_include_pad)
        }
    }

    impl PoolDims for Size2 {
        const DIMS: usize = 2;

        fn splat(v: i64) -> Self {
            Size2::Int(v)
        }

        fn avg_repr(self) -> String {
            self.to_string()
        }

        fn problem(
            kernel: Size2,
            stride: Size2,
            padding: Size2,
            dilation: Size2,
        ) -> Option<String> {
            pool_problem(kernel, stride, padding, dilation)
        }

        fn max_pool(xs: &Tensor, k: Size2, s: Size2, p: Size2, d: Size2, ceil: bool) -> Tensor {
            xs.max_pool2d(k.list(), s.list(), p.list(), d.list(), ceil)
        }

        fn avg_pool(
            xs: &Tensor,
            k: Size2,
            s: Size2,
            p: Size2,
            ceil: bool,
            count_include_pad: bool,
            divisor: Option<i64>,
        ) -> Tensor {
            xs.avg_pool2d(
                k.list(),
                s.list(),
                p.list(),
                ceil,
                count_include_pad,
                divisor,
            )
        }
    }
}

/// Max (`MAX = true`) or average pooling over windows of size type `S`:
/// [`MaxPool1d`], [`MaxPool2d`], [`AvgPool1d`] and [`AvgPool2d`], whose pages
/// give PyTorch's signatures. No parameters; `stride` defaults to
/// `kernel_size`.
///
/// ```
/// use cnn_lab::*;
/// let pool: PoolNd<Size2, true> = MaxPool2d::new(3).stride(2).ceil_mode(true);
/// assert_eq!(pool.to_string(), "MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=True)");
/// assert_eq!(pool.output_size((112, 112))?, (56, 56));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub struct PoolNd<S: PoolSize, const MAX: bool> {
    kernel_size: S,
    stride: Option<S>,
    padding: S,
    /// 1 for average pooling.
    dilation: S,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
    hooks: ForwardHooks,
}

impl<S: PoolSize, const MAX: bool> PoolNd<S, MAX> {
    /// Pooling over `kernel_size` windows (an int, or for 2-d an `(h, w)`
    /// tuple).
    pub fn new(kernel_size: impl Into<S>) -> Self {
        PoolNd {
            kernel_size: kernel_size.into(),
            stride: None,
            padding: S::splat(0),
            dilation: S::splat(1),
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
            hooks: ForwardHooks::default(),
        }
    }

    /// `stride` (default: `kernel_size`).
    pub fn stride(mut self, stride: impl Into<S>) -> Self {
        self.stride = Some(stride.into());
        self
    }

    /// `padding` (default 0), at most half the kernel.
    pub fn padding(mut self, padding: impl Into<S>) -> Self {
        self.padding = padding.into();
        self
    }

    /// `ceil_mode` (default `false`): round the output size up.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    fn stride_value(&self) -> S {
        self.stride.unwrap_or(self.kernel_size)
    }
}

impl<S: PoolSize> PoolNd<S, true> {
    /// `dilation` (default 1).
    pub fn dilation(mut self, dilation: impl Into<S>) -> Self {
        self.dilation = dilation.into();
        self
    }
}

impl<S: PoolSize> PoolNd<S, false> {
    /// `count_include_pad` (default `true`): count padded zeros in the average.
    pub fn count_include_pad(mut self, count_include_pad: bool) -> Self {
        self.count_include_pad = count_include_pad;
        self
    }
}

impl AvgPool2d {
    /// `divisor_override` (default none): divide every window's sum by this.
    pub fn divisor_override(mut self, divisor: i64) -> Self {
        self.divisor_override = Some(divisor);
        self
    }
}

impl<const MAX: bool> PoolNd<Size2, MAX> {
    /// Output `(h, w)` for an input of `(h, w)` ([`pool_output_size`] with
    /// this layer's settings; dilation 1 for average pooling).
    pub fn output_size(&self, input: impl Into<Size2>) -> Result<(i64, i64)> {
        pool_output_size(
            input,
            self.kernel_size,
            self.stride_value(),
            self.padding,
            self.dilation,
            self.ceil_mode,
        )
    }
}

impl<S: PoolSize, const MAX: bool> Module for PoolNd<S, MAX> {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            let (k, s, p) = (self.kernel_size, self.stride_value(), self.padding);
            if MAX {
                S::max_pool(xs, k, s, p, self.dilation, self.ceil_mode)
            } else {
                let (include, divisor) = (self.count_include_pad, self.divisor_override);
                S::avg_pool(xs, k, s, p, self.ceil_mode, include, divisor)
            }
        })
    }

    fn type_name(&self) -> String {
        let kind = if MAX { "Max" } else { "Avg" };
        format!("{kind}Pool{}d", S::DIMS)
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        let (k, s, p) = (self.kernel_size, self.stride_value(), self.padding);
        if MAX {
            format!(
                "kernel_size={k}, stride={s}, padding={p}, dilation={}, ceil_mode={}",
                self.dilation,
                py_bool(self.ceil_mode)
            )
        } else {
            let (k, s, p) = (k.avg_repr(), s.avg_repr(), p.avg_repr());
            format!("kernel_size={k}, stride={s}, padding={p}")
        }
    }

    fn config_error(&self) -> Option<String> {
        if self.divisor_override == Some(0) {
            return Some("divisor must be not zero".into());
        }
        S::problem(
            self.kernel_size,
            self.stride_value(),
            self.padding,
            self.dilation,
        )
    }
}

layer_traits!(MaxPool1d, AvgPool1d, MaxPool2d, AvgPool2d);
