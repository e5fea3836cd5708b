//! Rotation and affine maps with random parameters.

use tch::Tensor;

use super::args::{py_pair, py_round, py_tuple, Angles, Fill, InterpolationMode, PyNum};
use super::functional::{affine_matrix, rotate_matrix, warp};
use super::{dims, per_image, repr_fmt, Transform, TransformRng};
use crate::error::{Error, Result};
use crate::pyfmt::py_bool;

/// One image's parameters of an affine map, as torchvision's
/// `RandomAffine.get_params` returns them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AffineParams {
    /// Rotation in degrees (counter-clockwise).
    pub angle: f64,
    /// Translation in pixels `(tx, ty)`.
    pub translate: (f64, f64),
    /// Scale factor.
    pub scale: f64,
    /// Shear in degrees `(x, y)`.
    pub shear: (f64, f64),
}

/// The fill torchvision's `forward` passes: one value per channel.
fn fill_per_channel(fill: &Fill, channels: i64) -> Vec<f64> {
    match fill {
        Fill::Num(n) => vec![n.get(); channels.max(1) as usize],
        Fill::PerChannel(v) => v.iter().map(|n| n.get()).collect(),
    }
}

fn center_f(center: Option<[PyNum; 2]>) -> Option<(f64, f64)> {
    center.map(|[x, y]| (x.get(), y.get()))
}

/// torchvision's `RandomRotation(degrees, interpolation=nearest,
/// expand=False, center=None, fill=0)`: an angle uniform in `degrees`
/// (`d` means `[-d, d]`).
///
/// ```
/// use cnn_lab::data::transforms::{RandomRotation, Transform};
/// let t = RandomRotation::new(30);
/// assert_eq!(t.to_string(),
///            "RandomRotation(degrees=[-30.0, 30.0], interpolation=nearest, expand=False, fill=0)");
/// let img = cnn_lab::Tensor::rand([3, 20, 30], cnn_lab::FLOAT_CPU);
/// assert_eq!(t.apply_one(&img, 0)?.size(), [3, 20, 30]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct RandomRotation {
    degrees: Angles,
    interpolation: InterpolationMode,
    expand: bool,
    center: Option<[PyNum; 2]>,
    fill: Fill,
}

impl RandomRotation {
    /// `RandomRotation(degrees)`: `d` (`[-d, d]`) or `(min, max)`.
    pub fn new(degrees: impl Into<Angles>) -> Self {
        RandomRotation {
            degrees: degrees.into(),
            interpolation: InterpolationMode::Nearest,
            expand: false,
            center: None,
            fill: Fill::Num(PyNum::Int(0)),
        }
    }

    /// `interpolation=` (nearest or bilinear; default nearest).
    pub fn interpolation(mut self, interpolation: InterpolationMode) -> Self {
        self.interpolation = interpolation;
        self
    }

    /// `expand=`: grow the output to hold the whole rotated image.
    pub fn expand(mut self, expand: bool) -> Self {
        self.expand = expand;
        self
    }

    /// `center=(x, y)` in pixels (default the image centre).
    pub fn center(mut self, x: impl Into<PyNum>, y: impl Into<PyNum>) -> Self {
        self.center = Some([x.into(), y.into()]);
        self
    }

    /// `fill=`: one value or one per channel for the area outside.
    pub fn fill(mut self, fill: impl Into<Fill>) -> Self {
        self.fill = fill.into();
        self
    }

    /// torchvision's `RandomRotation.get_params`: the angle.
    pub fn get_params(&self, rng: &mut TransformRng) -> f64 {
        rng.uniform(self.degrees.0[0], self.degrees.0[1])
    }

    /// Rotates image `k` of a batch by `angles[k]` degrees
    /// (`F.rotate(img, angle, NEAREST, fill=[0.0])`).
    pub fn rotate(images: &Tensor, angles: &[f64]) -> Result<Tensor> {
        let d = dims("RandomRotation", images)?;
        let m: Vec<[f64; 6]> = angles
            .iter()
            .map(|&a| rotate_matrix(a, None, (d.w, d.h)))
            .collect();
        warp(
            "RandomRotation",
            images,
            &m,
            InterpolationMode::Nearest,
            Some(&[0.0]),
            None,
        )
    }
}

