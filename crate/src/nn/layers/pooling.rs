//! `nn.MaxPool2d` and `nn.AvgPool2d`.

use tch::Tensor;

use super::assert_valid;
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
pub struct MaxPool2d {
    kernel_size: Size2,
    stride: Option<Size2>,
    padding: Size2,
    dilation: Size2,
    ceil_mode: bool,
    hooks: ForwardHooks,
}

impl MaxPool2d {
    /// Max pooling over `kernel_size` windows (an int or an `(h, w)` tuple).
    pub fn new(kernel_size: impl Into<Size2>) -> MaxPool2d {
        MaxPool2d {
            kernel_size: kernel_size.into(),
            stride: None,
            padding: Size2::Int(0),
            dilation: Size2::Int(1),
            ceil_mode: false,
            hooks: ForwardHooks::default(),
        }
    }

    /// `stride` (default: `kernel_size`).
    pub fn stride(mut self, stride: impl Into<Size2>) -> Self {
        self.stride = Some(stride.into());
        self
    }

    /// `padding` (default 0).
    pub fn padding(mut self, padding: impl Into<Size2>) -> Self {
        self.padding = padding.into();
        self
    }

    /// `dilation` (default 1).
    pub fn dilation(mut self, dilation: impl Into<Size2>) -> Self {
        self.dilation = dilation.into();
        self
    }

    /// `ceil_mode` (default `false`): round the output size up.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    fn stride_value(&self) -> Size2 {
        self.stride.unwrap_or(self.kernel_size)
    }

    /// Output `(h, w)` for an input of `(h, w)` ([`pool_output_size`] with this layer's settings).
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

impl Module for MaxPool2d {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.max_pool2d(
                self.kernel_size.list(),
                self.stride_value().list(),
                self.padding.list(),
                self.dilation.list(),
                self.ceil_mode,
            )
        })
    }

    fn type_name(&self) -> String {
        "MaxPool2d".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={}",
            self.kernel_size,
            self.stride_value(),
            self.padding,
            self.dilation,
            py_bool(self.ceil_mode)
        )
    }

    fn config_error(&self) -> Option<String> {
        pool_problem(
            self.kernel_size,
            self.stride_value(),
            self.padding,
            self.dilation,
        )
    }
}

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
pub struct AvgPool2d {
    kernel_size: Size2,
    stride: Option<Size2>,
    padding: Size2,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
    hooks: ForwardHooks,
}

impl AvgPool2d {
    /// Average pooling over `kernel_size` windows (an int or an `(h, w)` tuple).
    pub fn new(kernel_size: impl Into<Size2>) -> AvgPool2d {
        AvgPool2d {
            kernel_size: kernel_size.into(),
            stride: None,
            padding: Size2::Int(0),
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
            hooks: ForwardHooks::default(),
        }
    }

    /// `stride` (default: `kernel_size`).
    pub fn stride(mut self, stride: impl Into<Size2>) -> Self {
        self.stride = Some(stride.into());
        self
    }

    /// `padding` (default 0).
    pub fn padding(mut self, padding: impl Into<Size2>) -> Self {
        self.padding = padding.into();
        self
    }

    /// `ceil_mode` (default `false`): round the output size up.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    /// `count_include_pad` (default `true`): count padded zeros in the average.
    pub fn count_include_pad(mut self, count_include_pad: bool) -> Self {
        self.count_include_pad = count_include_pad;
        self
    }

    /// `divisor_override` (default none): divide every window's sum by this.
    pub fn divisor_override(mut self, divisor: i64) -> Self {
        self.divisor_override = Some(divisor);
        self
    }

    fn stride_value(&self) -> Size2 {
        self.stride.unwrap_or(self.kernel_size)
    }

    /// Output `(h, w)` for an input of `(h, w)` ([`pool_output_size`] with dilation 1).
    pub fn output_size(&self, input: impl Into<Size2>) -> Result<(i64, i64)> {
        pool_output_size(
            input,
            self.kernel_size,
            self.stride_value(),
            self.padding,
            1,
            self.ceil_mode,
        )
    }
}

impl Module for AvgPool2d {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.avg_pool2d(
                self.kernel_size.list(),
                self.stride_value().list(),
                self.padding.list(),
                self.ceil_mode,
                self.count_include_pad,
                self.divisor_override,
            )
        })
    }

    fn type_name(&self) -> String {
        "AvgPool2d".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "kernel_size={}, stride={}, padding={}",
            self.kernel_size,
            self.stride_value(),
            self.padding
        )
    }

    fn config_error(&self) -> Option<String> {
        if self.divisor_override == Some(0) {
            return Some("divisor must be not zero".into());
        }
        pool_problem(
            self.kernel_size,
            self.stride_value(),
            self.padding,
            Size2::Int(1),
        )
    }
}

layer_traits!(MaxPool2d, AvgPool2d);
