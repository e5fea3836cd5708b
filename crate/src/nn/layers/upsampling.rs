//! `nn.Upsample` (`torch/nn/modules/upsampling.py`) for `[N, C, H, W]` inputs.

use tch::Tensor;

use super::assert_valid;
use crate::nn::args::Size2;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::{header_line, Module};
use crate::pyfmt::py_float;

/// `Upsample`'s `scale_factor`: one factor for both dimensions or an
/// `(h, w)` pair (printed as PyTorch prints them, `2.0` or `(2.0, 1.5)`).
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Scale2::from(2), Scale2::Same(2.0));
/// assert_eq!(Upsample::new().scale_factor((2.0, 1.5)).to_string(), "Upsample(scale_factor=(2.0, 1.5), mode='nearest')");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale2 {
    /// The same factor for height and width.
    Same(f64),
    /// `(height, width)` factors.
    Pair(f64, f64),
}

impl Scale2 {
    fn pair(self) -> (f64, f64) {
        match self {
            Scale2::Same(s) => (s, s),
            Scale2::Pair(h, w) => (h, w),
        }
    }
}

impl From<f64> for Scale2 {
    fn from(s: f64) -> Self {
        Scale2::Same(s)
    }
}
impl From<i32> for Scale2 {
    fn from(s: i32) -> Self {
        Scale2::Same(s.into())
    }
}
impl From<(f64, f64)> for Scale2 {
    fn from((h, w): (f64, f64)) -> Self {
        Scale2::Pair(h, w)
    }
}

const MODES: [&str; 4] = ["nearest", "bilinear", "bicubic", "nearest-exact"];

/// `nn.Upsample(size=None, scale_factor=None, mode='nearest',
/// align_corners=None)` on `[N, C, H, W]` inputs: resizes to `size` (an int
/// or `(h, w)`) or by `scale_factor` (output `floor(in * scale)`), with
/// `mode` `"nearest"`, `"bilinear"`, `"bicubic"` or `"nearest-exact"`.
/// Exactly one of `size` and `scale_factor` must be given, and
/// `align_corners` only with the interpolating modes, as in PyTorch.
///
/// ```
/// use cnn_lab::*;
/// let up = Upsample::new().scale_factor(2);
/// assert_eq!(up.to_string(), "Upsample(scale_factor=2.0, mode='nearest')");
/// let x = Tensor::ones([1, 3, 4, 5], (Kind::Float, Device::Cpu));
/// assert_eq!(up.forward_t(&x, false).size(), [1, 3, 8, 10]);
/// let resize = Upsample::new().size((6, 7)).mode("bilinear").align_corners(true);
/// assert_eq!(resize.to_string(), "Upsample(size=(6, 7), mode='bilinear')");
/// assert!(Upsample::new().validate().is_err());
/// ```
pub struct Upsample {
    size: Option<Size2>,
    scale_factor: Option<Scale2>,
    mode: String,
    align_corners: Option<bool>,
    hooks: ForwardHooks,
}

impl Upsample {
    /// An upsampler still to be told `size` or `scale_factor`; mode `"nearest"`.
    pub fn new() -> Upsample {
        Upsample {
            size: None,
            scale_factor: None,
            mode: "nearest".into(),
            align_corners: None,
            hooks: ForwardHooks::default(),
        }
    }

    /// `size`: the output `(h, w)` (an int for both).
    pub fn size(mut self, size: impl Into<Size2>) -> Self {
        self.size = Some(size.into());
        self
    }

    /// `scale_factor`: the output is `floor(in * scale_factor)`.
    pub fn scale_factor(mut self, scale_factor: impl Into<Scale2>) -> Self {
        self.scale_factor = Some(scale_factor.into());
        self
    }

    /// `mode` (default `"nearest"`).
    pub fn mode(mut self, mode: &str) -> Self {
        self.mode = mode.into();
        self
    }

    /// `align_corners` (default: `false` for the interpolating modes): align
    /// the corner pixels' centres of input and output.
    pub fn align_corners(mut self, align_corners: bool) -> Self {
        self.align_corners = Some(align_corners);
        self
    }
}

impl Default for Upsample {
    fn default() -> Self {
        Upsample::new()
    }
}

impl Module for Upsample {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            let dim = xs.dim();
            assert!(
                dim == 4,
                "{}: expected a 4D input [N, C, H, W] (got {dim}D input)",
                header_line(self)
            );
            let size = xs.size();
            let (out, scales) = match (self.size, self.scale_factor) {
                (Some(s), _) => (s.list(), (None, None)),
                (None, scale) => {
                    let (h, w) = scale.map_or((1.0, 1.0), Scale2::pair);
                    let out = [
                        (size[2] as f64 * h).floor() as i64,
                        (size[3] as f64 * w).floor() as i64,
                    ];
                    (out, (Some(h), Some(w)))
                }
            };
            let align = self.align_corners.unwrap_or(false);
            match self.mode.as_str() {
                "bilinear" => xs.upsample_bilinear2d(out, align, scales.0, scales.1),
                "bicubic" => xs.upsample_bicubic2d(out, align, scales.0, scales.1),
                "nearest-exact" => xs.internal_upsample_nearest_exact2d(out, scales.0, scales.1),
                _ => xs.upsample_nearest2d(out, scales.0, scales.1),
            }
        })
    }

    fn type_name(&self) -> String {
        "Upsample".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        let info = match (self.scale_factor, self.size) {
            (Some(Scale2::Same(s)), _) => format!("scale_factor={}", py_float(s)),
            (Some(Scale2::Pair(h, w)), _) => {
                format!("scale_factor=({}, {})", py_float(h), py_float(w))
            }
            (None, Some(size)) => format!("size={size}"),
            (None, None) => "size=None".into(),
        };
        format!("{info}, mode='{}'", self.mode)
    }

    fn config_error(&self) -> Option<String> {
        match (self.size, self.scale_factor) {
            (None, None) => return Some("either size or scale_factor should be defined".into()),
            (Some(_), Some(_)) => {
                return Some("only one of size or scale_factor should be defined".into())
            }
            _ => {}
        }
        if let Some(scale) = self.scale_factor {
            let (h, w) = scale.pair();
            if !(h > 0.0 && w > 0.0) {
                return Some(format!(
                    "scale_factor must be positive, got ({}, {})",
                    py_float(h),
                    py_float(w)
                ));
            }
        }
        if let Some(size) = self.size {
            let (h, w) = size.pair();
            if h <= 0 || w <= 0 {
                return Some(format!("size must be positive, got {size}"));
            }
        }
        if !MODES.contains(&self.mode.as_str()) {
            return Some(format!(
                "mode must be one of 'nearest', 'bilinear', 'bicubic', 'nearest-exact' for a 4D input, got '{}'",
                self.mode
            ));
        }
        (self.align_corners.is_some() && self.mode.starts_with("nearest")).then(|| {
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear".into()
        })
    }
}

layer_traits!(Upsample);
