//! torchvision's image transforms (`torchvision.transforms`, v1): the same
//! names, arguments, defaults and printout, for photos and for MNIST's
//! tensors alike.
//!
//! A transform takes one image `[C, H, W]` or a batch `[N, C, H, W]`,
//! `uint8` (0..255) or float (0..1), as torchvision's tensor transforms
//! do; in a batch every image gets its own random parameters (as the same
//! transform called once per sample of a dataset). The random numbers come
//! from a [`TransformRng`] (the loader's seed, the epoch and the sample or
//! batch), not from libtorch's generator, so augmentation never shifts
//! `manual_seed`'s stream and a seeded run repeats.
//!
//! Each random transform draws its parameters as torchvision's
//! `get_params` does (same distributions and rules) and then calls its
//! functional form in [`functional`] (torchvision's `F.*`), which computes
//! what torchvision's tensor path computes. `print(transform)`: a
//! transform's `Display` (and `Debug`) is torchvision's `repr`.
//!
//! ```
//! use cnn_lab::data::transforms::*;
//! use cnn_lab::{Kind, Tensor};
//! let t = Compose::new()
//!     .add(RandomResizedCrop::new(32))
//!     .add(RandomHorizontalFlip::new())
//!     .add(ColorJitter::new().brightness(0.4))
//!     .add(ToTensor::new())
//!     .add(cnn_lab::Normalize::new([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]));
//! let photo = Tensor::randint(256, [3, 48, 64], (Kind::Uint8, cnn_lab::Device::Cpu));
//! let x = t.apply_one(&photo, 7)?;
//! assert_eq!(x.size(), [3, 32, 32]);
//! assert!(x.equal(&t.apply_one(&photo, 7)?), "a seed repeats");
//! println!("{t}"); // Compose(\n    RandomResizedCrop(size=(32, 32), ...
//! # Ok::<(), cnn_lab::Error>(())
//! ```

mod affine;
mod args;
mod blur;
mod color;
mod containers;
mod dtype;
mod erasing;
mod flip;
pub mod functional;
mod geometry;

use std::fmt;

use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::rng::splitmix64;

pub use affine::{AffineParams, RandomAffine, RandomRotation};
pub use args::{Angles, Fill, ImageSize, InterpolationMode, PadWidths, PaddingMode, PyNum};
pub use blur::GaussianBlur;
pub use color::{
    ColorJitter, ColorJitterParams, Grayscale, Jitter, RandomAdjustSharpness, RandomGrayscale,
    RandomInvert,
};
pub use containers::{Compose, RandomApply, RandomChoice};
pub use dtype::{ConvertImageDtype, ToTensor};
pub use erasing::{ErasingValue, RandomErasing};
pub use flip::{RandomHorizontalFlip, RandomVerticalFlip};
pub use geometry::{CenterCrop, Pad, RandomCrop, RandomResizedCrop, Resize};

/// The random numbers of the transforms: a SplitMix64 stream per loader
/// seed, epoch and sample (or batch).
///
/// ```
/// use cnn_lab::data::transforms::TransformRng;
/// let mut a = TransformRng::new(1, 0, 5);
/// let mut b = TransformRng::new(1, 0, 5);
/// assert_eq!(a.uniform(0.0, 1.0), b.uniform(0.0, 1.0));
/// ```
#[derive(Debug, Clone)]
pub struct TransformRng {
    stream: u64,
    next: u64,
}

impl TransformRng {
    /// The generator of sample (or batch) `index` of epoch `epoch` for
    /// loader seed `seed`.
    pub fn new(seed: u64, epoch: u64, index: u64) -> TransformRng {
        let stream = splitmix64(seed ^ 0x7a5f_0c3d_91e2_b468, epoch)
            ^ splitmix64(0x2545_f491_4f6c_dd1d, index);
        TransformRng { stream, next: 0 }
    }

    fn u64(&mut self) -> u64 {
        self.next += 1;
        splitmix64(self.stream, self.next - 1)
    }

    /// Uniform in `[lo, hi)` (`torch.empty(1).uniform_(lo, hi)`).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let u = (self.u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * u
    }

    /// Uniform integer in `0..=max` (`torch.randint(0, max + 1)`).
    pub fn int_to(&mut self, max: i64) -> i64 {
        if max <= 0 {
            return 0;
        }
        (self.u64() % (max as u64 + 1)) as i64
    }

    /// `torch.rand(1) < p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform(0.0, 1.0) < p
    }

    /// A random permutation of `0..n` (`torch.randperm(n)`).
    pub fn randperm(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.int_to(i as i64) as usize;
            v.swap(i, j);
        }
        v
    }

    /// A standard normal draw (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(0.0, 1.0);
        let u2 = self.uniform(0.0, 1.0);
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// An image transform (torchvision's `transforms.*`).
pub trait Transform: fmt::Debug + Send + Sync {
    /// The transformed image `[C, H, W]` or batch `[N, C, H, W]` (uint8
    /// 0..255 or float 0..1); random parameters drawn from `rng`, one set
    /// per image of a batch.
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor>;

    /// torchvision's `repr(transform)`, e.g.
    /// `Resize(size=224, interpolation=bilinear, max_size=None, antialias=True)`;
    /// by default the `Debug` text (every transform here overrides it).
    fn repr(&self) -> String {
        format!("{self:?}")
    }

