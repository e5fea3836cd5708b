//! The lecture's layers with PyTorch's names, arguments, defaults, parameter
//! names and printout. Each layer owns its tensors (created on the CPU with
//! PyTorch's default initialisation; move them with
//! [`ModuleExt::to_device`](super::ModuleExt::to_device)).
//!
//! Options are builder methods with PyTorch's defaults:
//! `nn.Conv2d(1, 32, kernel_size=3, stride=1, padding="same")` is
//! `Conv2d::new(1, 32, 3).stride(1).padding("same")`. Builder methods never
//! fail; a mistake (an unknown padding string, a zero stride) is kept and
//! reported as an [`Error`](crate::Error) by
//! [`ModuleExt::validate`](super::ModuleExt::validate),
//! [`summary`](super::summary) and
//! [`ModuleExt::try_forward_t`](super::ModuleExt::try_forward_t), and as a
//! panic with the same message by a bare `forward_t`.

use std::fmt;

use tch::{Device, Kind, Tensor};

use super::speedups;
use super::summary::{record_call, record_forward};
use super::{header_line, repr_text, Module, NamedTensor};
use crate::display::{py_float, show_pre};
use crate::error::{Error, Result};

/// A 2-d size given as PyTorch accepts it: one int for both dimensions or an
/// `(h, w)` pair. It remembers which, because PyTorch's printout does
/// (`MaxPool2d(kernel_size=2, …)` vs `MaxPool2d(kernel_size=(2, 3), …)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size2 {
    /// The same value for height and width (`kernel_size=3`).
    Int(i64),
    /// `(height, width)` (`kernel_size=(3, 5)`).
    Pair(i64, i64),
}

impl Size2 {
    /// `(height, width)`.
    pub fn pair(self) -> (i64, i64) {
        match self {
            Size2::Int(v) => (v, v),
            Size2::Pair(h, w) => (h, w),
        }
    }

    fn list(self) -> [i64; 2] {
        let (h, w) = self.pair();
        [h, w]
    }

    /// The form PyTorch's `_pair` stores in conv layers: always a pair.
    fn as_pair(self) -> Size2 {
        let (h, w) = self.pair();
        Size2::Pair(h, w)
    }
}

impl fmt::Display for Size2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Size2::Int(v) => write!(f, "{v}"),
            Size2::Pair(h, w) => write!(f, "({h}, {w})"),
        }
    }
}

impl From<i64> for Size2 {
    fn from(v: i64) -> Self {
        Size2::Int(v)
    }
}
impl From<i32> for Size2 {
    fn from(v: i32) -> Self {
        Size2::Int(v.into())
    }
}
impl From<(i64, i64)> for Size2 {
    fn from((h, w): (i64, i64)) -> Self {
        Size2::Pair(h, w)
    }
}
impl From<(i32, i32)> for Size2 {
    fn from((h, w): (i32, i32)) -> Self {
        Size2::Pair(h.into(), w.into())
    }
}
impl From<[i64; 2]> for Size2 {
    fn from([h, w]: [i64; 2]) -> Self {
        Size2::Pair(h, w)
    }
}

/// A convolution's `padding`: `"same"`, `"valid"`, or explicit zeros on each
/// side (`padding=1` or `padding=(1, 2)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Output as large as the input (stride 1 only). For an even kernel the
    /// extra row/column of zeros goes at the bottom/right, as in PyTorch.
    Same,
    /// No padding.
    Valid,
    /// This many zeros on both sides of each dimension.
    Explicit(Size2),
}

impl Padding {
    /// Parses PyTorch's padding strings `"same"` and `"valid"`.
    pub fn parse(s: &str) -> Result<Padding> {
        match s {
            "same" => Ok(Padding::Same),
            "valid" => Ok(Padding::Valid),
            other => Err(Error::InvalidArgument(format!(
                "padding must be \"same\", \"valid\", an int or an (h, w) tuple, got {other:?}"
            ))),
        }
    }

    /// Zeros added before and after, per dimension `((top, bottom), (left, right))`,
    /// PyTorch's rule for `"same"`: total `dilation * (kernel - 1)`, the
    /// smaller half first.
    pub fn amounts(self, kernel: Size2, dilation: Size2) -> [(i64, i64); 2] {
        let (k, d) = (kernel.list(), dilation.list());
        match self {
            Padding::Valid => [(0, 0); 2],
            Padding::Explicit(p) => {
                let (h, w) = p.pair();
                [(h, h), (w, w)]
            }
            Padding::Same => {
                let one = |i: usize| {
                    let total = d[i] * (k[i] - 1);
                    (total / 2, total - total / 2)
                };
                [one(0), one(1)]
            }
        }
    }
}

impl fmt::Display for Padding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Padding::Same => f.write_str("same"),
            Padding::Valid => f.write_str("valid"),
            Padding::Explicit(p) => write!(f, "{p}"),
        }
    }
}

/// What `Conv2d::padding` and [`conv_output_size`] accept: `"same"`,
/// `"valid"`, an int, an `(h, w)` tuple or a [`Padding`].
pub trait IntoPadding {
    /// The padding, or why the value is not one.
    fn into_padding(self) -> Result<Padding>;
}

