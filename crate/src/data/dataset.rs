//! PyTorch's map-style datasets (`torch.utils.data`): the [`Dataset`]
//! trait, [`TensorDataset`], [`Subset`] and [`random_split`].

use std::fmt;
use std::sync::Arc;

use tch::{Kind, Tensor};

use super::transforms::{Transform, TransformRng};
use crate::error::{Error, Result};

/// PyTorch's map-style `torch.utils.data.Dataset`: a length and sample `i`
/// as `(image, label)`.
///
/// Labels are tensors so that any target works: a scalar `int64` class
/// (what [`ImageFolder`](super::ImageFolder) and
/// [`MnistSplit`](super::MnistSplit) give, `CrossEntropyLoss`'s target),
/// a `[1]` `float32` target for `BCEWithLogitsLoss`, a box, a mask.
/// A [`DataLoader`](super::DataLoader) built by
/// [`from_dataset`](super::DataLoader::from_dataset) stacks them into
/// batches.
///
/// Only [`len`](Dataset::len) and [`get`](Dataset::get) are required.
/// A dataset whose samples are decoded and then randomly transformed (as
/// `ImageFolder` with a `transform`) also splits `get` into
/// [`get_untransformed`](Dataset::get_untransformed) and
/// [`transform_sample`](Dataset::transform_sample), so that the loader's
/// [`cache`](super::DataLoader::cache) keeps the decoded sample and draws
/// new transforms every epoch, and each sample's random numbers come from
/// the loader's seed, the epoch and the sample's index, not from the
/// thread that loads it.
///
/// The loader reads samples on worker threads, hence `Send + Sync`. A
/// dataset holding tensors can keep them in a [`TensorDataset`] (or behind
/// a `Mutex`): a `tch::Tensor` is `Send` but not `Sync`.
///
/// ```
/// use cnn_lab::data::{DataLoader, Dataset};
/// use cnn_lab::{Kind, Result, Tensor};
///
/// /// Squares of every size: image `i` is `i` everywhere, its label `i % 2`.
/// struct Squares;
///
/// impl Dataset for Squares {
///     fn len(&self) -> usize {
///         6
///     }
///     fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
///         let image = Tensor::full([1, 4, 4], index as f64, (Kind::Float, cnn_lab::Device::Cpu));
///         Ok((image, Tensor::from(index as i64 % 2)))
///     }
/// }
///
/// let loader = DataLoader::from_dataset(Squares, 4)?;
/// let sizes: Vec<Vec<i64>> = loader.iter().map(|(x, _)| x.size()).collect();
/// assert_eq!(sizes, [vec![4, 1, 4, 4], vec![2, 1, 4, 4]]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub trait Dataset: Send + Sync {
    /// Number of samples (`len(dataset)`).
    fn len(&self) -> usize;

    /// Sample `index` (`dataset[index]`): `(image, label)`, with the
    /// dataset's own transforms drawn as for epoch 0 (the loader draws them
    /// per epoch through [`transform_sample`](Dataset::transform_sample)).
    /// An index out of range is an error.
    fn get(&self, index: usize) -> Result<(Tensor, Tensor)>;

    /// True when the dataset has no sample.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `index` before the dataset's random transforms: what a
    /// loader's [`cache`](super::DataLoader::cache) keeps. Defaults to
    /// [`get`](Dataset::get).
    fn get_untransformed(&self, index: usize) -> Result<(Tensor, Tensor)> {
        self.get(index)
    }

    /// The dataset's transforms applied to `sample`, as returned by
    /// [`get_untransformed`](Dataset::get_untransformed) for `index`, with
    /// random parameters drawn from `rng`. Defaults to no change.
    fn transform_sample(
        &self,
        index: usize,
        sample: (Tensor, Tensor),
        rng: &mut TransformRng,
    ) -> Result<(Tensor, Tensor)> {
        let _ = (index, rng);
        Ok(sample)
    }

    /// Where sample `index` comes from, for error messages (a file path);
    /// `None` when there is nothing to add to its index.
    fn describe(&self, index: usize) -> Option<String> {
        let _ = index;
        None
    }

    /// Whether sample `index` may differ between two reads (random
    /// transforms). `true` unless the dataset says otherwise, the safe
    /// answer: `fit` keeps a frozen body's output per sample only for a
    /// dataset that is not random. [`TensorDataset`], `MnistSplit` and an
    /// [`ImageFolder`](super::ImageFolder) without a random transform are not.
    fn is_random(&self) -> bool {
        true
    }
}

