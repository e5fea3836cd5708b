//! Data augmentation: torchvision's `transforms` with their names,
//! arguments and defaults, applied by the loader to each batch
//! ([`DataLoader::transform`](crate::DataLoader::transform)) on the
//! loader's device.
//!
//! As with torchvision on a dataset, every image of a batch gets its own
//! random parameters. They come from the loader's seed, the epoch and the
//! batch (SplitMix64, as the shuffle), not from libtorch's generator, so
//! augmentation never shifts `manual_seed`'s stream and a seeded run
//! repeats. Given the parameters, the results are torchvision's:
//! flip, crop (with padding) and `Normalize` bit for bit, rotation and
//! affine through the same inverse matrix, grid and `grid_sample` as
//! torchvision's tensor path (nearest, fill 0).
//!
//! ```
//! use cnn_lab::data::transforms::{Compose, RandomCrop, RandomHorizontalFlip, RandomRotation};
//! use cnn_lab::{DataLoader, Kind, Tensor};
//! let x = Tensor::rand([8, 1, 28, 28], (Kind::Float, cnn_lab::Device::Cpu));
//! let y = Tensor::zeros([8], (Kind::Int64, cnn_lab::Device::Cpu));
//! let loader = DataLoader::new(x, y, 4)?.shuffle(true).seed(1).transform(
//!     Compose::new()
//!         .add(RandomCrop::new(28).padding(4))
//!         .add(RandomHorizontalFlip::new())
//!         .add(RandomRotation::new(10.0)),
//! )?;
//! let (images, _) = loader.iter().next().unwrap();
//! assert_eq!(images.size(), [4, 1, 28, 28]);
//! # Ok::<(), cnn_lab::Error>(())
//! ```

use std::f64::consts::PI;

use tch::{Kind, Tensor};

use super::loader::Normalize;
use crate::error::{Error, Result};
use crate::rng::splitmix64;

/// The random numbers of one batch's transforms.
#[derive(Debug)]
pub struct TransformRng {
    stream: u64,
    next: u64,
}

impl TransformRng {
    /// The generator of batch `batch` of epoch `epoch` for loader seed `seed`.
    pub fn new(seed: u64, epoch: u64, batch: u64) -> TransformRng {
        let stream = splitmix64(seed ^ 0x7a5f_0c3d_91e2_b468, epoch)
            ^ splitmix64(0x2545_f491_4f6c_dd1d, batch);
        TransformRng { stream, next: 0 }
    }

    fn u64(&mut self) -> u64 {
        self.next += 1;
        splitmix64(self.stream, self.next - 1)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let u = (self.u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * u
    }

    /// Uniform integer in `0..=max`.
    pub fn int_to(&mut self, max: i64) -> i64 {
        (self.u64() % (max as u64 + 1)) as i64
    }
}

/// A batch transform (torchvision's `transforms.*`).
pub trait Transform: std::fmt::Debug + Send + Sync {
    /// The transformed batch `[N, C, H, W]`; random parameters drawn from
    /// `rng`, one set per image.
    fn apply(&self, images: &Tensor, rng: &mut TransformRng) -> Result<Tensor>;
}

fn check_batch(name: &str, images: &Tensor) -> Result<(i64, i64, i64, i64)> {
    match images.size()[..] {
        [n, c, h, w] if images.is_floating_point() => Ok((n, c, h, w)),
        _ => Err(Error::Shape(format!(
            "{name}: expected a float batch [N, C, H, W], got {:?} {:?}",
            images.size(),
            images.kind()
        ))),
    }
}

/// torchvision's `Compose([...])`: the transforms in order.
#[derive(Debug, Default)]
pub struct Compose {
    transforms: Vec<Box<dyn Transform>>,
}

impl Compose {
    /// An empty `Compose`; add transforms with [`Compose::add`].
    pub fn new() -> Compose {
        Compose::default()
    }

    /// Appends a transform (named as `Sequential::add`).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, transform: impl Transform + 'static) -> Self {
        self.transforms.push(Box::new(transform));
        self
    }
}