impl IntoPadding for Padding {
    fn into_padding(self) -> Result<Padding> {
        Ok(self)
    }
}
impl IntoPadding for &str {
    fn into_padding(self) -> Result<Padding> {
        Padding::parse(self)
    }
}
impl IntoPadding for String {
    fn into_padding(self) -> Result<Padding> {
        Padding::parse(&self)
    }
}
impl IntoPadding for Size2 {
    fn into_padding(self) -> Result<Padding> {
        Ok(Padding::Explicit(self))
    }
}
impl IntoPadding for i64 {
    fn into_padding(self) -> Result<Padding> {
        Ok(Padding::Explicit(self.into()))
    }
}
impl IntoPadding for i32 {
    fn into_padding(self) -> Result<Padding> {
        Ok(Padding::Explicit(self.into()))
    }
}
impl IntoPadding for (i64, i64) {
    fn into_padding(self) -> Result<Padding> {
        Ok(Padding::Explicit(self.into()))
    }
}
impl IntoPadding for (i32, i32) {
    fn into_padding(self) -> Result<Padding> {
        Ok(Padding::Explicit(self.into()))
    }
}

/// Output height and width of a convolution (`nn.Conv2d`) on an input of
/// `input` = `(h, w)`: `floor((in + pad_before + pad_after - dilation*(kernel-1) - 1) / stride) + 1`
/// per dimension. `"same"` keeps the size (stride 1 only, as in PyTorch).
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(conv_output_size(28, 3, 1, "same", 1)?, (28, 28));
/// assert_eq!(conv_output_size(28, 3, 1, "valid", 1)?, (26, 26));
/// assert_eq!(conv_output_size((28, 28), 5, 2, 1, 1)?, (13, 13));
/// assert!(conv_output_size(28, 3, 2, "same", 1).is_err());
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn conv_output_size(
    input: impl Into<Size2>,
    kernel_size: impl Into<Size2>,
    stride: impl Into<Size2>,
    padding: impl IntoPadding,
    dilation: impl Into<Size2>,
) -> Result<(i64, i64)> {
    let (kernel, stride, dilation) = (kernel_size.into(), stride.into(), dilation.into());
    let padding = padding.into_padding()?;
    if let Some(problem) = conv_problem(kernel, stride, padding, dilation) {
        return Err(Error::InvalidArgument(problem));
    }
    let pads = padding.amounts(kernel, dilation);
    let (i, k, s, d) = (
        input.into().list(),
        kernel.list(),
        stride.list(),
        dilation.list(),
    );
    let one =
        |n: usize| (i[n] + pads[n].0 + pads[n].1 - d[n] * (k[n] - 1) - 1).div_euclid(s[n]) + 1;
    let out = (one(0), one(1));
    if out.0 < 1 || out.1 < 1 {
        return Err(Error::Shape(format!(
            "convolution on a {:?} input with kernel {kernel}, stride {stride}, padding {padding}, dilation {dilation}: output size {out:?} is too small",
            (i[0], i[1])
        )));
    }
    Ok(out)
}

/// Output height and width of max pooling (`nn.MaxPool2d`), PyTorch's
/// `pooling_output_shape` including its `ceil_mode` rule (the last window
/// must start inside the input or its left padding).
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(pool_output_size(28, 2, 2, 0, 1, false)?, (14, 14));
/// assert_eq!(pool_output_size(7, 2, 2, 1, 1, false)?, (4, 4));
/// assert_eq!(pool_output_size(7, 2, 2, 0, 1, true)?, (4, 4));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn pool_output_size(
    input: impl Into<Size2>,
    kernel_size: impl Into<Size2>,
    stride: impl Into<Size2>,
    padding: impl Into<Size2>,
    dilation: impl Into<Size2>,
    ceil_mode: bool,
) -> Result<(i64, i64)> {
    let (kernel, stride, padding, dilation) = (
        kernel_size.into(),
        stride.into(),
        padding.into(),
        dilation.into(),
    );
    if let Some(problem) = pool_problem(kernel, stride, padding, dilation) {
        return Err(Error::InvalidArgument(problem));
    }
    let (i, k, s, p, d) = (
        input.into().list(),
        kernel.list(),
        stride.list(),
        padding.list(),
        dilation.list(),
    );
    let one = |n: usize| {
        let extra = if ceil_mode { s[n] - 1 } else { 0 };
        let mut out = (i[n] + 2 * p[n] - d[n] * (k[n] - 1) - 1 + extra).div_euclid(s[n]) + 1;
        if ceil_mode && (out - 1) * s[n] >= i[n] + p[n] {
            out -= 1;
        }
        out
    };
    let out = (one(0), one(1));
    if out.0 < 1 || out.1 < 1 {
        return Err(Error::Shape(format!(
            "max pooling on a {:?} input with kernel_size={kernel}, stride={stride}, padding={padding}, dilation={dilation}: output size {out:?} is too small",
            (i[0], i[1])
        )));
    }
    Ok(out)
}

fn positive(what: &str, s: Size2) -> Option<String> {
    let (h, w) = s.pair();
    (h <= 0 || w <= 0).then(|| format!("{what} must be positive, got {s}"))
}

