//! `nn.Conv2d`, `nn.Conv1d` and `nn.ConvTranspose2d` (what they share is
//! `conv_core.rs`, PyTorch's `_ConvNd`).

use super::conv_core::{ConvCore, PadSpec};
use crate::error::{Error, Result};
use crate::nn::args::{conv_output_size, IntoPadding, Padding, Size2};
use crate::nn::module::{header_line, Module};

fn pair(s: Size2) -> Vec<i64> {
    s.list().to_vec()
}

fn single(v: i64) -> Vec<i64> {
    vec![v]
}

/// `nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
/// dilation=1, groups=1, bias=True, padding_mode='zeros')`. Parameters
/// `weight` `[out, in/groups, kh, kw]` and `bias` `[out]`, both
/// `U(±1/sqrt(fan_in))` with `fan_in = in/groups*kh*kw` (PyTorch's default
/// init).
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
/// // A depthwise convolution with reflected borders:
/// let dw = Conv2d::new(16, 16, 3).padding(1).groups(16).bias(false).padding_mode("reflect");
/// assert_eq!(
///     dw.to_string(),
///     "Conv2d(16, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=16, bias=False, padding_mode=reflect)"
/// );
/// assert!(Conv2d::new(3, 6, 3).groups(2).validate().is_err());
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub struct Conv2d {
    core: ConvCore,
}

impl Conv2d {
    /// A convolution with PyTorch's defaults (stride 1, no padding, bias).
    /// `kernel_size` is an int or an `(h, w)` tuple.
    pub fn new(in_channels: i64, out_channels: i64, kernel_size: impl Into<Size2>) -> Conv2d {
        let kernel = pair(kernel_size.into());
        Conv2d {
            core: ConvCore::new("Conv2d", false, in_channels, out_channels, kernel),
        }
    }

    conv_options!(Size2, pair);

    /// `padding`: `"same"`, `"valid"`, an int or an `(h, w)` tuple (default 0).
    /// An unknown string is reported by `validate`/`summary`/`try_forward_t`.
    pub fn padding(mut self, padding: impl IntoPadding) -> Self {
        self.core.set_padding(padding);
        self
    }

    /// `padding_mode`: `"zeros"` (default), `"reflect"`, `"replicate"` or
    /// `"circular"` — what the border is padded with.
    pub fn padding_mode(mut self, padding_mode: &str) -> Self {
        self.core.set_padding_mode(padding_mode);
        self
    }

    /// Output `(h, w)` for an input of `(h, w)` ([`conv_output_size`] with this layer's settings).
    pub fn output_size(&self, input: impl Into<Size2>) -> Result<(i64, i64)> {
        if let Some(problem) = self.config_error() {
            return Err(Error::InvalidArgument(format!(
                "{}: {problem}",
                header_line(self)
            )));
        }
        let c = &self.core;
        let two = |v: &[i64]| Size2::Pair(v[0], v[1]);
        let padding = match &c.padding {
            PadSpec::Same => Padding::Same,
            PadSpec::Valid => Padding::Valid,
            PadSpec::Explicit(p) => Padding::Explicit(two(p)),
        };
        conv_output_size(
            input,
            two(&c.kernel_size),
            two(&c.stride),
            padding,
            two(&c.dilation),
        )
    }
}

conv_module!(Conv2d);

/// `nn.Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0,
/// dilation=1, groups=1, bias=True, padding_mode='zeros')` over inputs
/// `[N, C, L]`. Parameters `weight` `[out, in/groups, k]` and `bias` `[out]`,
/// `U(±1/sqrt(in/groups*k))`.
///
/// ```
/// use cnn_lab::*;
/// let conv = Conv1d::new(3, 8, 5).stride(2).padding(1);
/// assert_eq!(conv.to_string(), "Conv1d(3, 8, kernel_size=(5,), stride=(2,), padding=(1,))");
/// let x = Tensor::zeros([4, 3, 20], (Kind::Float, Device::Cpu));
/// assert_eq!(conv.forward_t(&x, false).size(), [4, 8, 9]);
/// ```
pub struct Conv1d {
    core: ConvCore,
}

impl Conv1d {
    /// A 1-d convolution with PyTorch's defaults (stride 1, no padding, bias).
    pub fn new(in_channels: i64, out_channels: i64, kernel_size: i64) -> Conv1d {
        Conv1d {
            core: ConvCore::new(
                "Conv1d",
                false,
                in_channels,
                out_channels,
                vec![kernel_size],
            ),
        }
    }

    conv_options!(i64, single);

    /// `padding`: `"same"`, `"valid"` or an int (default 0).
    pub fn padding(mut self, padding: impl IntoPadding) -> Self {
        self.core.set_padding(padding);
        self
    }

    /// `padding_mode`: `"zeros"` (default), `"reflect"`, `"replicate"` or `"circular"`.
    pub fn padding_mode(mut self, padding_mode: &str) -> Self {
        self.core.set_padding_mode(padding_mode);
        self
    }
}

conv_module!(Conv1d);

/// `nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1,
/// padding=0, output_padding=0, groups=1, bias=True, dilation=1)`: the
/// gradient of a convolution, upsampling by `stride` (decoders, U-Nets).
/// Output size `(in - 1) * stride - 2 * padding + dilation * (kernel - 1) +
/// output_padding + 1`. Parameters `weight` `[in, out/groups, kh, kw]` and
/// `bias` `[out]`, `U(±1/sqrt(out/groups*kh*kw))` as PyTorch.
///
/// ```
/// use cnn_lab::*;
/// let up = ConvTranspose2d::new(16, 8, 3).stride(2).padding(1).output_padding(1);
/// assert_eq!(
///     up.to_string(),
///     "ConvTranspose2d(16, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))"
/// );
/// let x = Tensor::zeros([1, 16, 7, 7], (Kind::Float, Device::Cpu));
/// assert_eq!(up.forward_t(&x, false).size(), [1, 8, 14, 14]);
/// assert_eq!(up.weight().size(), [16, 8, 3, 3]);
/// ```
pub struct ConvTranspose2d {
    core: ConvCore,
}

impl ConvTranspose2d {
    /// A transposed convolution with PyTorch's defaults.
    pub fn new(
        in_channels: i64,
        out_channels: i64,
        kernel_size: impl Into<Size2>,
    ) -> ConvTranspose2d {
        let kernel = pair(kernel_size.into());
        ConvTranspose2d {
            core: ConvCore::new("ConvTranspose2d", true, in_channels, out_channels, kernel),
        }
    }

    conv_options!(Size2, pair);

    /// `padding`: an int or an `(h, w)` tuple (default 0), taken off each border of the output.
    pub fn padding(mut self, padding: impl Into<Size2>) -> Self {
        self.core.padding = PadSpec::Explicit(pair(padding.into()));
        self
    }

    /// `output_padding` (default 0): extra rows/columns on one side of the
    /// output; smaller than `stride` or `dilation`.
    pub fn output_padding(mut self, output_padding: impl Into<Size2>) -> Self {
        self.core.output_padding = pair(output_padding.into());
        self
    }
}

conv_module!(ConvTranspose2d);

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

    #[test]
    fn conv1d_rejects_a_pair_of_paddings() {
        let err = Conv1d::new(1, 2, 3).padding((1, 2)).config_error().unwrap();
        assert!(err.contains("padding must be an int"), "{err}");
    }
}
