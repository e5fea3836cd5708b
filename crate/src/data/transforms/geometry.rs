//! Resizing, crops and padding.

use tch::Tensor;

use super::args::{py_pair, py_round, ImageSize, InterpolationMode, PadWidths, PaddingMode, PyNum};
use super::functional as F;
use super::{dims, per_image, repr_fmt, Transform, TransformRng};
use crate::error::{Error, Result};
use crate::pyfmt::{py_bool, py_float};

/// torchvision's `Resize(size, interpolation=bilinear, max_size=None,
/// antialias=True)`: `size` one int (the smaller edge, aspect ratio kept)
/// or `(h, w)`.
///
/// ```
/// use cnn_lab::data::transforms::{Resize, Transform};
/// let t = Resize::new(224);
/// assert_eq!(t.to_string(),
///            "Resize(size=224, interpolation=bilinear, max_size=None, antialias=True)");
/// let img = cnn_lab::Tensor::rand([3, 300, 451], cnn_lab::FLOAT_CPU);
/// assert_eq!(t.apply_one(&img, 0)?.size(), [3, 224, 336]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct Resize {
    size: ImageSize,
    interpolation: InterpolationMode,
    max_size: Option<i64>,
    antialias: bool,
}

impl Resize {
    /// `Resize(size)`.
    pub fn new(size: impl Into<ImageSize>) -> Self {
        Resize {
            size: size.into(),
            interpolation: InterpolationMode::Bilinear,
            max_size: None,
            antialias: true,
        }
    }

    /// `interpolation=` (default bilinear).
    pub fn interpolation(mut self, interpolation: InterpolationMode) -> Self {
        self.interpolation = interpolation;
        self
    }

    /// `max_size=`: the longer edge's bound (only with an int `size`).
    pub fn max_size(mut self, max_size: i64) -> Self {
        self.max_size = Some(max_size);
        self
    }

    /// `antialias=` (default `True`; bilinear and bicubic only).
    pub fn antialias(mut self, antialias: bool) -> Self {
        self.antialias = antialias;
        self
    }
}

impl Transform for Resize {
    /// A uint8 photo on the CPU (bilinear, antialiased: the default) is
    /// resized as `torchvision.transforms.v2.Resize` does, on its bytes;
    /// anything else as v1's `F.resize` (docs/transforms.md).
    fn apply(&self, x: &Tensor, _rng: &mut TransformRng) -> Result<Tensor> {
        if let Some(y) = super::functional::geometry::resize_uint8_v2(
            x,
            self.size,
            self.interpolation,
            self.max_size,
            self.antialias,
        ) {
            return y;
        }
        F::resize_with(
            x,
            self.size,
            self.interpolation,
            self.max_size,
            self.antialias,
        )
    }

    /// Deterministic: no random parameter.
    fn is_random(&self) -> bool {
        false
    }

    fn repr(&self) -> String {
        format!(
            "Resize(size={}, interpolation={}, max_size={}, antialias={})",
            self.size,
            self.interpolation,
            self.max_size.map_or("None".into(), |m| m.to_string()),
            py_bool(self.antialias)
        )
    }
}

/// torchvision's `CenterCrop(size)`: the central window (zero-padded where
/// the image is smaller).
///
/// ```
/// use cnn_lab::data::transforms::{CenterCrop, Transform};
/// let t = CenterCrop::new(224);
/// assert_eq!(t.to_string(), "CenterCrop(size=(224, 224))");
/// let img = cnn_lab::Tensor::rand([3, 256, 300], cnn_lab::FLOAT_CPU);
/// assert_eq!(t.apply_one(&img, 0)?.size(), [3, 224, 224]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct CenterCrop {
    size: (i64, i64),
}

impl CenterCrop {
    /// `CenterCrop(size)`: one int (square) or `(h, w)`.
    pub fn new(size: impl Into<ImageSize>) -> Self {
        CenterCrop {
            size: size.into().hw(),
        }
    }
}

impl Transform for CenterCrop {
    fn apply(&self, x: &Tensor, _rng: &mut TransformRng) -> Result<Tensor> {
        ImageSize::from(self.size).check("CenterCrop")?;
        F::center_crop(x, self.size)
    }

    /// Deterministic: no random parameter.
    fn is_random(&self) -> bool {
        false
    }