fn conv_problem(kernel: Size2, stride: Size2, padding: Padding, dilation: Size2) -> Option<String> {
    positive("kernel_size", kernel)
        .or_else(|| positive("stride", stride))
        .or_else(|| positive("dilation", dilation))
        .or_else(|| match padding {
            Padding::Same if stride.pair() != (1, 1) => Some(format!(
                "padding='same' is not supported for strided convolutions (stride={stride})"
            )),
            Padding::Explicit(p) if p.pair().0 < 0 || p.pair().1 < 0 => {
                Some(format!("padding must be non-negative, got {p}"))
            }
            _ => None,
        })
}

fn pool_problem(kernel: Size2, stride: Size2, padding: Size2, dilation: Size2) -> Option<String> {
    positive("kernel_size", kernel)
        .or_else(|| positive("stride", stride))
        .or_else(|| positive("dilation", dilation))
        .or_else(|| {
            let (k, p, d) = (kernel.list(), padding.list(), dilation.list());
            (0..2).find_map(|n| {
                let half = ((k[n] - 1) * d[n] + 1) / 2;
                (p[n] < 0 || p[n] > half).then(|| {
                    format!(
                        "pad should be at most half of effective kernel size, but got pad={}, kernel_size={} and dilation={}",
                        p[n], k[n], d[n]
                    )
                })
            })
        })
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// `U(-bound, bound)` with PyTorch's bound `1/sqrt(fan_in)` — what
/// `kaiming_uniform_(a=sqrt(5))` works out to for weights, and what PyTorch
/// uses for biases — as a trainable leaf tensor.
fn uniform_param(shape: &[i64], fan_in: i64) -> Tensor {
    let mut t = Tensor::zeros(shape, (Kind::Float, Device::Cpu));
    // PyTorch leaves zero-element tensors untouched (and warns) when fan_in is 0.
    if fan_in > 0 {
        let bound = 1.0 / (fan_in as f64).sqrt();
        let _ = t.uniform_(-bound, bound);
    }
    t.set_requires_grad(true)
}

fn filled_param(shape: &[i64], value: f64) -> Tensor {
    Tensor::full(shape, value, (Kind::Float, Device::Cpu)).set_requires_grad(true)
}

fn param(name: &str, t: &Tensor) -> NamedTensor {
    NamedTensor {
        name: name.into(),
        tensor: t.shallow_clone(),
        trainable: true,
    }
}

fn buffer(name: &str, t: &Tensor) -> NamedTensor {
    NamedTensor {
        name: name.into(),
        tensor: t.shallow_clone(),
        trainable: false,
    }
}

/// Panics with the validation message; only reached when a caller skipped
/// `validate`/`try_forward_t`, and `catch_torch` turns it into an `Error`.
fn assert_valid(module: &dyn Module) {
    if let Some(problem) = module.config_error() {
        panic!("{}: {problem}", header_line(module));
    }
}

/// `Display`/`Debug` as PyTorch's printout, `evcxr_display`, and tch's
/// `ModuleT` (so `xs.apply_t(&layer, train)` works) for a layer type.
macro_rules! layer_traits {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&repr_text(self))
            }
        }
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&repr_text(self))
            }
        }
        impl tch::nn::ModuleT for $ty {
            fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
                Module::forward_t(self, xs, train)
            }
        }
        impl $ty {
            /// Called by evcxr for the last expression of a cell: the
            /// printout, monospaced.
            pub fn evcxr_display(&self) {
                show_pre(&repr_text(self));
            }
        }
    )*};
}

layer_traits!(
    Conv2d,
    BatchNorm2d,
    ReLU,
    Dropout,
    MaxPool2d,
    Flatten,
    Linear,
    Sequential
);

/// `nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
/// dilation=1, groups=1, bias=True)`. Parameters `weight`
/// `[out, in/groups, kh, kw]` and `bias` `[out]`, both `U(±1/sqrt(fan_in))`
/// with `fan_in = in/groups*kh*kw` (PyTorch's default init).
///
/// In eval mode on the CPU it computes channels-last (oneDNN's faster
/// layout; the layers after it then run their channels-last kernels too):
/// the output has the usual shape and values but NHWC strides, so reshape it
/// with `flatten` or `reshape` rather than `view` — as in PyTorch after
/// `model.to(memory_format=torch.channels_last)`. `CNN_LAB_CHANNELS_LAST=0`
/// in the environment turns this off (see [`speedups`](crate::nn::speedups)).
///
/// ```
/// use cnn_lab::*;
/// let conv = Conv2d::new(1, 32, 3).stride(1).padding("same");
/// assert_eq!(conv.to_string(), "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=same)");
/// let x = Tensor::zeros([8, 1, 28, 28], (Kind::Float, Device::Cpu));
/// assert_eq!(conv.forward_t(&x, false).size(), [8, 32, 28, 28]);
/// assert_eq!(conv.output_size((28, 28))?, (28, 28));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub struct Conv2d {
    in_channels: i64,
    out_channels: i64,
    kernel_size: Size2,
    stride: Size2,
    padding: Padding,
    dilation: Size2,
    groups: i64,
    weight: Tensor,
    bias: Option<Tensor>,
    bad_padding: Option<String>,
}

