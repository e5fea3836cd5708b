//! Colour transforms.

use tch::Tensor;

use super::args::py_pair;
use super::functional as F;
use super::{dims, per_image, repr_fmt, Transform, TransformRng};
use crate::error::{Error, Result};
use crate::pyfmt::py_float;

/// A jitter amount: `x` (a range about the neutral value) or `(min, max)`.
///
/// ```
/// use cnn_lab::data::transforms::{ColorJitter, Jitter};
/// let t = ColorJitter::new().brightness(0.4).hue(Jitter::Range(-0.1, 0.2));
/// assert_eq!(t.to_string(),
///            "ColorJitter(brightness=(0.6, 1.4), contrast=None, saturation=None, hue=(-0.1, 0.2))");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Jitter {
    /// `[neutral - x, neutral + x]` (the lower end at least 0, but for hue).
    Amount(f64),
    /// `[min, max]`.
    Range(f64, f64),
}

impl From<f64> for Jitter {
    fn from(x: f64) -> Self {
        Jitter::Amount(x)
    }
}
impl From<i32> for Jitter {
    fn from(x: i32) -> Self {
        Jitter::Amount(x as f64)
    }
}
impl From<(f64, f64)> for Jitter {
    fn from((a, b): (f64, f64)) -> Self {
        Jitter::Range(a, b)
    }
}

/// torchvision's `ColorJitter._check_input`: the range, or `None` when it
/// is only the neutral value.
fn jitter_range(
    value: Jitter,
    name: &str,
    center: f64,
    bound: (f64, f64),
    clip_first_on_zero: bool,
) -> Result<Option<(f64, f64)>> {
    let (lo, hi) = match value {
        Jitter::Amount(x) => {
            if x < 0.0 || !x.is_finite() {
                return Err(Error::InvalidArgument(format!(
                    "ColorJitter: If {name} is a single number, it must be non negative, got {x}."
                )));
            }
            let lo = center - x;
            (
                if clip_first_on_zero { lo.max(0.0) } else { lo },
                center + x,
            )
        }
        Jitter::Range(a, b) => (a, b),
    };
    if !(bound.0 <= lo && lo <= hi && hi <= bound.1) {
        return Err(Error::InvalidArgument(format!(
            "ColorJitter: {name} values should be between ({}, {}), but got [{}, {}].",
            py_float(bound.0),
            py_float(bound.1),
            py_float(lo),
            py_float(hi)
        )));
    }
    Ok(if lo == center && hi == center {
        None
    } else {
        Some((lo, hi))
    })
}

/// One image's parameters of [`ColorJitter`], as torchvision's
/// `ColorJitter.get_params` returns them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColorJitterParams {
    /// The order of the four adjustments (0 brightness, 1 contrast,
    /// 2 saturation, 3 hue), a random permutation.
    pub order: [usize; 4],
    /// Brightness factor, if jittered.
    pub brightness: Option<f64>,
    /// Contrast factor, if jittered.
    pub contrast: Option<f64>,
    /// Saturation factor, if jittered.
    pub saturation: Option<f64>,
    /// Hue shift, if jittered.
    pub hue: Option<f64>,
}

/// torchvision's `ColorJitter(brightness=0, contrast=0, saturation=0,
/// hue=0)`: the four adjustments in a random order, each with a factor
/// uniform in its range.
///
/// ```
/// use cnn_lab::data::transforms::{ColorJitter, Transform};
/// let t = ColorJitter::new().brightness(0.4).contrast(0.4).saturation(0.4).hue(0.1);
/// assert_eq!(t.to_string(), "ColorJitter(brightness=(0.6, 1.4), contrast=(0.6, 1.4), \
///     saturation=(0.6, 1.4), hue=(-0.1, 0.1))");
/// let img = cnn_lab::Tensor::rand([3, 8, 8], cnn_lab::FLOAT_CPU);
/// assert_eq!(t.apply_one(&img, 0)?.size(), [3, 8, 8]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct ColorJitter {
    brightness: Jitter,
    contrast: Jitter,
    saturation: Jitter,
    hue: Jitter,
}

impl Default for ColorJitter {
    fn default() -> Self {
        Self::new()
    }
}

type Ranges = [Option<(f64, f64)>; 4];

impl ColorJitter {
    /// `ColorJitter()`: nothing jittered until a builder says so.
    pub fn new() -> Self {
        ColorJitter {
            brightness: Jitter::Amount(0.0),
            contrast: Jitter::Amount(0.0),
            saturation: Jitter::Amount(0.0),
            hue: Jitter::Amount(0.0),
        }
    }

