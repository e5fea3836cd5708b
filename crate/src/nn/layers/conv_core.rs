//! What `nn.Conv1d`, `nn.Conv2d` and `nn.ConvTranspose2d` share, as
//! PyTorch's `_ConvNd`: options per spatial dimension, the parameters and
//! their initialisation, `padding_mode`, the printout and the checks its
//! constructor makes.

use tch::{Device, Kind, Tensor};

use super::{param, uniform_param};
use crate::nn::args::{IntoPadding, Padding, Size2};
use crate::nn::hooks::ForwardHooks;
use crate::nn::module::NamedTensor;
use crate::nn::speedups::channels_last;

/// PyTorch's padding modes (`nn.Conv2d(…, padding_mode=…)`).
const PADDING_MODES: [&str; 4] = ["zeros", "reflect", "replicate", "circular"];

/// A convolution's `padding` per dimension.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum PadSpec {
    Same,
    Valid,
    Explicit(Vec<i64>),
}

/// `(3,)` or `(3, 3)`: a tuple as Python prints it.
pub(super) fn py_tuple(v: &[i64]) -> String {
    match v {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
}

pub(super) struct ConvCore {
    pub(super) name: &'static str,
    transposed: bool,
    pub(super) in_channels: i64,
    pub(super) out_channels: i64,
    pub(super) kernel_size: Vec<i64>,
    pub(super) stride: Vec<i64>,
    pub(super) padding: PadSpec,
    pub(super) dilation: Vec<i64>,
    pub(super) output_padding: Vec<i64>,
    pub(super) groups: i64,
    padding_mode: String,
    pub(super) weight: Tensor,
    pub(super) bias: Option<Tensor>,
    bad_padding: Option<String>,
    pub(super) hooks: ForwardHooks,
}

impl ConvCore {
    /// PyTorch's defaults: stride 1, no padding, dilation 1, one group, a bias.
    pub(super) fn new(
        name: &'static str,
        transposed: bool,
        in_channels: i64,
        out_channels: i64,
        kernel_size: Vec<i64>,
    ) -> ConvCore {
        let n = kernel_size.len();
        let mut core = ConvCore {
            name,
            transposed,
            in_channels,
            out_channels,
            kernel_size,
            stride: vec![1; n],
            padding: PadSpec::Explicit(vec![0; n]),
            dilation: vec![1; n],
            output_padding: vec![0; n],
            groups: 1,
            padding_mode: "zeros".into(),
            weight: Tensor::zeros([0], (Kind::Float, Device::Cpu)),
            bias: None,
            bad_padding: None,
            hooks: ForwardHooks::default(),
        };
        core.reset_parameters(true);
        core
    }

    /// Sets `padding` from what `Conv1d`/`Conv2d::padding` accept; a value
    /// that is not one is kept as the error to report.
    pub(super) fn set_padding(&mut self, padding: impl IntoPadding) {
        let n = self.kernel_size.len();
        let spec = match padding.into_padding() {
            Ok(Padding::Same) => Ok(PadSpec::Same),
            Ok(Padding::Valid) => Ok(PadSpec::Valid),
            Ok(Padding::Explicit(Size2::Int(p))) => Ok(PadSpec::Explicit(vec![p; n])),
            Ok(Padding::Explicit(Size2::Pair(h, w))) if n == 2 => Ok(PadSpec::Explicit(vec![h, w])),
            Ok(Padding::Explicit(p)) => Err(format!(
                "padding must be an int, \"same\" or \"valid\" for {}, got {p}",
                self.name
            )),
            Err(e) => Err(e.to_string()),
        };
        match spec {
            Ok(spec) => {
                self.padding = spec;
                self.bad_padding = None;
            }
            Err(e) => self.bad_padding = Some(e),
        }
    }

    pub(super) fn set_padding_mode(&mut self, mode: &str) {
        self.padding_mode = mode.into();
    }

    pub(super) fn set_groups(&mut self, groups: i64) {
        self.groups = groups;
        let with_bias = self.bias.is_some();
        self.reset_parameters(with_bias);
    }

    pub(super) fn set_bias(&mut self, bias: bool) {
        if bias != self.bias.is_some() {
            self.reset_parameters(bias);
        }
    }

    /// `kaiming_uniform_(a=sqrt(5))` for the weight and `U(±1/sqrt(fan_in))`
    /// for the bias, `fan_in` from the weight's dimension 1 as PyTorch's
    /// `_calculate_fan_in_and_fan_out` (`in/groups` for a convolution,
    /// `out/groups` for a transposed one).
    fn reset_parameters(&mut self, with_bias: bool) {
        let (a, b) = if self.transposed {
            (self.in_channels, self.out_channels)
        } else {
            (self.out_channels, self.in_channels)
        };
        let per_group = if self.groups > 0 { b / self.groups } else { 0 };
        let mut shape = vec![a, per_group];
        shape.extend(&self.kernel_size);
        let shape: Vec<i64> = shape.into_iter().map(|v| v.max(0)).collect();
        let fan_in: i64 = shape[1..].iter().product();
        self.weight = uniform_param(&shape, fan_in);
        self.bias = with_bias.then(|| uniform_param(&[self.out_channels.max(0)], fan_in));
    }

    /// PyTorch's `_reversed_padding_repeated_twice`, in dimension order:
    /// `(before, after)` per spatial dimension.
    fn pad_amounts(&self) -> Vec<(i64, i64)> {
        let n = self.kernel_size.len();
        (0..n)
            .map(|i| match &self.padding {
                PadSpec::Valid => (0, 0),
                PadSpec::Explicit(p) => (p[i], p[i]),
                PadSpec::Same => {
                    let total = self.dilation[i] * (self.kernel_size[i] - 1);
                    (total / 2, total - total / 2)
                }
            })
            .collect()
    }

    pub(super) fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        let bias = self.bias.as_ref();
        if self.transposed {
            let PadSpec::Explicit(p) = &self.padding else {
                unreachable!("ConvTranspose2d takes explicit padding only")
            };
            return xs.conv_transpose2d(
                &self.weight,
                bias,
                self.stride.as_slice(),
                p.as_slice(),
                self.output_padding.as_slice(),
                self.groups,
                self.dilation.as_slice(),
            );
        }
        if self.padding_mode != "zeros" {
            // F.pad wants the last dimension first.
            let pads: Vec<i64> = self
                .pad_amounts()
                .iter()
                .rev()
                .flat_map(|&(a, b)| [a, b])
                .collect();
            let padded = xs.pad(pads, &self.padding_mode, None);
            let zeros = vec![0; self.kernel_size.len()];
            return self.conv(&padded, &PadSpec::Explicit(zeros), train);
        }
        self.conv(xs, &self.padding, train)
    }

    fn conv(&self, xs: &Tensor, padding: &PadSpec, train: bool) -> Tensor {
        let (stride, dilation) = (self.stride.as_slice(), self.dilation.as_slice());
        let bias = self.bias.as_ref();
        if self.kernel_size.len() == 1 {
            return match padding {
                PadSpec::Same => {
                    xs.conv1d_padding(&self.weight, bias, stride, "same", dilation, self.groups)
                }
                PadSpec::Valid => {
                    xs.conv1d_padding(&self.weight, bias, stride, "valid", dilation, self.groups)
                }
                PadSpec::Explicit(p) => xs.conv1d(
                    &self.weight,
                    bias,
                    stride,
                    p.as_slice(),
                    dilation,
                    self.groups,
                ),
            };
        }
        let (xs, weight) = if channels_last::applies(xs, train) {
            (
                channels_last::layout(xs),
                channels_last::layout(&self.weight),
            )
        } else {
            (xs.shallow_clone(), self.weight.shallow_clone())
        };
        match padding {
            PadSpec::Same => {
                xs.conv2d_padding(&weight, bias, stride, "same", dilation, self.groups)
            }
            PadSpec::Valid => {
                xs.conv2d_padding(&weight, bias, stride, "valid", dilation, self.groups)
            }
            PadSpec::Explicit(p) => {
                xs.conv2d(&weight, bias, stride, p.as_slice(), dilation, self.groups)
            }
        }
    }

    /// PyTorch's `_ConvNd.extra_repr`.
    pub(super) fn extra_repr(&self) -> String {
        let n = self.kernel_size.len();
        let mut s = format!(
            "{}, {}, kernel_size={}, stride={}",
            self.in_channels,
            self.out_channels,
            py_tuple(&self.kernel_size),
            py_tuple(&self.stride)
        );
        match &self.padding {
            PadSpec::Same => s += ", padding=same",
            PadSpec::Valid => s += ", padding=valid",
            PadSpec::Explicit(p) if *p != vec![0; n] => s += &format!(", padding={}", py_tuple(p)),
            PadSpec::Explicit(_) => {}
        }
        if self.dilation != vec![1; n] {
            s += &format!(", dilation={}", py_tuple(&self.dilation));
        }
        if self.output_padding != vec![0; n] {
            s += &format!(", output_padding={}", py_tuple(&self.output_padding));
        }
        if self.groups != 1 {
            s += &format!(", groups={}", self.groups);
        }
        if self.bias.is_none() {
            s += ", bias=False";
        }
        if self.padding_mode != "zeros" {
            s += &format!(", padding_mode={}", self.padding_mode);
        }
        s
    }

    pub(super) fn own_tensors(&self) -> Vec<NamedTensor> {
        let mut out = vec![param("weight", &self.weight)];
        out.extend(self.bias.iter().map(|b| param("bias", b)));
        out
    }

    /// What PyTorch's constructor (and, for the sizes, its forward) rejects.
    pub(super) fn config_error(&self) -> Option<String> {
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
            return Some("groups must be a positive integer".into());
        }
        if self.in_channels % self.groups != 0 {
            return Some("in_channels must be divisible by groups".into());
        }
        if self.out_channels % self.groups != 0 {
            return Some("out_channels must be divisible by groups".into());
        }
        if !PADDING_MODES.contains(&self.padding_mode.as_str()) {
            return Some(format!(
                "padding_mode must be one of {{'zeros', 'reflect', 'replicate', 'circular'}}, but got padding_mode='{}'",
                self.padding_mode
            ));
        }
        if self.transposed && self.padding_mode != "zeros" {
            return Some(format!(
                "Only \"zeros\" padding mode is supported for {}",
                self.name
            ));
        }
        let positive = |what: &str, v: &[i64]| {
            v.iter()
                .any(|&x| x <= 0)
                .then(|| format!("{what} must be positive, got {}", py_tuple(v)))
        };
        if let Some(p) = positive("kernel_size", &self.kernel_size)
            .or_else(|| positive("stride", &self.stride))
            .or_else(|| positive("dilation", &self.dilation))
        {
            return Some(p);
        }
        match &self.padding {
            PadSpec::Same if self.stride.iter().any(|&s| s != 1) => {
                return Some("padding='same' is not supported for strided convolutions".into())
            }
            PadSpec::Explicit(p) if p.iter().any(|&x| x < 0) => {
                return Some(format!("padding must be non-negative, got {}", py_tuple(p)))
            }
            _ => {}
        }
        let too_big = (0..self.kernel_size.len()).any(|i| {
            let op = self.output_padding[i];
            op < 0 || (op >= self.stride[i] && op >= self.dilation[i])
        });
        too_big.then(|| {
            format!(
                "output padding must be smaller than either stride or dilation, but got output_padding={}, stride={} and dilation={}",
                py_tuple(&self.output_padding),
                py_tuple(&self.stride),
                py_tuple(&self.dilation)
            )
        })
    }
}

