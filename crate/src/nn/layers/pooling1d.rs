//! `nn.MaxPool1d` and `nn.AvgPool1d`, over inputs `[N, C, L]`.

use tch::Tensor;

use super::assert_valid;
use super::conv_core::py_tuple;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;
use crate::pyfmt::py_bool;

fn pool1d_problem(kernel: i64, stride: i64, padding: i64) -> Option<String> {
    if kernel <= 0 || stride <= 0 {
        return Some(format!(
            "kernel_size and stride must be positive, got {kernel} and {stride}"
        ));
    }
    (padding < 0 || padding > kernel / 2).then(|| {
        format!(
            "pad should be at most half of effective kernel size, but got pad={padding}, kernel_size={kernel} and dilation=1"
        )
    })
}

/// `nn.MaxPool1d(kernel_size, stride=None, padding=0, dilation=1,
/// ceil_mode=False)`; `stride` defaults to `kernel_size`.
///
/// ```
/// use cnn_lab::*;
/// let pool = MaxPool1d::new(2);
/// assert_eq!(pool.to_string(), "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
/// let x = Tensor::zeros([4, 3, 20], (Kind::Float, Device::Cpu));
/// assert_eq!(pool.forward_t(&x, false).size(), [4, 3, 10]);
/// ```
pub struct MaxPool1d {
    kernel_size: i64,
    stride: Option<i64>,
    padding: i64,
    dilation: i64,
    ceil_mode: bool,
    hooks: ForwardHooks,
}

impl MaxPool1d {
    /// Max pooling over windows of `kernel_size`.
    pub fn new(kernel_size: i64) -> MaxPool1d {
        MaxPool1d {
            kernel_size,
            stride: None,
            padding: 0,
            dilation: 1,
            ceil_mode: false,
            hooks: ForwardHooks::default(),
        }
    }

    /// `stride` (default: `kernel_size`).
    pub fn stride(mut self, stride: i64) -> Self {
        self.stride = Some(stride);
        self
    }

    /// `padding` (default 0), at most half the kernel.
    pub fn padding(mut self, padding: i64) -> Self {
        self.padding = padding;
        self
    }

    /// `dilation` (default 1).
    pub fn dilation(mut self, dilation: i64) -> Self {
        self.dilation = dilation;
        self
    }

    /// `ceil_mode` (default `false`): round the output size up.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }
}

impl Module for MaxPool1d {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.max_pool1d(
                [self.kernel_size],
                [self.stride.unwrap_or(self.kernel_size)],
                [self.padding],
                [self.dilation],
                self.ceil_mode,
            )
        })
    }

    fn type_name(&self) -> String {
        "MaxPool1d".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={}",
            self.kernel_size,
            self.stride.unwrap_or(self.kernel_size),
            self.padding,
            self.dilation,
            py_bool(self.ceil_mode)
        )
    }

    fn config_error(&self) -> Option<String> {
        if self.dilation <= 0 {
            return Some(format!("dilation must be positive, got {}", self.dilation));
        }
        let stride = self.stride.unwrap_or(self.kernel_size);
        pool1d_problem(self.kernel_size, stride, self.padding)
    }
}

/// `nn.AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False,
/// count_include_pad=True)`; `stride` defaults to `kernel_size`.
///
/// ```
/// use cnn_lab::*;
/// let pool = AvgPool1d::new(3).stride(2).padding(1);
/// assert_eq!(pool.to_string(), "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))");
/// let x = Tensor::zeros([4, 3, 20], (Kind::Float, Device::Cpu));
/// assert_eq!(pool.forward_t(&x, false).size(), [4, 3, 10]);
/// ```
pub struct AvgPool1d {
    kernel_size: i64,
    stride: Option<i64>,
    padding: i64,
    ceil_mode: bool,
    count_include_pad: bool,
    hooks: ForwardHooks,
}

impl AvgPool1d {
    /// Average pooling over windows of `kernel_size`.
    pub fn new(kernel_size: i64) -> AvgPool1d {
        AvgPool1d {
            kernel_size,
            stride: None,
            padding: 0,
            ceil_mode: false,
            count_include_pad: true,
            hooks: ForwardHooks::default(),
        }
    }

    /// `stride` (default: `kernel_size`).
    pub fn stride(mut self, stride: i64) -> Self {
        self.stride = Some(stride);
        self
    }

    /// `padding` (default 0), at most half the kernel.
    pub fn padding(mut self, padding: i64) -> Self {
        self.padding = padding;
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
}

impl Module for AvgPool1d {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.avg_pool1d(
                [self.kernel_size],
                [self.stride.unwrap_or(self.kernel_size)],
                [self.padding],
                self.ceil_mode,
                self.count_include_pad,
            )
        })
    }

    fn type_name(&self) -> String {
        "AvgPool1d".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "kernel_size={}, stride={}, padding={}",
            py_tuple(&[self.kernel_size]),
            py_tuple(&[self.stride.unwrap_or(self.kernel_size)]),
            py_tuple(&[self.padding])
        )
    }

    fn config_error(&self) -> Option<String> {
        let stride = self.stride.unwrap_or(self.kernel_size);
        pool1d_problem(self.kernel_size, stride, self.padding)
    }
}

layer_traits!(MaxPool1d, AvgPool1d);
