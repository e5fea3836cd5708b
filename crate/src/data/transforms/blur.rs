//! Gaussian blur with a random sigma.

use tch::Tensor;

use super::args::{py_pair, ImageSize};
use super::color::Jitter;
use super::functional as F;
use super::{per_image, repr_fmt, Transform, TransformRng};
use crate::error::{Error, Result};

/// torchvision's `GaussianBlur(kernel_size, sigma=(0.1, 2.0))`: a Gaussian
/// of `kernel_size` `(kx, ky)` (odd) with sigma uniform in `sigma`.
///
/// ```
/// use cnn_lab::data::transforms::{GaussianBlur, Transform};
/// let t = GaussianBlur::new(5);
/// assert_eq!(t.to_string(), "GaussianBlur(kernel_size=(5, 5), sigma=(0.1, 2.0))");
/// assert_eq!(GaussianBlur::new((3, 5)).sigma(1.0).to_string(),
///            "GaussianBlur(kernel_size=(3, 5), sigma=(1.0, 1.0))");
/// let img = cnn_lab::Tensor::rand([3, 16, 16], cnn_lab::FLOAT_CPU);
/// assert_eq!(t.apply_one(&img, 0)?.size(), [3, 16, 16]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct GaussianBlur {
    kernel_size: (i64, i64),
    sigma: (f64, f64),
}

impl GaussianBlur {
    /// `GaussianBlur(kernel_size)`: one odd int or `(kx, ky)`.
    pub fn new(kernel_size: impl Into<ImageSize>) -> Self {
        GaussianBlur {
            kernel_size: kernel_size.into().hw(),
            sigma: (0.1, 2.0),
        }
    }

    /// `sigma=`: a fixed `s` or `(min, max)` to draw from.
    pub fn sigma(mut self, sigma: impl Into<Jitter>) -> Self {
        self.sigma = match sigma.into() {
            Jitter::Amount(s) => (s, s),
            Jitter::Range(a, b) => (a, b),
        };
        self
    }

    /// torchvision's `GaussianBlur.get_params`: sigma uniform in the range.
    pub fn get_params(&self, rng: &mut TransformRng) -> f64 {
        rng.uniform(self.sigma.0, self.sigma.1)
    }

    fn check(&self) -> Result<()> {
        let (kx, ky) = self.kernel_size;
        if kx <= 0 || ky <= 0 || kx % 2 == 0 || ky % 2 == 0 {
            return Err(Error::InvalidArgument(format!(
                "GaussianBlur: Kernel size value should be an odd and positive number, got ({kx}, {ky})."
            )));
        }
        let (a, b) = self.sigma;
        if !(0.0 < a && a <= b && b.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "GaussianBlur: sigma values should be positive and of the form (min, max), got {}.",
                py_pair(self.sigma)
            )));
        }
        Ok(())
    }
}

impl Transform for GaussianBlur {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        self.check()?;
        let k = [self.kernel_size.0, self.kernel_size.1];
        per_image("GaussianBlur", x, |img| {
            let s = self.get_params(rng);
            F::gaussian_blur(img, k, Some([s, s]))
        })
    }

    /// Random unless sigma is one value (`sigma=(s, s)`).
    fn is_random(&self) -> bool {
        self.sigma.0 != self.sigma.1
    }

    fn repr(&self) -> String {
        format!(
            "GaussianBlur(kernel_size=({}, {}), sigma={})",
            self.kernel_size.0,
            self.kernel_size.1,
            py_pair(self.sigma)
        )
    }
}

repr_fmt!(GaussianBlur);