impl Conv2d {
    /// A convolution with PyTorch's defaults (stride 1, no padding, bias).
    /// `kernel_size` is an int or an `(h, w)` tuple.
    pub fn new(in_channels: i64, out_channels: i64, kernel_size: impl Into<Size2>) -> Conv2d {
        let mut conv = Conv2d {
            in_channels,
            out_channels,
            kernel_size: kernel_size.into().as_pair(),
            stride: Size2::Pair(1, 1),
            padding: Padding::Explicit(Size2::Pair(0, 0)),
            dilation: Size2::Pair(1, 1),
            groups: 1,
            weight: Tensor::zeros([0], (Kind::Float, Device::Cpu)),
            bias: None,
            bad_padding: None,
        };
        conv.reset_parameters(true);
        conv
    }

    /// `stride`: an int or an `(h, w)` tuple (default 1).
    pub fn stride(mut self, stride: impl Into<Size2>) -> Self {
        self.stride = stride.into().as_pair();
        self
    }

    /// `padding`: `"same"`, `"valid"`, an int or an `(h, w)` tuple (default 0).
    /// An unknown string is reported by `validate`/`summary`/`try_forward_t`.
    pub fn padding(mut self, padding: impl IntoPadding) -> Self {
        match padding.into_padding() {
            Ok(Padding::Explicit(p)) => {
                self.padding = Padding::Explicit(p.as_pair());
                self.bad_padding = None;
            }
            Ok(p) => {
                self.padding = p;
                self.bad_padding = None;
            }
            Err(e) => self.bad_padding = Some(e.to_string()),
        }
        self
    }

    /// `dilation`: an int or an `(h, w)` tuple (default 1).
    pub fn dilation(mut self, dilation: impl Into<Size2>) -> Self {
        self.dilation = dilation.into().as_pair();
        self
    }

    /// `groups` (default 1); re-initialises the parameters, whose shapes depend on it.
    pub fn groups(mut self, groups: i64) -> Self {
        self.groups = groups;
        let with_bias = self.bias.is_some();
        self.reset_parameters(with_bias);
        self
    }

    /// `bias` (default `true`).
    pub fn bias(mut self, bias: bool) -> Self {
        if bias != self.bias.is_some() {
            self.reset_parameters(bias);
        }
        self
    }

    /// The weight, `[out_channels, in_channels/groups, kh, kw]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, `[out_channels]`, if any.
    pub fn bias_tensor(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// The padding (`"same"`, `"valid"` or explicit).
    pub fn padding_value(&self) -> Padding {
        self.padding
    }

    /// Output `(h, w)` for an input of `(h, w)` ([`conv_output_size`] with this layer's settings).
    pub fn output_size(&self, input: impl Into<Size2>) -> Result<(i64, i64)> {
        if let Some(problem) = self.config_error() {
            return Err(Error::InvalidArgument(format!(
                "{}: {problem}",
                header_line(self)
            )));
        }
        conv_output_size(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
        )
    }

    fn reset_parameters(&mut self, with_bias: bool) {
        let (kh, kw) = self.kernel_size.pair();
        let per_group = if self.groups > 0 {
            self.in_channels / self.groups
        } else {
            0
        };
        let shape = [self.out_channels, per_group, kh, kw].map(|v| v.max(0));
        let fan_in = shape[1] * shape[2] * shape[3];
        self.weight = uniform_param(&shape, fan_in);
        self.bias = with_bias.then(|| uniform_param(&[shape[0]], fan_in));
    }
}

impl Module for Conv2d {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            let (stride, dilation) = (self.stride.list(), self.dilation.list());
            let (xs, weight) = if use_channels_last(xs, train) {
                (channels_last(xs), channels_last(&self.weight))
            } else {
                (xs.shallow_clone(), self.weight.shallow_clone())
            };
            let (xs, weight) = (&xs, &weight);
            match self.padding {
                Padding::Same => xs.conv2d_padding(
                    weight,
                    self.bias.as_ref(),
                    stride,
                    "same",
                    dilation,
                    self.groups,
                ),
                Padding::Valid => xs.conv2d_padding(
                    weight,
                    self.bias.as_ref(),
                    stride,
                    "valid",
                    dilation,
                    self.groups,
                ),
                Padding::Explicit(p) => xs.conv2d(
                    weight,
                    self.bias.as_ref(),
                    stride,
                    p.list(),
                    dilation,
                    self.groups,
                ),
            }
        })
    }

    fn type_name(&self) -> String {
        "Conv2d".into()
    }

    fn extra_repr(&self) -> String {
        let mut s = format!(
            "{}, {}, kernel_size={}, stride={}",
            self.in_channels, self.out_channels, self.kernel_size, self.stride
        );
        if self.padding != Padding::Explicit(Size2::Pair(0, 0)) {
            s += &format!(", padding={}", self.padding);
        }
        if self.dilation != Size2::Pair(1, 1) {
            s += &format!(", dilation={}", self.dilation);
        }
        if self.groups != 1 {
            s += &format!(", groups={}", self.groups);
        }
        if self.bias.is_none() {
            s += ", bias=False";
        }
        s
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        let mut out = vec![param("weight", &self.weight)];
        out.extend(self.bias.iter().map(|b| param("bias", b)));
        out
    }

    fn config_error(&self) -> Option<String> {
        if let Some(bad) = &self.bad_padding {
            return Some(bad.clone());
        }
        if self.in_channels <= 0 || self.out_channels <= 0 {
            return Some(format!(
                "in_channels and out_channels must be positive, got {} and {}",
                self.in_channels, self.out_channels
            ));
        }
        if self.groups <= 0 {
            return Some(format!(
                "groups must be a positive integer, got {}",
                self.groups
            ));
        }
        if self.in_channels % self.groups != 0 {
            return Some("in_channels must be divisible by groups".into());
        }
        if self.out_channels % self.groups != 0 {
            return Some("out_channels must be divisible by groups".into());
        }
        conv_problem(self.kernel_size, self.stride, self.padding, self.dilation)
    }
}