    fn repr(&self) -> String {
        format!("CenterCrop(size=({}, {}))", self.size.0, self.size.1)
    }
}

/// torchvision's `Pad(padding, fill=0, padding_mode="constant")`.
///
/// ```
/// use cnn_lab::data::transforms::{Pad, Transform};
/// let t = Pad::new(4);
/// assert_eq!(t.to_string(), "Pad(padding=4, fill=0, padding_mode=constant)");
/// let img = cnn_lab::Tensor::rand([3, 8, 8], cnn_lab::FLOAT_CPU);
/// assert_eq!(t.apply_one(&img, 0)?.size(), [3, 16, 16]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct Pad {
    padding: PadWidths,
    fill: PyNum,
    padding_mode: PaddingMode,
}

impl Pad {
    /// `Pad(padding)`: all sides, `(left/right, top/bottom)` or
    /// `(left, top, right, bottom)`.
    pub fn new(padding: impl Into<PadWidths>) -> Self {
        Pad {
            padding: padding.into(),
            fill: PyNum::Int(0),
            padding_mode: PaddingMode::Constant,
        }
    }

    /// `fill=` (constant mode's value, default 0).
    pub fn fill(mut self, fill: impl Into<PyNum>) -> Self {
        self.fill = fill.into();
        self
    }

    /// `padding_mode=` (default constant).
    pub fn padding_mode(mut self, padding_mode: PaddingMode) -> Self {
        self.padding_mode = padding_mode;
        self
    }
}

impl Transform for Pad {
    fn apply(&self, x: &Tensor, _rng: &mut TransformRng) -> Result<Tensor> {
        F::pad_with(x, self.padding, self.fill.get(), self.padding_mode)
    }

    /// Deterministic: no random parameter.
    fn is_random(&self) -> bool {
        false
    }

    fn repr(&self) -> String {
        format!(
            "Pad(padding={}, fill={}, padding_mode={})",
            self.padding, self.fill, self.padding_mode
        )
    }
}

/// torchvision's `RandomCrop(size, padding=None, pad_if_needed=False,
/// fill=0, padding_mode="constant")`: padding, then a window at a uniform
/// random offset.
///
/// ```
/// use cnn_lab::data::transforms::{RandomCrop, Transform};
/// let t = RandomCrop::new(32).padding(4);
/// assert_eq!(t.to_string(), "RandomCrop(size=(32, 32), padding=4)");
/// let img = cnn_lab::Tensor::rand([3, 32, 32], cnn_lab::FLOAT_CPU);
/// assert_eq!(t.apply_one(&img, 0)?.size(), [3, 32, 32]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct RandomCrop {
    size: (i64, i64),
    padding: Option<PadWidths>,
    pad_if_needed: bool,
    fill: PyNum,
    padding_mode: PaddingMode,
}

impl RandomCrop {
    /// `RandomCrop(size)`: one int (square) or `(h, w)`.
    pub fn new(size: impl Into<ImageSize>) -> Self {
        RandomCrop {
            size: size.into().hw(),
            padding: None,
            pad_if_needed: false,
            fill: PyNum::Int(0),
            padding_mode: PaddingMode::Constant,
        }
    }

    /// `padding=`: all sides, `(left/right, top/bottom)` or `(l, t, r, b)`.
    pub fn padding(mut self, padding: impl Into<PadWidths>) -> Self {
        self.padding = Some(padding.into());
        self
    }

    /// `pad_if_needed=`: pad an image smaller than the crop.
    pub fn pad_if_needed(mut self, pad_if_needed: bool) -> Self {
        self.pad_if_needed = pad_if_needed;
        self
    }

    /// `fill=` (constant padding's value, default 0).
    pub fn fill(mut self, fill: impl Into<PyNum>) -> Self {
        self.fill = fill.into();
        self
    }

    /// `padding_mode=` (default constant).
    pub fn padding_mode(mut self, padding_mode: PaddingMode) -> Self {
        self.padding_mode = padding_mode;
        self
    }

