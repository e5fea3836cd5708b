//! Random erasing (Zhong et al.), on tensors after `Normalize`.

use std::fmt;

use tch::{Kind, Tensor};

use super::args::{py_pair, py_round, Fill, PyNum};
use super::functional as F;
use super::{dims, per_image, repr_fmt, Transform, TransformRng};
use crate::error::{Error, Result};
use crate::pyfmt::py_bool;

/// `RandomErasing`'s `value`: a fill (one number or one per channel), or
/// `"random"` (standard normal noise per pixel).
///
/// ```
/// use cnn_lab::data::transforms::ErasingValue;
/// assert_eq!(ErasingValue::from(0).to_string(), "0");
/// assert_eq!(ErasingValue::Random.to_string(), "random");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ErasingValue {
    /// One value or one per channel.
    Fill(Fill),
    /// `value="random"`.
    Random,
}

impl<T: Into<Fill>> From<T> for ErasingValue {
    fn from(v: T) -> Self {
        ErasingValue::Fill(v.into())
    }
}

impl fmt::Display for ErasingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErasingValue::Fill(v) => write!(f, "{v}"),
            ErasingValue::Random => f.write_str("random"),
        }
    }
}

/// torchvision's `RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3,
/// 3.3), value=0, inplace=False)`: with probability `p`, a box of random
/// area and aspect ratio set to `value`.
///
/// ```
/// use cnn_lab::data::transforms::{RandomErasing, Transform};
/// let t = RandomErasing::new().p(1.0);
/// assert_eq!(t.to_string(),
///            "RandomErasing(p=1.0, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False)");
/// let img = cnn_lab::Tensor::ones([3, 32, 32], cnn_lab::FLOAT_CPU);
/// let x = t.apply_one(&img, 3)?;
/// assert!(x.sum(cnn_lab::Kind::Float).double_value(&[]) < 3.0 * 32.0 * 32.0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct RandomErasing {
    p: f64,
    scale: (f64, f64),
    ratio: (f64, f64),
    value: ErasingValue,
}

impl Default for RandomErasing {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomErasing {
    /// `RandomErasing()`.
    pub fn new() -> Self {
        RandomErasing {
            p: 0.5,
            scale: (0.02, 0.33),
            ratio: (0.3, 3.3),
            value: ErasingValue::Fill(Fill::Num(PyNum::Int(0))),
        }
    }

    /// `p=` (default 0.5).
    pub fn p(mut self, p: f64) -> Self {
        self.p = p;
        self
    }

    /// `scale=(lo, hi)`: the box's area as a fraction of the image's.
    pub fn scale(mut self, lo: f64, hi: f64) -> Self {
        self.scale = (lo, hi);
        self
    }

    /// `ratio=(lo, hi)`: the box's aspect ratio (height / width) range.
    pub fn ratio(mut self, lo: f64, hi: f64) -> Self {
        self.ratio = (lo, hi);
        self
    }

    /// `value=`: a number, one per channel, or [`ErasingValue::Random`].
    pub fn value(mut self, value: impl Into<ErasingValue>) -> Self {
        self.value = value.into();
        self
    }

    /// torchvision's `RandomErasing.get_params` for an image `(h, w)`: the
    /// box `(i, j, h, w)`, or `None` when ten tries found none that fits
    /// (the image is then left as it is).
    pub fn get_params(
        &self,
        (img_h, img_w): (i64, i64),
        rng: &mut TransformRng,
    ) -> Option<(i64, i64, i64, i64)> {
        let area = (img_h * img_w) as f64;
        let (lr0, lr1) = (self.ratio.0.ln(), self.ratio.1.ln());
        for _ in 0..10 {
            let erase_area = area * rng.uniform(self.scale.0, self.scale.1);
            let aspect_ratio = rng.uniform(lr0, lr1).exp();
            let h = py_round((erase_area * aspect_ratio).sqrt());
            let w = py_round((erase_area / aspect_ratio).sqrt());
            if !(h < img_h && w < img_w) {
                continue;
            }
            let i = rng.int_to(img_h - h);
            let j = rng.int_to(img_w - w);
            return Some((i, j, h, w));
        }
        None
    }

    fn check(&self, channels: i64) -> Result<()> {
        if !(0.0..=1.0).contains(&self.p) {
            return Err(Error::InvalidArgument(format!(
                "RandomErasing: Random erasing probability should be between 0 and 1, got {}",
                self.p
            )));
        }
        if self.scale.0 < 0.0 || self.scale.1 > 1.0 {
            return Err(Error::InvalidArgument(format!(
                "RandomErasing: Scale should be between 0 and 1, got {}",
                py_pair(self.scale)
            )));
        }
        if let ErasingValue::Fill(Fill::PerChannel(v)) = &self.value {
            if v.len() != 1 && v.len() as i64 != channels {
                return Err(Error::InvalidArgument(format!(
                    "RandomErasing: If value is a sequence, it should have either a single value \
                     or {channels} (number of input channels), got {}",
                    v.len()
                )));
            }
        }
        Ok(())
    }
}

impl Transform for RandomErasing {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        let c = dims("RandomErasing", x)?.c;
        self.check(c)?;
        per_image("RandomErasing", x, |img| {
            if !rng.bernoulli(self.p) {
                return Ok(img.shallow_clone());
            }
            let d = dims("RandomErasing", img)?;
            let Some((i, j, h, w)) = self.get_params((d.h, d.w), rng) else {
                return Ok(img.shallow_clone());
            };
            let v = match &self.value {
                ErasingValue::Random => {
                    let noise: Vec<f32> = (0..c * h * w).map(|_| rng.normal() as f32).collect();
                    Tensor::from_slice(&noise).view([c, h, w])
                }
                ErasingValue::Fill(f) => {
                    let vals: Vec<f32> = f.values().iter().map(|&v| v as f32).collect();
                    Tensor::from_slice(&vals).view([-1, 1, 1])
                }
            };
            F::erase(img, i, j, h, w, &v.to_kind(Kind::Float))
        })
    }

    fn repr(&self) -> String {
        format!(
            "RandomErasing(p={}, scale={}, ratio={}, value={}, inplace={})",
            crate::pyfmt::py_float(self.p),
            py_pair(self.scale),
            py_pair(self.ratio),
            self.value,
            py_bool(false)
        )
    }
}

repr_fmt!(RandomErasing);