/// Whether a convolution runs channels-last (NHWC strides, same shape).
///
/// On the CPU, oneDNN's convolutions are faster channels-last, and their
/// output stays so: the batch norm, ReLU, dropout and max pooling after
/// them then run their vectorised channels-last kernels instead of one
/// plane at a time (the lecture's max pooling is 2×2 windows on 28×28
/// planes). `Flatten` copies back to PyTorch's element order, so the
/// results are the same numbers as in the default layout, up to float
/// rounding. Only in eval mode (`train == false`), and on unless
/// `CNN_LAB_CHANNELS_LAST=0`: see [`speedups`] for why training keeps the
/// default layout.
fn use_channels_last(xs: &Tensor, train: bool) -> bool {
    !train
        && xs.dim() == 4
        && xs.device() == Device::Cpu
        && xs.kind() == Kind::Float
        && speedups::enabled(speedups::CHANNELS_LAST)
}

/// `t.contiguous(memory_format=torch.channels_last)` for a 4-D tensor.
/// With one channel both layouts have the same strides but one: PyTorch
/// would then keep the default layout for the output, so the channel
/// stride is set to 1 explicitly (a view; the data is the same).
fn channels_last(t: &Tensor) -> Tensor {
    let size = t.size();
    let (c, h, w) = (size[1], size[2], size[3]);
    let strides = t.stride();
    if strides == [h * w * c, 1, w * c, c] {
        return t.shallow_clone();
    }
    if c == 1 {
        let t = t.contiguous();
        return t.as_strided(&size, [h * w, 1, w, 1], None);
    }
    t.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

/// `nn.BatchNorm2d(num_features, eps=1e-05, momentum=0.1, affine=True,
/// track_running_stats=True)`. Parameters `weight` (ones) and `bias`
/// (zeros); buffers `running_mean` (zeros), `running_var` (ones) and
/// `num_batches_tracked` (an int64 scalar). In training mode it normalises
/// with the batch statistics and updates the running ones
/// (`running = (1 - momentum) * running + momentum * batch`, unbiased
/// variance); in eval mode it uses the running statistics.
///
/// ```
/// use cnn_lab::*;
/// let bn = BatchNorm2d::new(32);
/// assert_eq!(bn.to_string(), "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
/// ```
pub struct BatchNorm2d {
    num_features: i64,
    eps: f64,
    momentum: f64,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    running_mean: Option<Tensor>,
    running_var: Option<Tensor>,
    num_batches_tracked: Option<Tensor>,
}

impl BatchNorm2d {
    /// Batch normalisation over `num_features` channels with PyTorch's defaults.
    pub fn new(num_features: i64) -> BatchNorm2d {
        BatchNorm2d {
            num_features,
            eps: 1e-5,
            momentum: 0.1,
            weight: None,
            bias: None,
            running_mean: None,
            running_var: None,
            num_batches_tracked: None,
        }
        .affine(true)
        .track_running_stats(true)
    }

    /// `eps`, added to the variance (default 1e-5).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// `momentum` of the running statistics (default 0.1).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// `affine`: learnable `weight` and `bias` (default `true`).
    pub fn affine(mut self, affine: bool) -> Self {
        let n = [self.num_features.max(0)];
        self.weight = affine.then(|| filled_param(&n, 1.0));
        self.bias = affine.then(|| filled_param(&n, 0.0));
        self
    }

    /// `track_running_stats`: keep running statistics for eval mode (default `true`).
    pub fn track_running_stats(mut self, track: bool) -> Self {
        let n = [self.num_features.max(0)];
        let opts = (Kind::Float, Device::Cpu);
        self.running_mean = track.then(|| Tensor::zeros(n, opts));
        self.running_var = track.then(|| Tensor::ones(n, opts));
        self.num_batches_tracked = track.then(|| Tensor::zeros([], (Kind::Int64, Device::Cpu)));
        self
    }

    /// The running mean buffer, if tracked.
    pub fn running_mean(&self) -> Option<&Tensor> {
        self.running_mean.as_ref()
    }

    /// The running (unbiased) variance buffer, if tracked.
    pub fn running_var(&self) -> Option<&Tensor> {
        self.running_var.as_ref()
    }

    /// How many training batches updated the running statistics.
    pub fn num_batches_tracked(&self) -> i64 {
        self.num_batches_tracked
            .as_ref()
            .map_or(0, |t| t.int64_value(&[]))
    }
}

impl Module for BatchNorm2d {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            let dim = xs.dim();
            assert!(
                dim == 4,
                "{}: expected 4D input (got {dim}D input)",
                header_line(self)
            );
            if train {
                if let Some(n) = &self.num_batches_tracked {
                    let _guard = tch::no_grad_guard();
                    let _ = n.shallow_clone().g_add_scalar_(1);
                }
            }
            // As PyTorch: batch statistics when training or when nothing is tracked.
            let use_batch_stats = train || self.running_mean.is_none();
            xs.batch_norm(
                self.weight.as_ref(),
                self.bias.as_ref(),
                self.running_mean.as_ref(),
                self.running_var.as_ref(),
                use_batch_stats,
                self.momentum,
                self.eps,
                true,
            )
        })
    }

    fn type_name(&self) -> String {
        "BatchNorm2d".into()
    }

    fn extra_repr(&self) -> String {
        format!(
            "{}, eps={}, momentum={}, affine={}, track_running_stats={}",
            self.num_features,
            py_float(self.eps),
            py_float(self.momentum),
            py_bool(self.weight.is_some()),
            py_bool(self.running_mean.is_some())
        )
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        out.extend(self.weight.iter().map(|t| param("weight", t)));
        out.extend(self.bias.iter().map(|t| param("bias", t)));
        out.extend(self.running_mean.iter().map(|t| buffer("running_mean", t)));
        out.extend(self.running_var.iter().map(|t| buffer("running_var", t)));
        out.extend(
            self.num_batches_tracked
                .iter()
                .map(|t| buffer("num_batches_tracked", t)),
        );
        out
    }

    fn config_error(&self) -> Option<String> {
        if self.num_features <= 0 {
            return Some(format!(
                "num_features must be positive, got {}",
                self.num_features
            ));
        }
        (self.eps <= 0.0 || !self.eps.is_finite())
            .then(|| format!("eps must be positive, got {}", py_float(self.eps)))
    }
}