    /// The padded images (`padding`, then `pad_if_needed`), as `forward`.
    fn padded(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = match self.padding {
            Some(p) => F::pad_with(x, p, self.fill.get(), self.padding_mode)?,
            None => x.shallow_clone(),
        };
        let d = dims("RandomCrop", &x)?;
        let (th, tw) = self.size;
        if self.pad_if_needed && d.w < tw {
            x = F::pad_with(&x, (tw - d.w, 0), self.fill.get(), self.padding_mode)?;
        }
        if self.pad_if_needed && d.h < th {
            x = F::pad_with(&x, (0, th - d.h), self.fill.get(), self.padding_mode)?;
        }
        Ok(x)
    }

    /// torchvision's `RandomCrop.get_params`: `(top, left, h, w)` of the
    /// window in an image `h` × `w` (already padded).
    pub fn get_params(
        &self,
        (h, w): (i64, i64),
        rng: &mut TransformRng,
    ) -> Result<(i64, i64, i64, i64)> {
        let (th, tw) = self.size;
        if th <= 0 || tw <= 0 {
            return Err(Error::InvalidArgument(format!(
                "RandomCrop: size must be positive, got ({th}, {tw})"
            )));
        }
        if h < th || w < tw {
            return Err(Error::InvalidArgument(format!(
                "RandomCrop: Required crop size ({th}, {tw}) is larger than input image size ({h}, {w})"
            )));
        }
        if h == th && w == tw {
            return Ok((0, 0, h, w));
        }
        Ok((rng.int_to(h - th), rng.int_to(w - tw), th, tw))
    }

    /// Pads, then crops image `k` of a batch at `offsets[k]` `(top, left)`
    /// of the padded image (torchvision's `F.crop(F.pad(img, padding), top,
    /// left, h, w)`).
    pub fn crop(&self, images: &Tensor, offsets: &[(i64, i64)]) -> Result<Tensor> {
        let padded = self.padded(images)?;
        let d = dims("RandomCrop", &padded)?;
        let n = d.batch.unwrap_or(1);
        let (th, tw) = self.size;
        if th > d.h || tw > d.w || offsets.len() as i64 != n {
            return Err(Error::InvalidArgument(format!(
                "RandomCrop: crop {th}x{tw} of padded {}x{} images, {} offsets for {n} images",
                d.h,
                d.w,
                offsets.len()
            )));
        }
        if d.batch.is_none() {
            let (t, l) = offsets[0];
            return F::crop(&padded, t, l, th, tw);
        }
        let crops = offsets
            .iter()
            .enumerate()
            .map(|(k, &(t, l))| F::crop(&padded.narrow(0, k as i64, 1), t, l, th, tw))
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::f_cat(&crops, 0)?)
    }
}

impl Transform for RandomCrop {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        let padded = self.padded(x)?;
        let d = dims("RandomCrop", &padded)?;
        let offsets = (0..d.batch.unwrap_or(1))
            .map(|_| self.get_params((d.h, d.w), rng).map(|(t, l, _, _)| (t, l)))
            .collect::<Result<Vec<_>>>()?;
        let (th, tw) = self.size;
        if d.batch.is_none() {
            let (t, l) = offsets[0];
            return F::crop(&padded, t, l, th, tw);
        }
        let crops = offsets
            .iter()
            .enumerate()
            .map(|(k, &(t, l))| F::crop(&padded.narrow(0, k as i64, 1), t, l, th, tw))
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::f_cat(&crops, 0)?)
    }

    fn repr(&self) -> String {
        format!(
            "RandomCrop(size=({}, {}), padding={})",
            self.size.0,
            self.size.1,
            self.padding.map_or("None".into(), |p| p.to_string())
        )
    }
}

/// torchvision's `RandomResizedCrop(size, scale=(0.08, 1.0),
/// ratio=(3/4, 4/3), interpolation=bilinear, antialias=True)`: a window of
/// random area and aspect ratio, resized to `size`.
///
/// ```
/// use cnn_lab::data::transforms::{RandomResizedCrop, Transform};
/// let t = RandomResizedCrop::new(224);
/// assert_eq!(t.to_string(), "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), \
///     ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)");
/// let img = cnn_lab::Tensor::rand([3, 300, 451], cnn_lab::FLOAT_CPU);
/// assert_eq!(t.apply_one(&img, 0)?.size(), [3, 224, 224]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct RandomResizedCrop {
    size: (i64, i64),
    scale: (f64, f64),
    ratio: (f64, f64),
    interpolation: InterpolationMode,
    antialias: bool,
}

