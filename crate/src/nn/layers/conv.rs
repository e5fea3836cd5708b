//! `nn.Conv2d`.

use tch::{Device, Kind, Tensor};

use super::{assert_valid, param, uniform_param};
use crate::error::{Error, Result};
use crate::nn::args::{conv_output_size, conv_problem, IntoPadding, Padding, Size2};
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::{header_line, Module, NamedTensor};
use crate::nn::speedups::channels_last;

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
    hooks: ForwardHooks,
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
            hooks: ForwardHooks::default(),
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
            let (xs, weight) = if channels_last::applies(xs, train) {
                (
                    channels_last::layout(xs),
                    channels_last::layout(&self.weight),
                )
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

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
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
#[cfg(test)]
mod tests {
    use super::*;

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