    /// `brightness=`: `b` (factor in `[max(0, 1 - b), 1 + b]`) or `(min, max)`.
    pub fn brightness(mut self, brightness: impl Into<Jitter>) -> Self {
        self.brightness = brightness.into();
        self
    }

    /// `contrast=`: `c` (factor in `[max(0, 1 - c), 1 + c]`) or `(min, max)`.
    pub fn contrast(mut self, contrast: impl Into<Jitter>) -> Self {
        self.contrast = contrast.into();
        self
    }

    /// `saturation=`: `s` (factor in `[max(0, 1 - s), 1 + s]`) or `(min, max)`.
    pub fn saturation(mut self, saturation: impl Into<Jitter>) -> Self {
        self.saturation = saturation.into();
        self
    }

    /// `hue=`: `h` (shift in `[-h, h]`, `h <= 0.5`) or `(min, max)`.
    pub fn hue(mut self, hue: impl Into<Jitter>) -> Self {
        self.hue = hue.into();
        self
    }

    fn ranges(&self) -> Result<Ranges> {
        let inf = (0.0, f64::INFINITY);
        Ok([
            jitter_range(self.brightness, "brightness", 1.0, inf, true)?,
            jitter_range(self.contrast, "contrast", 1.0, inf, true)?,
            jitter_range(self.saturation, "saturation", 1.0, inf, true)?,
            jitter_range(self.hue, "hue", 0.0, (-0.5, 0.5), false)?,
        ])
    }

    /// torchvision's `ColorJitter.get_params`: a random order, then each
    /// jittered factor uniform in its range.
    pub fn get_params(&self, rng: &mut TransformRng) -> Result<ColorJitterParams> {
        let r = self.ranges()?;
        let p = rng.randperm(4);
        let mut draw = |r: Option<(f64, f64)>| r.map(|(lo, hi)| rng.uniform(lo, hi));
        Ok(ColorJitterParams {
            order: [p[0], p[1], p[2], p[3]],
            brightness: draw(r[0]),
            contrast: draw(r[1]),
            saturation: draw(r[2]),
            hue: draw(r[3]),
        })
    }

    /// The adjustments of `params` on one image (or a batch, all alike).
    pub fn apply_params(img: &Tensor, params: &ColorJitterParams) -> Result<Tensor> {
        let mut x = img.shallow_clone();
        for &k in &params.order {
            x = match (k, params) {
                (
                    0,
                    ColorJitterParams {
                        brightness: Some(b),
                        ..
                    },
                ) => F::adjust_brightness(&x, *b)?,
                (
                    1,
                    ColorJitterParams {
                        contrast: Some(c), ..
                    },
                ) => F::adjust_contrast(&x, *c)?,
                (
                    2,
                    ColorJitterParams {
                        saturation: Some(s),
                        ..
                    },
                ) => F::adjust_saturation(&x, *s)?,
                (3, ColorJitterParams { hue: Some(h), .. }) => F::adjust_hue(&x, *h)?,
                _ => x,
            };
        }
        Ok(x)
    }
}

impl Transform for ColorJitter {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        per_image("ColorJitter", x, |img| {
            let p = self.get_params(rng)?;
            Self::apply_params(img, &p)
        })
    }

    fn repr(&self) -> String {
        let show = |r: Result<Option<(f64, f64)>>| match r {
            Ok(Some(p)) => py_pair(p),
            Ok(None) => "None".into(),
            Err(_) => "<invalid>".into(),
        };
        let inf = (0.0, f64::INFINITY);
        format!(
            "ColorJitter(brightness={}, contrast={}, saturation={}, hue={})",
            show(jitter_range(self.brightness, "brightness", 1.0, inf, true)),
            show(jitter_range(self.contrast, "contrast", 1.0, inf, true)),
            show(jitter_range(self.saturation, "saturation", 1.0, inf, true)),
            show(jitter_range(self.hue, "hue", 0.0, (-0.5, 0.5), false)),
        )
    }
}

/// torchvision's `Grayscale(num_output_channels=1)`.
///
/// ```
/// use cnn_lab::data::transforms::{Grayscale, Transform};
/// let t = Grayscale::new().num_output_channels(3);
/// assert_eq!(t.to_string(), "Grayscale(num_output_channels=3)");
/// let img = cnn_lab::Tensor::rand([3, 8, 8], cnn_lab::FLOAT_CPU);
/// assert_eq!(t.apply_one(&img, 0)?.size(), [3, 8, 8]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct Grayscale {
    num_output_channels: i64,
}

impl Default for Grayscale {
    fn default() -> Self {
        Self::new()
    }
}

impl Grayscale {
    /// `Grayscale()`: one channel.
    pub fn new() -> Self {
        Grayscale {
            num_output_channels: 1,
        }
    }