/// The `impl Module` of a convolution type holding a `core: ConvCore`.
macro_rules! conv_module {
    ($ty:ty) => {
        impl $crate::nn::Module for $ty {
            fn forward_t(&self, xs: &tch::Tensor, train: bool) -> tch::Tensor {
                $crate::nn::record_forward(self, || {
                    super::assert_valid(self);
                    self.core.forward(xs, train)
                })
            }

            fn type_name(&self) -> String {
                self.core.name.into()
            }

            fn forward_hooks(&self) -> Option<&$crate::nn::ForwardHooks> {
                Some(&self.core.hooks)
            }

            fn extra_repr(&self) -> String {
                self.core.extra_repr()
            }

            fn own_tensors(&self) -> Vec<$crate::nn::NamedTensor> {
                self.core.own_tensors()
            }

            fn config_error(&self) -> Option<String> {
                self.core.config_error()
            }
        }

        layer_traits!($ty);
    };
}

/// The builder methods every convolution has, for sizes given as `$size`
/// (`Size2` or `i64`) and turned into one value per dimension by `$dims`.
macro_rules! conv_options {
    ($size:ty, $dims:expr) => {
        /// `stride` (default 1).
        pub fn stride(mut self, stride: impl Into<$size>) -> Self {
            self.core.stride = $dims(stride.into());
            self
        }

        /// `dilation` (default 1): the spacing between kernel elements.
        pub fn dilation(mut self, dilation: impl Into<$size>) -> Self {
            self.core.dilation = $dims(dilation.into());
            self
        }

        /// `groups` (default 1; `in_channels` for a depthwise convolution);
        /// re-initialises the parameters, whose shapes depend on it.
        pub fn groups(mut self, groups: i64) -> Self {
            self.core.set_groups(groups);
            self
        }

        /// `bias` (default `true`).
        pub fn bias(mut self, bias: bool) -> Self {
            self.core.set_bias(bias);
            self
        }

        /// The weight.
        pub fn weight(&self) -> &tch::Tensor {
            &self.core.weight
        }

        /// The bias, `[out_channels]`, if any.
        pub fn bias_tensor(&self) -> Option<&tch::Tensor> {
            self.core.bias.as_ref()
        }
    };
}