/// `nn.ReLU()`: `max(x, 0)` elementwise.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(ReLU::new().to_string(), "ReLU()");
/// ```
#[derive(Default)]
pub struct ReLU {
    // Not zero-sized on purpose: `summary` tells layers apart by address,
    // and every boxed zero-sized value shares one.
    _not_zero_sized: u8,
}

impl ReLU {
    /// The activation.
    pub fn new() -> ReLU {
        ReLU::default()
    }
}

impl Module for ReLU {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || xs.relu())
    }

    fn type_name(&self) -> String {
        "ReLU".into()
    }
}

/// `nn.Dropout(p=0.5)`: in training mode zeroes each element with
/// probability `p` and scales the rest by `1/(1-p)`; the identity in eval mode.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Dropout::new(0.3).to_string(), "Dropout(p=0.3, inplace=False)");
/// ```
pub struct Dropout {
    p: f64,
}

impl Dropout {
    /// Dropout with probability `p` (PyTorch's default is 0.5: [`Dropout::default`]).
    pub fn new(p: f64) -> Dropout {
        Dropout { p }
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
                dropout_train(xs, self.p)
            } else {
                xs.shallow_clone()
            }
        })
    }

    fn type_name(&self) -> String {
        "Dropout".into()
    }

    fn extra_repr(&self) -> String {
        format!("p={}, inplace=False", py_float(self.p))
    }

    fn config_error(&self) -> Option<String> {
        (!(0.0..=1.0).contains(&self.p)).then(|| {
            format!(
                "dropout probability has to be between 0 and 1, but got {}",
                py_float(self.p)
            )
        })
    }
}

/// Training-mode dropout: `xs * mask` with `mask` 0 (probability `p`) or
/// `1/(1-p)`, as PyTorch's `_dropout` computes it.
///
/// libtorch draws its mask with `bernoulli_`, which runs on one thread and
/// took 29–44% of a training step of the lecture's model on a 2-core CPU
/// (PERF.md). Here the mask comes from a counter-based generator
/// (SplitMix64) over each element's index, keyed by two words drawn from
/// libtorch's generator, so
/// `manual_seed` still fixes it, and the result does not depend on the
/// number of threads that fill it. On unless `CNN_LAB_FAST_DROPOUT=0`; other
/// devices and dtypes and `p` of 0 or 1 always take libtorch's path.
fn dropout_train(xs: &Tensor, p: f64) -> Tensor {
    let n = xs.numel();
    if !speedups::enabled(speedups::FAST_DROPOUT)
        || xs.device() != Device::Cpu
        || xs.kind() != Kind::Float
        || p <= 0.0
        || p >= 1.0
        || n == 0
    {
        return xs.dropout(p, true);
    }
    // Dense, like `xs` (channels-last stays channels-last), so filling
    // `numel` floats from the data pointer covers the whole tensor.
    let mask = xs.empty_like().detach();
    // The stream's seed: two draws from libtorch's generator, each folded
    // to 32 bits.
    let draws = Tensor::randint(i64::MAX, [2], (Kind::Int64, Device::Cpu));
    let fold = |i: i64| {
        let d = draws.int64_value(&[i]) as u64;
        (d ^ (d >> 32)) & 0xffff_ffff
    };
    let seed = (fold(0) << 32) | fold(1);
    let threshold = (p * 4_294_967_296.0).round().min(u32::MAX as f64) as u32;
    let scale = (1.0 / (1.0 - p)) as f32;
    // SAFETY: `mask` is a fresh, dense float tensor of `n` elements that
    // nothing else references yet.
    let out = unsafe { std::slice::from_raw_parts_mut(mask.data_ptr() as *mut f32, n) };
    fill_dropout_mask(out, seed, threshold, scale);
    xs * mask
}

