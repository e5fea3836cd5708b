//! `nn.PixelShuffle` and `nn.PixelUnshuffle` (`torch/nn/modules/pixelshuffle.py`).

use tch::Tensor;

use super::assert_valid;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;

/// `nn.PixelShuffle(upscale_factor)`: `[N, C*r*r, H, W]` → `[N, C, H*r, W*r]`
/// (sub-pixel convolution upsampling).
///
/// ```
/// use cnn_lab::*;
/// let shuffle = PixelShuffle::new(2);
/// assert_eq!(shuffle.to_string(), "PixelShuffle(upscale_factor=2)");
/// let x = Tensor::zeros([1, 8, 3, 3], (Kind::Float, Device::Cpu));
/// assert_eq!(shuffle.forward_t(&x, false).size(), [1, 2, 6, 6]);
/// ```
pub struct PixelShuffle {
    upscale_factor: i64,
    hooks: ForwardHooks,
}

impl PixelShuffle {
    /// Rearranges channels into an `upscale_factor` times larger image.
    pub fn new(upscale_factor: i64) -> PixelShuffle {
        PixelShuffle {
            upscale_factor,
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for PixelShuffle {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.pixel_shuffle(self.upscale_factor)
        })
    }

    fn type_name(&self) -> String {
        "PixelShuffle".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("upscale_factor={}", self.upscale_factor)
    }

    fn config_error(&self) -> Option<String> {
        (self.upscale_factor <= 0).then(|| {
            format!(
                "pixel_shuffle expects a positive upscale_factor, but got {}",
                self.upscale_factor
            )
        })
    }
}

/// `nn.PixelUnshuffle(downscale_factor)`: the inverse of [`PixelShuffle`],
/// `[N, C, H*r, W*r]` → `[N, C*r*r, H, W]`.
///
/// ```
/// use cnn_lab::*;
/// let unshuffle = PixelUnshuffle::new(2);
/// assert_eq!(unshuffle.to_string(), "PixelUnshuffle(downscale_factor=2)");
/// let x = Tensor::zeros([1, 2, 6, 6], (Kind::Float, Device::Cpu));
/// assert_eq!(unshuffle.forward_t(&x, false).size(), [1, 8, 3, 3]);
/// ```
pub struct PixelUnshuffle {
    downscale_factor: i64,
    hooks: ForwardHooks,
}

impl PixelUnshuffle {
    /// Rearranges `downscale_factor`² blocks of pixels into channels.
    pub fn new(downscale_factor: i64) -> PixelUnshuffle {
        PixelUnshuffle {
            downscale_factor,
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for PixelUnshuffle {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.pixel_unshuffle(self.downscale_factor)
        })
    }

    fn type_name(&self) -> String {
        "PixelUnshuffle".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("downscale_factor={}", self.downscale_factor)
    }

    fn config_error(&self) -> Option<String> {
        (self.downscale_factor <= 0).then(|| {
            format!(
                "pixel_unshuffle expects a positive downscale_factor, but got {}",
                self.downscale_factor
            )
        })
    }
}

layer_traits!(PixelShuffle, PixelUnshuffle);