impl Transform for Compose {
    fn apply(&self, images: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        let mut x = images.shallow_clone();
        for t in &self.transforms {
            x = t.apply(&x, rng)?;
        }
        Ok(x)
    }
}

impl Transform for Normalize {
    fn apply(&self, images: &Tensor, _rng: &mut TransformRng) -> Result<Tensor> {
        Normalize::apply(self, images)
    }
}

/// torchvision's `RandomHorizontalFlip(p=0.5)`.
#[derive(Clone, Debug)]
pub struct RandomHorizontalFlip {
    p: f64,
}

impl Default for RandomHorizontalFlip {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomHorizontalFlip {
    /// `RandomHorizontalFlip()`.
    pub fn new() -> Self {
        RandomHorizontalFlip { p: 0.5 }
    }

    /// `p=`: the probability of flipping an image (default 0.5).
    pub fn p(mut self, p: f64) -> Self {
        self.p = p;
        self
    }

    /// Flips the images where `which` is true (torchvision's `F.hflip`).
    pub fn flip(images: &Tensor, which: &[bool]) -> Result<Tensor> {
        let (n, ..) = check_batch("RandomHorizontalFlip", images)?;
        if which.len() as i64 != n {
            return Err(Error::InvalidArgument(format!(
                "RandomHorizontalFlip: {} flags for {n} images",
                which.len()
            )));
        }
        let mask = Tensor::from_slice(which)
            .to_device(images.device())
            .view([n, 1, 1, 1]);
        Ok(images.flip([-1]).where_self(&mask, images))
    }
}

impl Transform for RandomHorizontalFlip {
    fn apply(&self, images: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        let (n, ..) = check_batch("RandomHorizontalFlip", images)?;
        let which: Vec<bool> = (0..n).map(|_| rng.uniform(0.0, 1.0) < self.p).collect();
        Self::flip(images, &which)
    }
}

/// torchvision's `RandomCrop(size, padding=None)`: zero padding (`fill=0`,
/// `padding_mode="constant"`), then a crop at a uniform random offset.
#[derive(Clone, Debug)]
pub struct RandomCrop {
    size: (i64, i64),
    padding: [i64; 4],
}

impl RandomCrop {
    /// `RandomCrop(size)`: a square crop `size` × `size`.
    pub fn new(size: i64) -> Self {
        RandomCrop {
            size: (size, size),
            padding: [0; 4],
        }
    }

    /// `padding=`: the same on every side.
    pub fn padding(mut self, padding: i64) -> Self {
        self.padding = [padding; 4];
        self
    }

    /// The padded images (`F.pad(img, padding)`, zeros).
    fn pad(&self, images: &Tensor) -> Tensor {
        let [l, t, r, b] = self.padding;
        if l == 0 && t == 0 && r == 0 && b == 0 {
            images.shallow_clone()
        } else {
            images.constant_pad_nd([l, r, t, b])
        }
    }