/// Fills `out[i]` with 0 when `hash(i) < threshold`, else `scale`, on up to
/// `tch::get_num_threads()` threads (chunks of at least 64k elements: a
/// thread costs more than filling fewer).
fn fill_dropout_mask(out: &mut [f32], seed: u64, threshold: u32, scale: f32) {
    const MIN_CHUNK: usize = 1 << 16;
    let threads = (tch::get_num_threads().max(1) as usize)
        .min(out.len().div_ceil(MIN_CHUNK))
        .max(1);
    let chunk = out.len().div_ceil(threads);
    std::thread::scope(|s| {
        let mut parts = out.chunks_mut(chunk).enumerate();
        let first = parts.next();
        for (i, part) in parts {
            s.spawn(move || fill_mask_part(part, (i * chunk) as u64, seed, threshold, scale));
        }
        if let Some((_, part)) = first {
            fill_mask_part(part, 0, seed, threshold, scale);
        }
    });
}

fn fill_mask_part(out: &mut [f32], start: u64, seed: u64, threshold: u32, scale: f32) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512dq") {
            // SAFETY: the CPU has AVX-512 F and DQ (DQ implies F; checked just above).
            unsafe { fill_mask_avx512(out, start, seed, threshold, scale) };
            return;
        }
    }
    fill_mask_generic(out, start, seed, threshold, scale);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn fill_mask_avx512(out: &mut [f32], start: u64, seed: u64, threshold: u32, scale: f32) {
    // The same code, compiled with 8-lane 64-bit multiplies.
    fill_mask_generic(out, start, seed, threshold, scale);
}

#[inline(always)]
fn fill_mask_generic(out: &mut [f32], start: u64, seed: u64, threshold: u32, scale: f32) {
    for (i, v) in out.iter_mut().enumerate() {
        let h = mask_hash(start + i as u64, seed);
        *v = if h < threshold { 0.0 } else { scale };
    }
}

/// SplitMix64 in counter mode (Steele, Lea & Flood 2014; the generator
/// behind Java's `SplittableRandom`): the `index`-th output of the stream
/// `seed`, upper 32 bits. It passes BigCrush as a counter-based generator.
/// (An earlier two-round 32-bit murmur finaliser looked right by every mask
/// statistic but lowered one-epoch accuracy when the mask was laid out
/// channels-last, where the channel is the index's low bits: see
/// `nn::speedups`.)
#[inline(always)]
fn mask_hash(index: u64, seed: u64) -> u32 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 32) as u32
}

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

/// `nn.Flatten(start_dim=1, end_dim=-1)`: `[N, C, H, W]` → `[N, C*H*W]`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Flatten::new().to_string(), "Flatten(start_dim=1, end_dim=-1)");
/// ```
pub struct Flatten {
    start_dim: i64,
    end_dim: i64,
}

impl Flatten {
    /// Flattens every dimension after the batch dimension.
    pub fn new() -> Flatten {
        Flatten {
            start_dim: 1,
            end_dim: -1,
        }
    }

    /// `start_dim` (default 1).
    pub fn start_dim(mut self, dim: i64) -> Self {
        self.start_dim = dim;
        self
    }

    /// `end_dim` (default -1).
    pub fn end_dim(mut self, dim: i64) -> Self {
        self.end_dim = dim;
        self
    }
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten::new()
    }
}

impl Module for Flatten {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || xs.flatten(self.start_dim, self.end_dim))
    }

    fn type_name(&self) -> String {
        "Flatten".into()
    }

    fn extra_repr(&self) -> String {
        format!("start_dim={}, end_dim={}", self.start_dim, self.end_dim)
    }
}

/// `nn.Linear(in_features, out_features, bias=True)`: `x Wᵀ + b` with
/// `weight` `[out, in]` and `bias` `[out]`, both `U(±1/sqrt(in_features))`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Linear::new(2048, 256).to_string(), "Linear(in_features=2048, out_features=256, bias=True)");
/// ```
pub struct Linear {
    in_features: i64,
    out_features: i64,
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    /// A fully connected layer with a bias.
    pub fn new(in_features: i64, out_features: i64) -> Linear {
        Linear {
            in_features,
            out_features,
            weight: uniform_param(&[out_features.max(0), in_features.max(0)], in_features),
            bias: Some(uniform_param(&[out_features.max(0)], in_features)),
        }
    }

    /// `bias` (default `true`).
    pub fn bias(mut self, bias: bool) -> Self {
        if bias != self.bias.is_some() {
            self.bias = bias.then(|| uniform_param(&[self.out_features.max(0)], self.in_features));
        }
        self
    }

    /// The weight, `[out_features, in_features]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

impl Module for Linear {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.linear(&self.weight, self.bias.as_ref())
        })
    }

    fn type_name(&self) -> String {
        "Linear".into()
    }

    fn extra_repr(&self) -> String {
        format!(
            "in_features={}, out_features={}, bias={}",
            self.in_features,
            self.out_features,
            py_bool(self.bias.is_some())
        )
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        let mut out = vec![param("weight", &self.weight)];
        out.extend(self.bias.iter().map(|b| param("bias", b)));
        out
    }

    fn config_error(&self) -> Option<String> {
        (self.in_features <= 0 || self.out_features <= 0).then(|| {
            format!(
                "in_features and out_features must be positive, got {} and {}",
                self.in_features, self.out_features
            )
        })
    }
}