impl Transform for RandomRotation {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        self.degrees.check("RandomRotation", "degrees", &[2])?;
        let d = dims("RandomRotation", x)?;
        let fill = fill_per_channel(&self.fill, d.c);
        if self.expand {
            return per_image("RandomRotation", x, |img| {
                super::functional::rotate_with(
                    img,
                    self.get_params(rng),
                    self.interpolation,
                    true,
                    center_f(self.center),
                    Some(&fill),
                )
            });
        }
        let m: Vec<[f64; 6]> = (0..d.batch.unwrap_or(1))
            .map(|_| rotate_matrix(self.get_params(rng), center_f(self.center), (d.w, d.h)))
            .collect();
        warp(
            "RandomRotation",
            x,
            &m,
            self.interpolation,
            Some(&fill),
            None,
        )
    }

    fn repr(&self) -> String {
        let mut s = format!(
            "RandomRotation(degrees={}, interpolation={}, expand={}",
            self.degrees,
            self.interpolation,
            py_bool(self.expand)
        );
        if let Some(c) = self.center {
            s += &format!(", center={}", py_tuple(&c));
        }
        s += &format!(", fill={})", self.fill);
        s
    }
}

/// torchvision's `RandomAffine(degrees, translate=None, scale=None,
/// shear=None, interpolation=nearest, fill=0, center=None)`.
///
/// ```
/// use cnn_lab::data::transforms::{RandomAffine, Transform};
/// let t = RandomAffine::new(10).translate(0.1, 0.1).scale(0.9, 1.1).shear(5);
/// assert_eq!(t.to_string(), "RandomAffine(degrees=[-10.0, 10.0], translate=(0.1, 0.1), \
///     scale=(0.9, 1.1), shear=[-5.0, 5.0])");
/// let img = cnn_lab::Tensor::rand([8, 1, 28, 28], cnn_lab::FLOAT_CPU);
/// assert_eq!(t.apply_one(&img, 0)?.size(), [8, 1, 28, 28]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct RandomAffine {
    degrees: Angles,
    translate: Option<(f64, f64)>,
    scale: Option<(f64, f64)>,
    shear: Option<Angles>,
    interpolation: InterpolationMode,
    fill: Fill,
    center: Option<[PyNum; 2]>,
}

impl RandomAffine {
    /// `RandomAffine(degrees)`: `d` (`[-d, d]`) or `(min, max)`.
    pub fn new(degrees: impl Into<Angles>) -> Self {
        RandomAffine {
            degrees: degrees.into(),
            translate: None,
            scale: None,
            shear: None,
            interpolation: InterpolationMode::Nearest,
            fill: Fill::Num(PyNum::Int(0)),
            center: None,
        }
    }

    /// `translate=(a, b)`: shifts up to `a` × width and `b` × height.
    pub fn translate(mut self, a: f64, b: f64) -> Self {
        self.translate = Some((a, b));
        self
    }

    /// `scale=(lo, hi)`.
    pub fn scale(mut self, lo: f64, hi: f64) -> Self {
        self.scale = Some((lo, hi));
        self
    }

    /// `shear=`: `s` (x shear in `[-s, s]`), `(lo, hi)` (x) or
    /// `[x_lo, x_hi, y_lo, y_hi]`, in degrees.
    pub fn shear(mut self, shear: impl Into<Angles>) -> Self {
        self.shear = Some(shear.into());
        self
    }

    /// `interpolation=` (nearest or bilinear; default nearest).
    pub fn interpolation(mut self, interpolation: InterpolationMode) -> Self {
        self.interpolation = interpolation;
        self
    }

    /// `fill=`: one value or one per channel for the area outside.
    pub fn fill(mut self, fill: impl Into<Fill>) -> Self {
        self.fill = fill.into();
        self
    }

    /// `center=(x, y)` in pixels (default the image centre).
    pub fn center(mut self, x: impl Into<PyNum>, y: impl Into<PyNum>) -> Self {
        self.center = Some([x.into(), y.into()]);
        self
    }