    /// Pads, then crops image `k` at `(top, left)` of the padded image
    /// (torchvision's `F.crop(F.pad(img, padding), top, left, h, w)`).
    pub fn crop(&self, images: &Tensor, offsets: &[(i64, i64)]) -> Result<Tensor> {
        let (n, _, h, w) = check_batch("RandomCrop", images)?;
        let padded = self.pad(images);
        let (ph, pw) = (
            h + self.padding[1] + self.padding[3],
            w + self.padding[0] + self.padding[2],
        );
        let (th, tw) = self.size;
        if th > ph || tw > pw || offsets.len() as i64 != n {
            return Err(Error::InvalidArgument(format!(
                "RandomCrop: crop {th}x{tw} of padded {ph}x{pw} images, {} offsets for {n} images",
                offsets.len()
            )));
        }
        let crops: Vec<Tensor> = offsets
            .iter()
            .enumerate()
            .map(|(k, &(top, left))| {
                padded
                    .narrow(0, k as i64, 1)
                    .narrow(2, top, th)
                    .narrow(3, left, tw)
            })
            .collect();
        Ok(Tensor::cat(&crops, 0))
    }
}

impl Transform for RandomCrop {
    fn apply(&self, images: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        let (n, _, h, w) = check_batch("RandomCrop", images)?;
        let (ph, pw) = (
            h + self.padding[1] + self.padding[3],
            w + self.padding[0] + self.padding[2],
        );
        let (th, tw) = self.size;
        if th > ph || tw > pw {
            return Err(Error::InvalidArgument(format!(
                "RandomCrop: Required crop size ({th}, {tw}) is larger than input image size ({ph}, {pw})"
            )));
        }
        let offsets: Vec<(i64, i64)> = (0..n)
            .map(|_| (rng.int_to(ph - th), rng.int_to(pw - tw)))
            .collect();
        self.crop(images, &offsets)
    }
}

/// One image's parameters of an affine transform, as torchvision's
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

/// torchvision's `_get_inverse_affine_matrix` with the centre at 0.
fn inverse_affine_matrix(
    angle: f64,
    (tx, ty): (f64, f64),
    scale: f64,
    (sx, sy): (f64, f64),
) -> [f64; 6] {
    let rot = angle * PI / 180.0;
    let (sx, sy) = (sx * PI / 180.0, sy * PI / 180.0);
    let a = (rot - sy).cos() / sy.cos();
    let b = -(rot - sy).cos() * sx.tan() / sy.cos() - rot.sin();
    let c = (rot - sy).sin() / sy.cos();
    let d = -(rot - sy).sin() * sx.tan() / sy.cos() + rot.cos();
    let mut m = [d, -b, 0.0, -c, a, 0.0].map(|x| x / scale);
    m[2] += m[0] * -tx + m[1] * -ty;
    m[5] += m[3] * -tx + m[4] * -ty;
    m
}

/// Applies one inverse matrix per image as torchvision's tensor path does:
/// its affine grid (`_gen_affine_grid`), then `grid_sample` nearest, zeros.
fn warp(images: &Tensor, matrices: &[[f64; 6]]) -> Result<Tensor> {
    let (n, _, h, w) = check_batch("affine", images)?;
    let (device, kind) = (images.device(), images.kind());
    let flat: Vec<f64> = matrices.iter().flatten().copied().collect();
    let theta = Tensor::from_slice(&flat)
        .to_kind(kind)
        .to_device(device)
        .view([n, 2, 3]);
    let base = Tensor::empty([1, h, w, 3], (kind, device));
    let d = 0.5;
    let xs = Tensor::linspace(
        -(w as f64) * 0.5 + d,
        w as f64 * 0.5 + d - 1.0,
        w,
        (kind, device),
    );
    let ys = Tensor::linspace(
        -(h as f64) * 0.5 + d,
        h as f64 * 0.5 + d - 1.0,
        h,
        (kind, device),
    );
    base.select(3, 0).copy_(&xs);
    base.select(3, 1).copy_(&ys.unsqueeze(-1));
    let _ = base.select(3, 2).fill_(1.0);
    let scale = Tensor::from_slice(&[0.5 * w as f64, 0.5 * h as f64])
        .to_kind(kind)
        .to_device(device);
    let rescaled = theta.transpose(1, 2) / scale;
    let grid = base
        .view([1, h * w, 3])
        .expand([n, h * w, 3], false)
        .bmm(&rescaled)
        .view([n, h, w, 2]);
    // mode 1 = nearest, padding 0 = zeros, align_corners false.
    Ok(images.f_grid_sampler(&grid, 1, 0, false)?)
}

/// torchvision's `RandomRotation(degrees)`: an angle uniform in
/// `[-degrees, degrees]`, nearest interpolation, fill 0, about the centre.
#[derive(Clone, Debug)]
pub struct RandomRotation {
    degrees: (f64, f64),
}

impl RandomRotation {
    /// `RandomRotation(degrees)`.
    pub fn new(degrees: f64) -> Self {
        RandomRotation {
            degrees: (-degrees.abs(), degrees.abs()),
        }
    }