    /// Whether the result may differ between two calls on the same image
    /// (whether it draws from `rng`). `true` unless the transform says
    /// otherwise, the safe answer: `fit` computes a frozen body's output
    /// once per sample only where every transform of the loader is
    /// deterministic (`Resize`, `CenterCrop`, `ToTensor`, `Normalize`, …,
    /// and a `Compose` of such).
    ///
    /// ```
    /// use cnn_lab::data::transforms::*;
    /// assert!(!Compose::new().add(Resize::new((224, 224))).add(ToTensor::new()).is_random());
    /// assert!(Compose::new().add(Resize::new((224, 224))).add(RandomHorizontalFlip::new()).is_random());
    /// ```
    fn is_random(&self) -> bool {
        true
    }

    /// The transform of `x` with the generator of `seed` (epoch 0, index
    /// 0), without gradients: a notebook cell's `t(img)` that repeats.
    ///
    /// ```
    /// use cnn_lab::data::transforms::{RandomRotation, Transform};
    /// let img = cnn_lab::Tensor::rand([3, 8, 8], cnn_lab::FLOAT_CPU);
    /// let t = RandomRotation::new(30);
    /// assert!(t.apply_one(&img, 1)?.equal(&t.apply_one(&img, 1)?));
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    fn apply_one(&self, x: &Tensor, seed: u64) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        self.apply(x, &mut TransformRng::new(seed, 0, 0))
    }
}

impl fmt::Display for dyn Transform + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repr())
    }
}

/// `Display` and `Debug` as torchvision's `repr` (so `println!("{t}")`
/// and a notebook cell ending in `t` print torchvision's text).
macro_rules! repr_fmt {
    ($($t:ty),* $(,)?) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::data::transforms::Transform::repr(self))
            }
        }
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::data::transforms::Transform::repr(self))
            }
        }
    )*};
}
pub(crate) use repr_fmt;

/// The dimensions of one image or a batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dims {
    pub batch: Option<i64>,
    pub c: i64,
    pub h: i64,
    pub w: i64,
}

/// Checks `x` is one image `[C, H, W]` or a batch `[N, C, H, W]`, uint8 or
/// floating point.
pub(crate) fn dims(name: &str, x: &Tensor) -> Result<Dims> {
    let kind_ok = x.kind() == Kind::Uint8 || x.is_floating_point();
    let size = x.size();
    match (size.as_slice(), kind_ok) {
        (&[c, h, w], true) => Ok(Dims {
            batch: None,
            c,
            h,
            w,
        }),
        (&[n, c, h, w], true) => Ok(Dims {
            batch: Some(n),
            c,
            h,
            w,
        }),
        _ => Err(Error::Shape(format!(
            "{name}: expected one image [C, H, W] or a batch [N, C, H, W], uint8 (0..255) or \
             float (0..1), got {:?} {:?}",
            x.size(),
            x.kind()
        ))),
    }
}

/// `f` on each image of a batch (stacked again) or on the one image.
pub(crate) fn per_image(
    name: &str,
    x: &Tensor,
    mut f: impl FnMut(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let d = dims(name, x)?;
    let Some(n) = d.batch else {
        return f(x);
    };
    let mut out = Vec::with_capacity(n as usize);
    for k in 0..n {
        let y = f(&x.get(k))?;
        if let Some(first) = out.first() {
            let first: &Tensor = first;
            if first.size() != y.size() {
                return Err(Error::Shape(format!(
                    "{name}: the images of a batch came out in different sizes ({:?} and {:?}); \
                     transform them one at a time or give a fixed output size",
                    first.size(),
                    y.size()
                )));
            }
        }
        out.push(y);
    }
    if out.is_empty() {
        return Ok(x.shallow_clone());
    }
    Ok(Tensor::f_stack(&out, 0)?)
}

/// Checks a transform on the first image of `images` (the stacked samples
/// `[N, C, H, W]`), as [`DataLoader::transform`](crate::DataLoader::transform)
/// does once so that a mistake is an error there rather than a panic
/// mid-epoch.
pub(crate) fn dry_run(t: &dyn Transform, images: &Tensor) -> Result<()> {
    if images.dim() != 4 || !(images.is_floating_point() || images.kind() == Kind::Uint8) {
        return Err(Error::Shape(format!(
            "{t}: expected a float batch [N, C, H, W] (or uint8), got {:?} {:?}",
            images.size(),
            images.kind()
        )));
    }
    let one = images.narrow(0, 0, images.size()[0].min(1));
    if one.numel() > 0 {
        let _guard = tch::no_grad_guard();
        let _ = t.apply(&one, &mut TransformRng::new(0, 0, 0))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_offsets_cover_the_padded_range_and_stay_inside() {
        let x = Tensor::ones([64, 1, 8, 8], (Kind::Float, tch::Device::Cpu));
        let crop = RandomCrop::new(8).padding(2);
        let mut rng = TransformRng::new(5, 0, 0);
        let out = crop.apply(&x, &mut rng).unwrap();
        assert_eq!(out.size(), [64, 1, 8, 8]);
        // The zero border of a crop shows where it was taken; offsets 0 and
        // 4 (both extremes) both occur among 64 images.
        let sums: Vec<f64> = (0..64)
            .map(|k| out.get(k).sum(Kind::Double).double_value(&[]))
            .collect();
        assert!(sums.contains(&36.0), "a corner crop");
        assert!(sums.iter().all(|&s| (36.0..=64.0).contains(&s)));
    }

    #[test]
    fn randperm_is_a_permutation() {
        let mut rng = TransformRng::new(3, 1, 2);
        for _ in 0..20 {
            let mut p = rng.randperm(4);
            p.sort();
            assert_eq!(p, [0, 1, 2, 3]);
        }
    }
}