/// A shared or boxed dataset is the dataset it points to.
macro_rules! forward_dataset {
    ($($pointer:ident),*) => {$(
        impl<D: Dataset + ?Sized> Dataset for $pointer<D> {
            fn len(&self) -> usize {
                (**self).len()
            }
            fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
                (**self).get(index)
            }
            fn get_untransformed(&self, index: usize) -> Result<(Tensor, Tensor)> {
                (**self).get_untransformed(index)
            }
            fn transform_sample(
                &self,
                index: usize,
                sample: (Tensor, Tensor),
                rng: &mut TransformRng,
            ) -> Result<(Tensor, Tensor)> {
                (**self).transform_sample(index, sample, rng)
            }
            fn describe(&self, index: usize) -> Option<String> {
                (**self).describe(index)
            }
            fn is_random(&self) -> bool {
                (**self).is_random()
            }
        }
    )*};
}

forward_dataset!(Arc, Box);

/// The error for `index` out of range in a dataset of `len` samples.
pub(crate) fn out_of_range(what: &str, index: usize, len: usize) -> Error {
    Error::InvalidArgument(format!(
        "{what}: index {index} is out of range for {len} samples"
    ))
}

/// PyTorch's `TensorDataset(images, labels)`: sample `i` is
/// `(images[i], labels[i])`. Labels of any shape whose first dimension is
/// the number of samples: `int64 [N]` classes, `float32 [N, 1]` targets…
///
/// ```
/// use cnn_lab::data::{Dataset, TensorDataset};
/// use cnn_lab::{Kind, Tensor};
/// let x = Tensor::zeros([5, 1, 8, 8], (Kind::Float, cnn_lab::Device::Cpu));
/// let y = Tensor::ones([5, 1], (Kind::Float, cnn_lab::Device::Cpu));
/// let ds = TensorDataset::new(x, y)?;
/// let (image, label) = ds.get(4)?;
/// assert_eq!((image.size(), label.size()), (vec![1, 8, 8], vec![1]));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub struct TensorDataset {
    images: Tensor,
    labels: Tensor,
}

// SAFETY: `tch::Tensor` is `Send` but not `Sync` only because tch makes no
// claim either way. A `TensorDataset` never hands out `&mut` to its tensors
// and only reads them through `&self` (`narrow`, `index_select`,
// `shallow_clone`): what two threads do through a shared `&Tensor` here is
// what two threads may already do with two `shallow_clone`s of one tensor
// (allowed by `Send`), both reaching the same reference-counted libtorch
// `TensorImpl`, whose reads are thread-safe (PyTorch's own DataLoader
// threads rely on that).
unsafe impl Sync for TensorDataset {}

impl fmt::Debug for TensorDataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TensorDataset")
            .field("images", &self.images.size())
            .field("labels", &self.labels.size())
            .finish()
    }
}

impl TensorDataset {
    /// `TensorDataset(images, labels)`: both with the number of samples as
    /// their first dimension.
    pub fn new(images: Tensor, labels: Tensor) -> Result<TensorDataset> {
        let (xs, ys) = (images.size(), labels.size());
        if xs.is_empty() || ys.first() != xs.first() {
            return Err(Error::Shape(format!(
                "TensorDataset: size mismatch between tensors: images {xs:?} and labels {ys:?} \
                 must have the same first dimension (the number of samples)"
            )));
        }
        Ok(TensorDataset { images, labels })
    }

    /// All images, `[N, …]`.
    pub fn images(&self) -> &Tensor {
        &self.images
    }

    /// All labels, `[N, …]`.
    pub fn labels(&self) -> &Tensor {
        &self.labels
    }

    /// The samples at `indices` (a `int64` tensor on the tensors' device),
    /// stacked: one `index_select` each.
    pub(crate) fn select(&self, indices: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((
            self.images.f_index_select(0, indices)?,
            self.labels.f_index_select(0, indices)?,
        ))
    }