impl RandomResizedCrop {
    /// `RandomResizedCrop(size)`: one int (square) or `(h, w)`.
    pub fn new(size: impl Into<ImageSize>) -> Self {
        RandomResizedCrop {
            size: size.into().hw(),
            scale: (0.08, 1.0),
            ratio: (3.0 / 4.0, 4.0 / 3.0),
            interpolation: InterpolationMode::Bilinear,
            antialias: true,
        }
    }

    /// `scale=(lo, hi)`: the window's area as a fraction of the image's.
    pub fn scale(mut self, lo: f64, hi: f64) -> Self {
        self.scale = (lo, hi);
        self
    }

    /// `ratio=(lo, hi)`: the window's aspect ratio (width / height) range.
    pub fn ratio(mut self, lo: f64, hi: f64) -> Self {
        self.ratio = (lo, hi);
        self
    }

    /// `interpolation=` (default bilinear).
    pub fn interpolation(mut self, interpolation: InterpolationMode) -> Self {
        self.interpolation = interpolation;
        self
    }

    /// `antialias=` (default `True`).
    pub fn antialias(mut self, antialias: bool) -> Self {
        self.antialias = antialias;
        self
    }

    /// torchvision's `RandomResizedCrop.get_params`: `(top, left, h, w)`
    /// for an image `height` × `width` — ten tries of a random area and
    /// log-uniform aspect ratio, then the central crop clamped to the
    /// ratio range.
    pub fn get_params(
        &self,
        (height, width): (i64, i64),
        rng: &mut TransformRng,
    ) -> (i64, i64, i64, i64) {
        let area = (height * width) as f64;
        let (lr0, lr1) = (self.ratio.0.ln(), self.ratio.1.ln());
        for _ in 0..10 {
            let target_area = area * rng.uniform(self.scale.0, self.scale.1);
            let aspect_ratio = rng.uniform(lr0, lr1).exp();
            let w = py_round((target_area * aspect_ratio).sqrt());
            let h = py_round((target_area / aspect_ratio).sqrt());
            if 0 < w && w <= width && 0 < h && h <= height {
                let i = rng.int_to(height - h);
                let j = rng.int_to(width - w);
                return (i, j, h, w);
            }
        }
        let in_ratio = width as f64 / height as f64;
        let (rmin, rmax) = (
            self.ratio.0.min(self.ratio.1),
            self.ratio.0.max(self.ratio.1),
        );
        let (w, h) = if in_ratio < rmin {
            (width, py_round(width as f64 / rmin))
        } else if in_ratio > rmax {
            (py_round(height as f64 * rmax), height)
        } else {
            (width, height)
        };
        ((height - h) / 2, (width - w) / 2, h, w)
    }

    fn check(&self) -> Result<()> {
        ImageSize::from(self.size).check("RandomResizedCrop")?;
        let ok = |(a, b): (f64, f64)| a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0;
        if !ok(self.scale) || !ok(self.ratio) {
            return Err(Error::InvalidArgument(format!(
                "RandomResizedCrop: scale and ratio must be positive, got scale={} ratio={}",
                py_pair(self.scale),
                py_pair(self.ratio)
            )));
        }
        Ok(())
    }
}

impl Transform for RandomResizedCrop {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        self.check()?;
        per_image("RandomResizedCrop", x, |img| {
            let d = dims("RandomResizedCrop", img)?;
            let (i, j, h, w) = self.get_params((d.h, d.w), rng);
            F::resized_crop(
                img,
                i,
                j,
                h,
                w,
                self.size,
                self.interpolation,
                self.antialias,
            )
        })
    }

    fn repr(&self) -> String {
        let r4 = |x: f64| py_float((x * 1e4).round_ties_even() / 1e4);
        format!(
            "RandomResizedCrop(size=({}, {}), scale=({}, {}), ratio=({}, {}), interpolation={}, \
             antialias={})",
            self.size.0,
            self.size.1,
            r4(self.scale.0),
            r4(self.scale.1),
            r4(self.ratio.0),
            r4(self.ratio.1),
            self.interpolation,
            py_bool(self.antialias)
        )
    }
}

repr_fmt!(Resize, CenterCrop, Pad, RandomCrop, RandomResizedCrop);
