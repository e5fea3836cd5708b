//! Random flips.

use tch::Tensor;

use super::{dims, repr_fmt, Transform, TransformRng};
use crate::error::{Error, Result};
use crate::pyfmt::py_float;

/// Flips the images of a batch (or the one image) where `which` is true.
fn flip_where(name: &str, x: &Tensor, which: &[bool], dim: i64) -> Result<Tensor> {
    let d = dims(name, x)?;
    let n = d.batch.unwrap_or(1);
    if which.len() as i64 != n {
        return Err(Error::InvalidArgument(format!(
            "{name}: {} flags for {n} images",
            which.len()
        )));
    }
    if d.batch.is_none() {
        return Ok(if which[0] {
            x.f_flip([dim])?
        } else {
            x.shallow_clone()
        });
    }
    let mask = Tensor::from_slice(which)
        .to_device(x.device())
        .view([n, 1, 1, 1]);
    Ok(x.f_flip([dim])?.f_where_self(&mask, x)?)
}

macro_rules! random_flip {
    ($name:ident, $py:literal, $dim:expr, $what:literal) => {
        #[doc = concat!("torchvision's `", $py, "(p=0.5)`: ", $what, " with probability `p`.")]
        ///
        /// ```
        #[doc = concat!("use cnn_lab::data::transforms::{", stringify!($name), ", Transform};")]
        #[doc = concat!("let t = ", stringify!($name), "::new().p(1.0);")]
        #[doc = concat!("assert_eq!(t.to_string(), \"", $py, "(p=1.0)\");")]
        /// let img = cnn_lab::Tensor::rand([3, 4, 5], cnn_lab::FLOAT_CPU);
        /// assert!(!t.apply_one(&img, 0)?.equal(&img));
        /// # Ok::<(), cnn_lab::Error>(())
        /// ```
        #[derive(Clone)]
        pub struct $name {
            p: f64,
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl $name {
            #[doc = concat!("`", $py, "()`.")]
            pub fn new() -> Self {
                $name { p: 0.5 }
            }

            /// `p=`: the probability of flipping an image (default 0.5).
            pub fn p(mut self, p: f64) -> Self {
                self.p = p;
                self
            }

            /// Flips image `k` of a batch (or the one image) where
            /// `which[k]` is true.
            pub fn flip(images: &Tensor, which: &[bool]) -> Result<Tensor> {
                flip_where($py, images, which, $dim)
            }
        }

        impl Transform for $name {
            fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
                let n = dims($py, x)?.batch.unwrap_or(1);
                let which: Vec<bool> = (0..n).map(|_| rng.bernoulli(self.p)).collect();
                Self::flip(x, &which)
            }

            fn repr(&self) -> String {
                format!("{}(p={})", $py, py_float(self.p))
            }
        }
    };
}

random_flip!(
    RandomHorizontalFlip,
    "RandomHorizontalFlip",
    -1,
    "mirrored left to right"
);
random_flip!(RandomVerticalFlip, "RandomVerticalFlip", -2, "upside down");

repr_fmt!(RandomHorizontalFlip, RandomVerticalFlip);