/// `nn.Sequential(...)`: layers applied in order, named `"0"`, `"1"`, … (so
/// parameters are `0.weight`, `1.running_mean`, … as in PyTorch).
///
/// ```
/// use cnn_lab::*;
/// let b1 = Sequential::new()
///     .add(Conv2d::new(1, 32, 3).stride(1).padding("same"))
///     .add(BatchNorm2d::new(32))
///     .add(ReLU::new())
///     .add(Dropout::new(0.3))
///     .add(MaxPool2d::new(2).stride(2));
/// let x = Tensor::zeros([4, 1, 28, 28], (Kind::Float, Device::Cpu));
/// assert_eq!(x.apply_t(&b1, false).size(), [4, 32, 14, 14]);
/// assert_eq!(b1.state_dict()[0].0, "0.weight");
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<(String, Box<dyn Module + Send>)>,
}

impl Sequential {
    /// An empty container.
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends `layer` (named by its position), builder style.
    // `add` is tch's name for this (`nn::seq_t().add(…)`), not arithmetic.
    #[allow(clippy::should_implement_trait)]
    pub fn add<M: Module + Send + 'static>(mut self, layer: M) -> Self {
        self.push(layer);
        self
    }

    /// Appends `layer` in place (`nn.Sequential.append`).
    pub fn push<M: Module + Send + 'static>(&mut self, layer: M) {
        let name = self.layers.len().to_string();
        self.layers.push((name, Box::new(layer)));
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True when there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The `i`-th layer (`model[i]` in PyTorch).
    pub fn get(&self, i: usize) -> Option<&dyn Module> {
        self.layers.get(i).map(|(_, m)| m.as_ref() as &dyn Module)
    }
}

impl Module for Sequential {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || run_layers(&self.children(), xs, train))
    }

    fn is_sequential(&self) -> bool {
        true
    }

    fn type_name(&self) -> String {
        "Sequential".into()
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.layers
            .iter()
            .map(|(name, m)| (name.clone(), m.as_ref() as &dyn Module))
            .collect()
    }
}

/// `Sequential`'s forward pass. Nested `Sequential`s are run here too (not
/// through their own, possibly other-copy, `forward_t`) so that `summary`
/// sees every layer call (see [`record_call`]).
fn run_layers(layers: &[(String, &dyn Module)], xs: &Tensor, train: bool) -> Tensor {
    let mut out = xs.shallow_clone();
    for (_, layer) in layers {
        out = record_call(*layer, || {
            if layer.is_sequential() {
                run_layers(&layer.children(), &out, train)
            } else {
                layer.forward_t(&out, train)
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropout_mask_is_the_same_whatever_the_split_between_threads() {
        let (key, thr) = ((12345 << 32) | 678, (0.3 * 4_294_967_296.0) as u32);
        let mut whole = vec![0f32; 300_001];
        fill_mask_part(&mut whole, 0, key, thr, 2.0);
        let mut split = vec![0f32; 300_001];
        let (a, b) = split.split_at_mut(123_457);
        fill_mask_part(a, 0, key, thr, 2.0);
        fill_mask_part(b, 123_457, key, thr, 2.0);
        assert_eq!(whole, split);
        let mut threaded = vec![0f32; 300_001];
        fill_dropout_mask(&mut threaded, key, thr, 2.0);
        assert_eq!(whole, threaded);
    }

    #[test]
    fn dropout_mask_drops_p_independently_and_follows_the_seed() {
        let x = Tensor::ones([1000, 1000], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        tch::manual_seed(7);
        let y = dropout_train(&x, 0.3);
        let zero = y.eq(0.0).to_kind(Kind::Float);
        // 1e6 Bernoulli(0.3) draws: standard deviation of the mean ≈ 0.00046.
        let frac = zero.mean(Kind::Float).double_value(&[]);
        assert!((frac - 0.3).abs() < 0.003, "fraction zeroed {frac}");
        // Neighbours are independent: P(both dropped) ≈ 0.09.
        let pairs = (zero.narrow(1, 0, 999) * zero.narrow(1, 1, 999))
            .mean(Kind::Float)
            .double_value(&[]);
        assert!(
            (pairs - 0.09).abs() < 0.003,
            "neighbours both zeroed {pairs}"
        );
        tch::manual_seed(7);
        assert!(dropout_train(&x, 0.3).equal(&y), "same seed, same mask");
        assert!(!dropout_train(&x, 0.3).equal(&y), "next call, new mask");
        // The gradient is the mask itself, as for PyTorch's dropout.
        y.sum(Kind::Float).backward();
        assert!(x.grad().equal(&y.detach()));
    }

    #[test]
    fn same_padding_puts_the_extra_zero_after() {
        let p = Padding::Same.amounts(Size2::Pair(4, 3), Size2::Pair(1, 2));
        assert_eq!(p, [(1, 2), (2, 2)]);
    }

    #[test]
    fn bad_padding_string_is_a_config_error() {
        let conv = Conv2d::new(1, 2, 3).padding("full");
        assert!(conv.config_error().unwrap().contains("\"full\""));
        assert!(Conv2d::new(1, 2, 3)
            .padding("full")
            .padding(1)
            .config_error()
            .is_none());
    }
}