    /// `num_output_channels=` (1 or 3).
    pub fn num_output_channels(mut self, n: i64) -> Self {
        self.num_output_channels = n;
        self
    }
}

impl Transform for Grayscale {
    fn apply(&self, x: &Tensor, _rng: &mut TransformRng) -> Result<Tensor> {
        F::rgb_to_grayscale(x, self.num_output_channels)
    }

    /// Deterministic: no random parameter.
    fn is_random(&self) -> bool {
        false
    }

    fn repr(&self) -> String {
        format!(
            "Grayscale(num_output_channels={})",
            self.num_output_channels
        )
    }
}

/// The image (or each image of a batch) transformed by `f` with
/// probability `p`, as torchvision's `torch.rand(1) < p`.
fn with_probability(
    name: &str,
    x: &Tensor,
    p: f64,
    rng: &mut TransformRng,
    f: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    per_image(name, x, |img| {
        if rng.bernoulli(p) {
            f(img)
        } else {
            Ok(img.shallow_clone())
        }
    })
}

/// torchvision's `RandomGrayscale(p=0.1)`: greyscale with as many channels
/// as the input, with probability `p`.
///
/// ```
/// use cnn_lab::data::transforms::{RandomGrayscale, Transform};
/// let t = RandomGrayscale::new().p(1.0);
/// assert_eq!(t.to_string(), "RandomGrayscale(p=1.0)");
/// let img = cnn_lab::Tensor::rand([3, 8, 8], cnn_lab::FLOAT_CPU);
/// assert_eq!(t.apply_one(&img, 0)?.size(), [3, 8, 8]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct RandomGrayscale {
    p: f64,
}

impl Default for RandomGrayscale {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomGrayscale {
    /// `RandomGrayscale()`.
    pub fn new() -> Self {
        RandomGrayscale { p: 0.1 }
    }

    /// `p=` (default 0.1).
    pub fn p(mut self, p: f64) -> Self {
        self.p = p;
        self
    }
}

impl Transform for RandomGrayscale {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        let c = dims("RandomGrayscale", x)?.c;
        with_probability("RandomGrayscale", x, self.p, rng, |img| {
            F::rgb_to_grayscale(img, c)
        })
    }

    fn repr(&self) -> String {
        format!("RandomGrayscale(p={})", py_float(self.p))
    }
}

/// torchvision's `RandomInvert(p=0.5)`.
///
/// ```
/// use cnn_lab::data::transforms::{RandomInvert, Transform};
/// let t = RandomInvert::new();
/// assert_eq!(t.to_string(), "RandomInvert(p=0.5)");
/// ```
#[derive(Clone)]
pub struct RandomInvert {
    p: f64,
}

impl Default for RandomInvert {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomInvert {
    /// `RandomInvert()`.
    pub fn new() -> Self {
        RandomInvert { p: 0.5 }
    }

    /// `p=` (default 0.5).
    pub fn p(mut self, p: f64) -> Self {
        self.p = p;
        self
    }
}

impl Transform for RandomInvert {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        with_probability("RandomInvert", x, self.p, rng, F::invert)
    }

    fn repr(&self) -> String {
        format!("RandomInvert(p={})", py_float(self.p))
    }
}

/// torchvision's `RandomAdjustSharpness(sharpness_factor, p=0.5)`.
///
/// ```
/// use cnn_lab::data::transforms::{RandomAdjustSharpness, Transform};
/// let t = RandomAdjustSharpness::new(2.0);
/// assert_eq!(t.to_string(), "RandomAdjustSharpness(sharpness_factor=2.0,p=0.5)");
/// ```
#[derive(Clone)]
pub struct RandomAdjustSharpness {
    sharpness_factor: f64,
    p: f64,
}

impl RandomAdjustSharpness {
    /// `RandomAdjustSharpness(sharpness_factor)`.
    pub fn new(sharpness_factor: f64) -> Self {
        RandomAdjustSharpness {
            sharpness_factor,
            p: 0.5,
        }
    }

    /// `p=` (default 0.5).
    pub fn p(mut self, p: f64) -> Self {
        self.p = p;
        self
    }
}

impl Transform for RandomAdjustSharpness {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        let f = self.sharpness_factor;
        with_probability("RandomAdjustSharpness", x, self.p, rng, |img| {
            F::adjust_sharpness(img, f)
        })
    }

    fn repr(&self) -> String {
        format!(
            "RandomAdjustSharpness(sharpness_factor={},p={})",
            py_float(self.sharpness_factor),
            py_float(self.p)
        )
    }
}

repr_fmt!(
    ColorJitter,
    Grayscale,
    RandomGrayscale,
    RandomInvert,
    RandomAdjustSharpness
);
