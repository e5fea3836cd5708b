//! Transforms of transforms: `Compose`, `RandomApply`, `RandomChoice`.

use tch::Tensor;

use super::args::py_float_list;
use super::{per_image, repr_fmt, Transform, TransformRng};
use crate::error::{Error, Result};
use crate::pyfmt::py_float;

/// torchvision's list printout: one transform per line, indented by four
/// spaces (a nested one's own lines as they are, as torchvision does).
fn listing(head: &str, transforms: &[Box<dyn Transform>]) -> String {
    let mut s = head.to_string();
    for t in transforms {
        s += &format!("\n    {}", t.repr());
    }
    s + "\n)"
}

/// torchvision's `Compose([...])`: the transforms in order.
///
/// ```
/// use cnn_lab::data::transforms::{Compose, Resize, ToTensor};
/// let t = Compose::new().add(Resize::new(224)).add(ToTensor::new());
/// assert_eq!(t.to_string(), "Compose(\n    Resize(size=224, interpolation=bilinear, \
///     max_size=None, antialias=True)\n    ToTensor()\n)");
/// ```
#[derive(Default)]
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

    /// The transforms, in order (`compose.transforms`).
    pub fn transforms(&self) -> &[Box<dyn Transform>] {
        &self.transforms
    }
}

impl Transform for Compose {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        let mut x = x.shallow_clone();
        for t in &self.transforms {
            x = t.apply(&x, rng)?;
        }
        Ok(x)
    }

    /// Random when any of its transforms is.
    fn is_random(&self) -> bool {
        self.transforms.iter().any(|t| t.is_random())
    }

    fn repr(&self) -> String {
        listing("Compose(", &self.transforms)
    }
}

/// torchvision's `RandomApply([...], p=0.5)`: the transforms in order,
/// all or none, with probability `p`.
///
/// ```
/// use cnn_lab::data::transforms::{ColorJitter, RandomApply};
/// let t = RandomApply::new().add(ColorJitter::new().brightness(0.8)).p(0.8);
/// assert_eq!(t.to_string(), "RandomApply(\n    p=0.8\n    ColorJitter(brightness=(0.19999999999999996, 1.8), \
///     contrast=None, saturation=None, hue=None)\n)");
/// ```
pub struct RandomApply {
    transforms: Vec<Box<dyn Transform>>,
    p: f64,
}

impl Default for RandomApply {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomApply {
    /// `RandomApply([])`; add transforms with [`RandomApply::add`].
    pub fn new() -> Self {
        RandomApply {
            transforms: Vec::new(),
            p: 0.5,
        }
    }

    /// Appends a transform to the list.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, transform: impl Transform + 'static) -> Self {
        self.transforms.push(Box::new(transform));
        self
    }

    /// `p=` (default 0.5).
    pub fn p(mut self, p: f64) -> Self {
        self.p = p;
        self
    }
}

impl Transform for RandomApply {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        per_image("RandomApply", x, |img| {
            // torchvision: `if self.p < torch.rand(1): return img`.
            if self.p < rng.uniform(0.0, 1.0) {
                return Ok(img.shallow_clone());
            }
            let mut y = img.shallow_clone();
            for t in &self.transforms {
                y = t.apply(&y, rng)?;
            }
            Ok(y)
        })
    }

    fn repr(&self) -> String {
        listing(
            &format!("RandomApply(\n    p={}", py_float(self.p)),
            &self.transforms,
        )
    }
}

/// torchvision's `RandomChoice([...], p=None)`: one of the transforms,
/// uniformly or with weights `p`.
///
/// ```
/// use cnn_lab::data::transforms::{Grayscale, RandomChoice, RandomInvert};
/// let t = RandomChoice::new().add(RandomInvert::new()).add(Grayscale::new());
/// assert_eq!(t.to_string(), "RandomChoice(\n    RandomInvert(p=0.5)\n    \
///     Grayscale(num_output_channels=1)\n)(p=None)");
/// ```
#[derive(Default)]
pub struct RandomChoice {
    transforms: Vec<Box<dyn Transform>>,
    p: Option<Vec<f64>>,
}

impl RandomChoice {
    /// `RandomChoice([])`; add transforms with [`RandomChoice::add`].
    pub fn new() -> Self {
        RandomChoice::default()
    }

    /// Appends a transform to the list.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, transform: impl Transform + 'static) -> Self {
        self.transforms.push(Box::new(transform));
        self
    }

    /// `p=`: relative weights, one per transform (default uniform).
    pub fn p(mut self, p: impl Into<Vec<f64>>) -> Self {
        self.p = Some(p.into());
        self
    }

    /// The index of the transform to apply (`random.choices(..., weights=p)`).
    pub fn get_params(&self, rng: &mut TransformRng) -> Result<usize> {
        let n = self.transforms.len();
        if n == 0 {
            return Err(Error::InvalidArgument(
                "RandomChoice: no transforms to choose from".into(),
            ));
        }
        let weights = match &self.p {
            None => vec![1.0; n],
            Some(p) if p.len() == n && p.iter().all(|w| *w >= 0.0 && w.is_finite()) => p.clone(),
            Some(p) => {
                return Err(Error::InvalidArgument(format!(
                    "RandomChoice: p needs one non-negative weight per transform ({n}), got {}",
                    py_float_list(p)
                )))
            }
        };
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return Err(Error::InvalidArgument(
                "RandomChoice: Total of weights must be greater than zero".into(),
            ));
        }
        let u = rng.uniform(0.0, total);
        let mut acc = 0.0;
        for (k, w) in weights.iter().enumerate() {
            acc += w;
            if u < acc {
                return Ok(k);
            }
        }
        Ok(n - 1)
    }
}

impl Transform for RandomChoice {
    fn apply(&self, x: &Tensor, rng: &mut TransformRng) -> Result<Tensor> {
        per_image("RandomChoice", x, |img| {
            let k = self.get_params(rng)?;
            self.transforms[k].apply(img, rng)
        })
    }

    fn repr(&self) -> String {
        let p = self.p.as_ref().map_or("None".into(), |p| py_float_list(p));
        format!("{}(p={p})", listing("RandomChoice(", &self.transforms))
    }
}

repr_fmt!(Compose, RandomApply, RandomChoice);
