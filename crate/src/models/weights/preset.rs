//! The preprocessing a set of weights was evaluated with: torchvision's
//! `weights.transforms()`, an `ImageClassification` preset, as plain data.

use std::fmt;

use tch::{Kind, Tensor};

use crate::data::transforms::{functional as F, InterpolationMode, Transform, TransformRng};
use crate::error::Result;
use crate::pyfmt::py_float;

/// torchvision's `ImageClassification` preset
/// (`torchvision.transforms._presets.ImageClassification`), the
/// `weights.transforms()` of every classification weights: resize the
/// shorter side to `resize_size` with `interpolation` (and `antialias`),
/// crop the centre `crop_size` × `crop_size`, scale to `[0, 1]`, then
/// normalise each channel with `mean` and `std`.
///
/// It prints as torchvision prints it:
///
/// ```
/// use cnn_lab::models::ResNet50_Weights;
/// let preprocess = ResNet50_Weights::IMAGENET1K_V2.transforms();
/// assert_eq!(preprocess.resize_size, 232);
/// assert_eq!(
///     preprocess.to_string(),
///     "ImageClassification(
///     crop_size=[224]
///     resize_size=[232]
///     mean=[0.485, 0.456, 0.406]
///     std=[0.229, 0.224, 0.225]
///     interpolation=InterpolationMode.BILINEAR
/// )"
/// );
/// ```
///
/// `Debug` prints the same text, so a notebook cell ending in
/// `weights.transforms()` shows what Python shows.
#[derive(Clone, Copy, PartialEq)]
pub struct ImageClassification {
    /// The side of the square centre crop (torchvision keeps `[crop_size]`).
    pub crop_size: i64,
    /// The shorter side after resizing (torchvision keeps `[resize_size]`).
    pub resize_size: i64,
    /// Per-channel mean subtracted after scaling to `[0, 1]` (RGB).
    pub mean: [f64; 3],
    /// Per-channel standard deviation divided by (RGB).
    pub std: [f64; 3],
    /// How the resize resamples.
    pub interpolation: InterpolationMode,
    /// Whether the resize antialiases (torchvision's default `True`; not
    /// part of its printout).
    pub antialias: Option<bool>,
}

impl ImageClassification {
    /// torchvision's `ImageClassification(crop_size=…)` with its defaults:
    /// `resize_size=256`, ImageNet's mean and std, bilinear, antialiased.
    ///
    /// ```
    /// use cnn_lab::models::{ImageClassification, ResNet18_Weights};
    /// assert_eq!(ImageClassification::new(224), ResNet18_Weights::IMAGENET1K_V1.transforms());
    /// ```
    pub const fn new(crop_size: i64) -> ImageClassification {
        ImageClassification {
            crop_size,
            resize_size: 256,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
            interpolation: InterpolationMode::Bilinear,
            antialias: Some(true),
        }
    }

    /// torchvision's `resize_size` keyword.
    pub const fn resize_size(mut self, resize_size: i64) -> Self {
        self.resize_size = resize_size;
        self
    }

    /// torchvision's `mean` keyword.
    pub const fn mean(mut self, mean: [f64; 3]) -> Self {
        self.mean = mean;
        self
    }

    /// torchvision's `std` keyword.
    pub const fn std(mut self, std: [f64; 3]) -> Self {
        self.std = std;
        self
    }

    /// torchvision's `interpolation` keyword.
    pub const fn interpolation(mut self, interpolation: InterpolationMode) -> Self {
        self.interpolation = interpolation;
        self
    }

    /// torchvision's `antialias` keyword.
    pub const fn antialias(mut self, antialias: Option<bool>) -> Self {
        self.antialias = antialias;
        self
    }

    /// torchvision's `describe()`, the sentence its documentation shows
    /// under each weights.
    ///
    /// ```
    /// use cnn_lab::models::EfficientNet_B0_Weights;
    /// let text = EfficientNet_B0_Weights::DEFAULT.transforms().describe();
    /// assert!(text.contains("``interpolation=InterpolationMode.BICUBIC``"));
    /// ```
    pub fn describe(&self) -> String {
        format!(
            "Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image \
             ``torch.Tensor`` objects. The images are resized to ``resize_size=[{}]`` using \
             ``interpolation=InterpolationMode.{}``, followed by a central crop of ``crop_size=[{}]``. Finally \
             the values are first rescaled to ``[0.0, 1.0]`` and then normalized using \
             ``mean={}`` and ``std={}``.",
            self.resize_size,
            self.interpolation.name(),
            self.crop_size,
            float_list(&self.mean),
            float_list(&self.std)
        )
    }
}

/// `[0.485, 0.456, 0.406]`, as Python prints a list of floats.
fn float_list(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|&v| py_float(v)).collect();
    format!("[{}]", items.join(", "))
}

impl fmt::Display for ImageClassification {
    /// torchvision's `repr(ImageClassification(...))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ImageClassification(\n    crop_size=[{}]\n    resize_size=[{}]\n    mean={}\n    \
             std={}\n    interpolation=InterpolationMode.{}\n)",
            self.crop_size,
            self.resize_size,
            float_list(&self.mean),
            float_list(&self.std),
            self.interpolation.name()
        )
    }
}

impl fmt::Debug for ImageClassification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The preset is a transform, as torchvision's `weights.transforms()` is
/// callable: `resize(resize_size)` (the shorter side, antialiased), the
/// central `crop_size` square, floats in `[0, 1]`, then `normalize(mean, std)`
/// — torchvision's `ImageClassification.forward` on a tensor, step for step.
///
/// ```
/// use cnn_lab::*;
/// use cnn_lab::models::ResNet18_Weights;
/// let photo = Tensor::randint(256, [3, 300, 451], (Kind::Uint8, Device::Cpu));
/// let x = ResNet18_Weights::DEFAULT.transforms().apply_one(&photo, 0)?;
/// assert_eq!(x.size(), [3, 224, 224]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
impl Transform for ImageClassification {
    fn apply(&self, x: &Tensor, _rng: &mut TransformRng) -> Result<Tensor> {
        let antialias = self.antialias.unwrap_or(true);
        let x = F::resize_with(x, self.resize_size, self.interpolation, None, antialias)?;
        let x = F::center_crop(&x, self.crop_size)?;
        let x = F::convert_image_dtype(&x, Kind::Float)?;
        F::normalize(&x, &self.mean, &self.std)
    }

    /// Deterministic: resize, crop, convert, normalize.
    fn is_random(&self) -> bool {
        false
    }

    fn repr(&self) -> String {
        self.to_string()
    }
}