    /// Samples `start..start + len`, stacked (views, no copy).
    pub(crate) fn slice(&self, start: i64, len: i64) -> Result<(Tensor, Tensor)> {
        Ok((
            self.images.f_narrow(0, start, len)?,
            self.labels.f_narrow(0, start, len)?,
        ))
    }

    /// The images mapped by `f` (normalized), the labels kept.
    pub(crate) fn map_images(
        &self,
        f: impl Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<TensorDataset> {
        Ok(TensorDataset {
            images: f(&self.images)?,
            labels: self.labels.shallow_clone(),
        })
    }

    /// Both tensors moved to `device`.
    pub(crate) fn to_device(&self, device: tch::Device) -> TensorDataset {
        TensorDataset {
            images: self.images.to_device(device),
            labels: self.labels.to_device(device),
        }
    }
}

impl Dataset for TensorDataset {
    fn len(&self) -> usize {
        self.images.size()[0] as usize
    }

    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        if index >= self.len() {
            return Err(out_of_range("TensorDataset", index, self.len()));
        }
        let i = index as i64;
        Ok((self.images.f_get(i)?, self.labels.f_get(i)?))
    }

    /// Stored tensors: the same every read.
    fn is_random(&self) -> bool {
        false
    }
}

/// PyTorch's `Subset(dataset, indices)`: sample `i` is
/// `dataset[indices[i]]`. [`random_split`] makes them.
///
/// ```
/// use cnn_lab::data::{Dataset, Subset, TensorDataset};
/// use cnn_lab::Tensor;
/// let ds = TensorDataset::new(Tensor::arange(10, cnn_lab::FLOAT_CPU), Tensor::arange(10, cnn_lab::INT64_CPU))?;
/// let odd = Subset::new(ds, vec![1, 3, 5])?;
/// assert_eq!(odd.len(), 3);
/// assert_eq!(odd.get(2)?.1.int64_value(&[]), 5);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub struct Subset<D: Dataset + ?Sized> {
    dataset: Arc<D>,
    indices: Vec<usize>,
}

impl<D: Dataset + ?Sized> Clone for Subset<D> {
    fn clone(&self) -> Self {
        Subset {
            dataset: Arc::clone(&self.dataset),
            indices: self.indices.clone(),
        }
    }
}

impl<D: Dataset + ?Sized> fmt::Debug for Subset<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Subset({} of {} samples)",
            self.indices.len(),
            self.dataset.len()
        )
    }
}

impl<D: Dataset> Subset<D> {
    /// `Subset(dataset, indices)`; every index must be in range.
    pub fn new(dataset: D, indices: Vec<usize>) -> Result<Subset<D>> {
        Subset::shared(Arc::new(dataset), indices)
    }
}

impl<D: Dataset + ?Sized> Subset<D> {
    /// A subset of a dataset shared with other subsets.
    pub fn shared(dataset: Arc<D>, indices: Vec<usize>) -> Result<Subset<D>> {
        let n = dataset.len();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(out_of_range("Subset", bad, n));
        }
        Ok(Subset { dataset, indices })
    }

    /// The whole dataset (`subset.dataset`), e.g. for its class names.
    pub fn dataset(&self) -> &D {
        &self.dataset
    }

    /// The indices into the whole dataset (`subset.indices`).
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    fn inner(&self, index: usize) -> Result<usize> {
        self.indices
            .get(index)
            .copied()
            .ok_or_else(|| out_of_range("Subset", index, self.indices.len()))
    }
}

impl<D: Dataset + ?Sized> Dataset for Subset<D> {
    fn len(&self) -> usize {
        self.indices.len()
    }
    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        self.dataset.get(self.inner(index)?)
    }
    fn get_untransformed(&self, index: usize) -> Result<(Tensor, Tensor)> {
        self.dataset.get_untransformed(self.inner(index)?)
    }
    fn transform_sample(
        &self,
        index: usize,
        sample: (Tensor, Tensor),
        rng: &mut TransformRng,
    ) -> Result<(Tensor, Tensor)> {
        self.dataset
            .transform_sample(self.inner(index)?, sample, rng)
    }
    fn describe(&self, index: usize) -> Option<String> {
        let inner = self.inner(index).ok()?;
        Some(match self.dataset.describe(inner) {
            Some(d) => format!("sample {inner} of the whole dataset, {d}"),
            None => format!("sample {inner} of the whole dataset"),
        })
    }
    fn is_random(&self) -> bool {
        self.dataset.is_random()
    }
}