    /// Rotates image `k` by `angles[k]` degrees (torchvision's `F.rotate`).
    pub fn rotate(images: &Tensor, angles: &[f64]) -> Result<Tensor> {
        let m: Vec<[f64; 6]> = angles
            .iter()
            .map(|&a| inverse_affine_matrix(-a, (0.0, 0.0), 1.0, (0.0, 0.0)))
            .collect();
        warp(images, &m)
    }
}

impl Transform for RandomRotation {
    fn apply(&self, images: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        let (n, ..) = check_batch("RandomRotation", images)?;
        let angles: Vec<f64> = (0..n)
            .map(|_| rng.uniform(self.degrees.0, self.degrees.1))
            .collect();
        Self::rotate(images, &angles)
    }
}

/// torchvision's `RandomAffine(degrees, translate=None, scale=None,
/// shear=None)`: nearest interpolation, fill 0, about the centre.
#[derive(Clone, Debug)]
pub struct RandomAffine {
    degrees: (f64, f64),
    translate: Option<(f64, f64)>,
    scale: Option<(f64, f64)>,
    shear: Option<(f64, f64)>,
}

impl RandomAffine {
    /// `RandomAffine(degrees)`.
    pub fn new(degrees: f64) -> Self {
        RandomAffine {
            degrees: (-degrees.abs(), degrees.abs()),
            translate: None,
            scale: None,
            shear: None,
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

    /// `shear=s`: an x shear uniform in `[-s, s]` degrees.
    pub fn shear(mut self, s: f64) -> Self {
        self.shear = Some((-s.abs(), s.abs()));
        self
    }

    /// Applies `params[k]` to image `k` (torchvision's `F.affine`).
    pub fn affine(images: &Tensor, params: &[AffineParams]) -> Result<Tensor> {
        let m: Vec<[f64; 6]> = params
            .iter()
            .map(|p| inverse_affine_matrix(p.angle, p.translate, p.scale, p.shear))
            .collect();
        warp(images, &m)
    }

    /// One image's parameters, as `RandomAffine.get_params` draws them.
    fn draw(&self, rng: &mut TransformRng, (w, h): (i64, i64)) -> AffineParams {
        let angle = rng.uniform(self.degrees.0, self.degrees.1);
        let translate = self.translate.map_or((0.0, 0.0), |(a, b)| {
            let (dx, dy) = (a * w as f64, b * h as f64);
            (rng.uniform(-dx, dx).round(), rng.uniform(-dy, dy).round())
        });
        let scale = self.scale.map_or(1.0, |(lo, hi)| rng.uniform(lo, hi));
        let shear = self
            .shear
            .map_or((0.0, 0.0), |(lo, hi)| (rng.uniform(lo, hi), 0.0));
        AffineParams {
            angle,
            translate,
            scale,
            shear,
        }
    }
}

impl Transform for RandomAffine {
    fn apply(&self, images: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        let (n, _, h, w) = check_batch("RandomAffine", images)?;
        let params: Vec<AffineParams> = (0..n).map(|_| self.draw(rng, (w, h))).collect();
        Self::affine(images, &params)
    }
}

/// Checks a transform on the first image of `images` (what
/// [`DataLoader::transform`](crate::DataLoader::transform) does once, so
/// that a mistake is an error there rather than a panic mid-epoch).
pub(crate) fn dry_run(t: &dyn Transform, images: &Tensor) -> Result<()> {
    let one = images.narrow(0, 0, images.size().first().copied().unwrap_or(0).min(1));
    if one.numel() > 0 {
        let _guard = tch::no_grad_guard();
        let _ = t.apply(
            &one.to_kind(if one.is_floating_point() {
                one.kind()
            } else {
                Kind::Float
            }),
            &mut TransformRng::new(0, 0, 0),
        )?;
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
}