    /// torchvision's `RandomAffine.get_params` for an image `(w, h)`:
    /// angle, whole-pixel translation, scale and shear.
    pub fn get_params(&self, (w, h): (i64, i64), rng: &mut TransformRng) -> AffineParams {
        let angle = rng.uniform(self.degrees.0[0], self.degrees.0[1]);
        let translate = self.translate.map_or((0.0, 0.0), |(a, b)| {
            let (dx, dy) = (a * w as f64, b * h as f64);
            let tx = py_round(rng.uniform(-dx, dx)) as f64;
            let ty = py_round(rng.uniform(-dy, dy)) as f64;
            (tx, ty)
        });
        let scale = self.scale.map_or(1.0, |(lo, hi)| rng.uniform(lo, hi));
        let shear = self.shear.as_ref().map_or((0.0, 0.0), |s| {
            let x = rng.uniform(s.0[0], s.0[1]);
            let y = if s.0.len() == 4 {
                rng.uniform(s.0[2], s.0[3])
            } else {
                0.0
            };
            (x, y)
        });
        AffineParams {
            angle,
            translate,
            scale,
            shear,
        }
    }

    /// Applies `params[k]` to image `k` of a batch
    /// (`F.affine(img, ..., NEAREST, fill=[0.0])`).
    pub fn affine(images: &Tensor, params: &[AffineParams]) -> Result<Tensor> {
        let d = dims("RandomAffine", images)?;
        let m: Vec<[f64; 6]> = params
            .iter()
            .map(|p| affine_matrix(p.angle, p.translate, p.scale, p.shear, None, (d.w, d.h)))
            .collect();
        warp(
            "RandomAffine",
            images,
            &m,
            InterpolationMode::Nearest,
            Some(&[0.0]),
            None,
        )
    }

    fn check(&self) -> Result<()> {
        self.degrees.check("RandomAffine", "degrees", &[2])?;
        if let Some(s) = &self.shear {
            s.check("RandomAffine", "shear", &[2, 4])?;
        }
        if let Some((a, b)) = self.translate {
            if !(0.0..=1.0).contains(&a) || !(0.0..=1.0).contains(&b) {
                return Err(Error::InvalidArgument(format!(
                    "RandomAffine: translation values should be between 0 and 1, got {}",
                    py_pair((a, b))
                )));
            }
        }
        if let Some((lo, hi)) = self.scale {
            if lo <= 0.0 || hi <= 0.0 || !lo.is_finite() || !hi.is_finite() {
                return Err(Error::InvalidArgument(format!(
                    "RandomAffine: scale values should be positive, got {}",
                    py_pair((lo, hi))
                )));
            }
        }
        Ok(())
    }
}

impl Transform for RandomAffine {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        self.check()?;
        let d = dims("RandomAffine", x)?;
        let fill = fill_per_channel(&self.fill, d.c);
        let m: Vec<[f64; 6]> = (0..d.batch.unwrap_or(1))
            .map(|_| {
                let p = self.get_params((d.w, d.h), rng);
                affine_matrix(
                    p.angle,
                    p.translate,
                    p.scale,
                    p.shear,
                    center_f(self.center),
                    (d.w, d.h),
                )
            })
            .collect();
        warp("RandomAffine", x, &m, self.interpolation, Some(&fill), None)
    }

    fn repr(&self) -> String {
        let mut s = format!("RandomAffine(degrees={}", self.degrees);
        if let Some(t) = self.translate {
            s += &format!(", translate={}", py_pair(t));
        }
        if let Some(sc) = self.scale {
            s += &format!(", scale={}", py_pair(sc));
        }
        if let Some(sh) = &self.shear {
            s += &format!(", shear={sh}");
        }
        if self.interpolation != InterpolationMode::Nearest {
            s += &format!(", interpolation={}", self.interpolation);
        }
        if !self.fill.is_zero() {
            s += &format!(", fill={}", self.fill);
        }
        if let Some(c) = self.center {
            s += &format!(", center={}", py_tuple(&c));
        }
        s + ")"
    }
}

repr_fmt!(RandomRotation, RandomAffine);