/// The split sizes [`random_split`] takes: sample counts (`[800, 200]`) or
/// fractions of the dataset that sum to 1 (`[0.8, 0.2]`), as PyTorch's
/// `lengths`.
#[derive(Clone, Debug, PartialEq)]
pub enum Lengths {
    /// Sample counts, summing to the dataset's length.
    Counts(Vec<usize>),
    /// Fractions in `[0, 1]` summing to 1.
    Fractions(Vec<f64>),
}

macro_rules! lengths_from {
    ($variant:ident, $t:ty, $conv:expr) => {
        impl From<Vec<$t>> for Lengths {
            fn from(v: Vec<$t>) -> Self {
                Lengths::$variant(v.into_iter().map($conv).collect())
            }
        }
        impl From<&[$t]> for Lengths {
            fn from(v: &[$t]) -> Self {
                Lengths::$variant(v.iter().copied().map($conv).collect())
            }
        }
        impl<const N: usize> From<[$t; N]> for Lengths {
            fn from(v: [$t; N]) -> Self {
                Lengths::$variant(v.into_iter().map($conv).collect())
            }
        }
        impl<const N: usize> From<&[$t; N]> for Lengths {
            fn from(v: &[$t; N]) -> Self {
                Lengths::$variant(v.iter().copied().map($conv).collect())
            }
        }
    };
}
lengths_from!(Counts, usize, |n| n);
// Integer literals (`[800, 200]`) default to `i32`; negative ones are
// refused by `random_split` through the fraction-free sum check.
lengths_from!(Counts, i32, |n: i32| usize::try_from(n)
    .unwrap_or(usize::MAX));
lengths_from!(Fractions, f64, |f| f);
lengths_from!(Fractions, f32, f64::from);

impl Lengths {
    /// The sample counts for a dataset of `n` samples, with PyTorch's rule
    /// for fractions: `floor(n · f)` each, then the remainder handed out
    /// one by one to the splits in order (round-robin).
    pub fn counts(&self, n: usize) -> Result<Vec<usize>> {
        let counts = match self {
            Lengths::Counts(c) => c.clone(),
            Lengths::Fractions(f) => {
                let sum: f64 = f.iter().sum();
                // PyTorch: `math.isclose(sum(lengths), 1) and sum(lengths) <= 1`.
                if !((sum - 1.0).abs() <= 1e-9 && sum <= 1.0) {
                    return Err(Error::InvalidArgument(format!(
                        "random_split: fractions {f:?} must sum to 1, found {sum}"
                    )));
                }
                let mut counts = Vec::with_capacity(f.len());
                for (i, &frac) in f.iter().enumerate() {
                    if !(0.0..=1.0).contains(&frac) {
                        return Err(Error::InvalidArgument(format!(
                            "random_split: fraction at index {i} is not between 0 and 1"
                        )));
                    }
                    counts.push((n as f64 * frac).floor() as usize);
                }
                let remainder = n - counts.iter().sum::<usize>().min(n);
                let k = counts.len();
                for i in 0..remainder {
                    counts[i % k] += 1;
                }
                counts
            }
        };
        let total = counts.iter().try_fold(0usize, |a, &c| a.checked_add(c));
        if total != Some(n) {
            return Err(Error::InvalidArgument(format!(
                "random_split: sum of input lengths {:?} does not equal the length of the \
                 input dataset ({n})",
                self
            )));
        }
        Ok(counts)
    }
}

/// PyTorch's `random_split(dataset, lengths, generator=torch.Generator().
/// manual_seed(seed))`: non-overlapping [`Subset`]s of the given sizes
/// (counts, or fractions summing to 1 with PyTorch's rounding), drawn from a
/// permutation of the indices. The permutation is PyTorch's own for that
/// seed (its CPU `randperm` over a Mersenne Twister seeded with `seed`), so
/// the subsets hold the same samples as in Python; libtorch's global
/// generator (`manual_seed`) is left alone.
///
/// ```
/// use cnn_lab::data::{random_split, Dataset, TensorDataset};
/// use cnn_lab::Tensor;
/// let ds = TensorDataset::new(Tensor::arange(10, cnn_lab::FLOAT_CPU), Tensor::arange(10, cnn_lab::INT64_CPU))?;
/// let parts = random_split(ds, [0.7, 0.3], 42)?;
/// assert_eq!((parts[0].len(), parts[1].len()), (7, 3));
/// // torch.randperm(10, generator=torch.Generator().manual_seed(42))[:3]
/// assert_eq!(&parts[0].indices()[..3], [2, 6, 1]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn random_split<D: Dataset>(
    dataset: D,
    lengths: impl Into<Lengths>,
    seed: u64,
) -> Result<Vec<Subset<D>>> {
    let dataset = Arc::new(dataset);
    let counts = lengths.into().counts(dataset.len())?;
    let perm = torch_randperm(dataset.len(), seed);
    let mut start = 0;
    let mut parts = Vec::with_capacity(counts.len());
    for c in counts {
        parts.push(Subset {
            dataset: Arc::clone(&dataset),
            indices: perm[start..start + c].to_vec(),
        });
        start += c;
    }
    Ok(parts)
}

/// `torch.randperm(n, generator=torch.Generator().manual_seed(seed))` on
/// the CPU: libtorch's Fisher–Yates (`randperm_cpu`, for `n` below
/// 2³²/20) over its `mt19937`, whose seed is the low 32 bits of `seed`.
pub(crate) fn torch_randperm(n: usize, seed: u64) -> Vec<usize> {
    let mut mt = Mt19937::new(seed);
    let mut r: Vec<usize> = (0..n).collect();
    for i in 0..n.saturating_sub(1) {
        let z = mt.next_u32() as usize % (n - i);
        r.swap(i, z + i);
    }
    r
}

/// The 32-bit Mersenne Twister (Matsumoto & Nishimura 1998), as libtorch's
/// `at::mt19937` seeds and runs it.
struct Mt19937 {
    state: [u32; 624],
    next: usize,
}

impl Mt19937 {
    fn new(seed: u64) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed as u32;
        for i in 1..624 {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { state, next: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        if self.next >= 624 {
            for k in 0..624 {
                let y = (self.state[k] & 0x8000_0000) | (self.state[(k + 1) % 624] & 0x7fff_ffff);
                let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                self.state[k] = self.state[(k + 397) % 624] ^ (y >> 1) ^ mag;
            }
            self.next = 0;
        }
        let mut y = self.state[self.next];
        self.next += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }
}

/// One image `[C, H, W]` through `transform`, its random parameters drawn
/// from `rng`: the one place the loader and the datasets call a
/// [`Transform`].
pub(crate) fn transform_image(
    transform: &dyn Transform,
    image: &Tensor,
    rng: &mut TransformRng,
) -> Result<Tensor> {
    // `Transform::apply` takes a batch `[N, C, H, W]` (one parameter draw
    // per image): a batch of one.
    let batch = transform.apply(&image.f_unsqueeze(0)?, rng)?;
    Ok(batch.f_squeeze_dim(0)?)
}

/// A label as a scalar `int64` tensor (a class index).
pub(crate) fn class_label(class: i64) -> Tensor {
    Tensor::from(class).to_kind(Kind::Int64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mersenne_twister_gives_the_reference_sequence() {
        // The first outputs of std::mt19937 with its default seed 5489.
        let mut mt = Mt19937::new(5489);
        let first: Vec<u32> = (0..3).map(|_| mt.next_u32()).collect();
        assert_eq!(first, [3_499_211_612, 581_869_302, 3_890_346_734]);
    }

    #[test]
    fn fractions_hand_the_remainder_out_round_robin() {
        let l = Lengths::from([0.3, 0.3, 0.4]);
        // floor(10·0.3)=3, 3, 4 → no remainder; with 11: 3, 3, 4 and 1 left → 4, 3, 4.
        assert_eq!(l.counts(10).unwrap(), [3, 3, 4]);
        assert_eq!(l.counts(11).unwrap(), [4, 3, 4]);
        assert!(Lengths::from([3, 3]).counts(7).is_err());
        assert!(Lengths::from([-1, 8]).counts(7).is_err());
    }
}
