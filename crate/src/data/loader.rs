//! [`DataLoader`]: batches of an in-memory dataset.

use std::cell::Cell;
use std::sync::Arc;

use tch::{Device, Tensor};

use crate::error::{Error, Result};
use crate::rng::splitmix64;

use super::transforms::{dry_run, Transform, TransformRng};

/// Batches `(images, labels)` from tensors held in memory.
///
/// Like PyTorch's `DataLoader`: `len()` is the number of batches,
/// iterating (`for (x, y) in &loader`) yields one epoch, and with
/// `shuffle` every epoch has a new order (seeded, so reproducible).
#[derive(Debug)]
pub struct DataLoader {
    images: Tensor,
    labels: Tensor,
    batch_size: usize,
    shuffle: bool,
    drop_last: bool,
    seed: u64,
    epoch: Cell<u64>,
    device: Device,
    normalized: Option<Normalize>,
    transform: Option<Arc<dyn Transform>>,
}

impl DataLoader {
    /// A loader over `images` (first dimension = samples) and `labels`
    /// (`[N]`), batch size `batch_size`, in order, on the CPU.
    pub fn new(images: Tensor, labels: Tensor, batch_size: usize) -> Result<DataLoader> {
        if batch_size == 0 {
            return Err(Error::InvalidArgument(
                "DataLoader: batch_size must be at least 1".into(),
            ));
        }
        let n = images.size().first().copied().unwrap_or(0);
        if labels.size() != [n] {
            return Err(Error::Shape(format!(
                "DataLoader: labels must have shape [{n}] to match images {:?}, got {:?}",
                images.size(),
                labels.size()
            )));
        }
        Ok(DataLoader {
            images,
            labels,
            batch_size,
            shuffle: false,
            drop_last: false,
            seed: 0,
            epoch: Cell::new(0),
            device: Device::Cpu,
            normalized: None,
            transform: None,
        })
    }

    /// Shuffle every epoch (PyTorch's `shuffle=True`).
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Seed of the shuffling order; epoch `e` uses `seed + e`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Drop a last, incomplete batch (PyTorch's `drop_last=True`).
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Put the data (and so every batch) on `device`, once.
    pub fn device(mut self, device: Device) -> Self {
        if device != self.device {
            self.images = self.images.to_device(device);
            self.labels = self.labels.to_device(device);
            self.device = device;
        }
        self
    }

    /// Normalize the stored images once, as torchvision's
    /// `Normalize(mean, std)` does per sample: `(x - mean) / std`, channel
    /// `c` (dimension 1) with `mean[c]`, `std[c]`; one value applies to all
    /// channels. Done once on the whole split, not per batch, so it costs
    /// nothing per epoch and gives the same values bit for bit.
    ///
    /// ```
    /// use cnn_lab::{data::Normalize, DataLoader, Kind, Tensor};
    /// let x = Tensor::ones([4, 1, 2, 2], (Kind::Float, cnn_lab::Device::Cpu));
    /// let y = Tensor::zeros([4], (Kind::Int64, cnn_lab::Device::Cpu));
    /// let loader = DataLoader::new(x, y, 2)?.normalize(Normalize::new([0.5], [0.25]))?;
    /// assert_eq!(loader.images().double_value(&[0, 0, 0, 0]), 2.0);
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn normalize(mut self, normalize: Normalize) -> Result<Self> {
        self.images = normalize.apply(&self.images)?;
        self.normalized = Some(normalize);
        Ok(self)
    }

    /// Augment every batch with `transform` (torchvision's
    /// `transforms.Compose([...])` given to a dataset; see
    /// [`transforms`](super::transforms)), on the loader's device, each image
    /// with its own random parameters drawn from the loader's seed, the
    /// epoch and the batch. Checked once on the first image here, so a
    /// transform that does not fit the images is an error now rather than
    /// mid-epoch.
    ///
    /// ```
    /// use cnn_lab::data::transforms::RandomHorizontalFlip;
    /// use cnn_lab::{DataLoader, Kind, Tensor};
    /// let x = Tensor::arange(8, (Kind::Float, cnn_lab::Device::Cpu)).view([2, 1, 2, 2]);
    /// let y = Tensor::zeros([2], (Kind::Int64, cnn_lab::Device::Cpu));
    /// let loader = DataLoader::new(x, y, 2)?.transform(RandomHorizontalFlip::new().p(1.0))?;
    /// let (flipped, _) = loader.iter().next().unwrap();
    /// assert_eq!(flipped.double_value(&[0, 0, 0, 0]), 1.0);
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn transform(mut self, transform: impl Transform + 'static) -> Result<Self> {
        dry_run(&transform, &self.images)?;
        self.transform = Some(Arc::new(transform));
        Ok(self)
    }

    /// The normalization applied to the stored images, if any.
    pub fn normalization(&self) -> Option<&Normalize> {
        self.normalized.as_ref()
    }

    /// Number of batches per epoch (`len(loader)`).
    pub fn len(&self) -> usize {
        let n = self.num_samples();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// True when an epoch has no batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of samples (`len(loader.dataset)`).
    pub fn num_samples(&self) -> usize {
        self.images.size().first().copied().unwrap_or(0) as usize
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// All images of the split, `[N, …]`.
    pub fn images(&self) -> &Tensor {
        &self.images
    }

    /// All labels of the split, `[N]`.
    pub fn labels(&self) -> &Tensor {
        &self.labels
    }

    /// The shuffling seed ([`DataLoader::seed`]).
    pub(crate) fn shuffle_seed(&self) -> u64 {
        self.seed
    }

    /// Sets how many epochs the loader has given, so that the next
    /// [`DataLoader::iter`] draws the order of epoch `epoch` (a resumed
    /// training run repeats the orders of an uninterrupted one).
    pub(crate) fn set_epoch(&self, epoch: u64) {
        self.epoch.set(epoch);
    }

    /// One epoch of batches; with `shuffle`, each call draws a new order.
    pub fn iter(&self) -> Batches<'_> {
        let epoch = self.epoch.get();
        self.epoch.set(epoch + 1);
        let order = if self.shuffle {
            let perm = seeded_permutation(self.num_samples(), self.seed.wrapping_add(epoch));
            Some(perm.to_device(self.device))
        } else {
            None
        };
        Batches {
            loader: self,
            order,
            next: 0,
            batches: self.len(),
            epoch,
        }
    }
}

/// torchvision's `transforms.Normalize(mean, std)` for images
/// `[N, C, H, W]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalize {
    /// Per-channel means (or one for all channels).
    pub mean: Vec<f64>,
    /// Per-channel standard deviations (or one for all channels).
    pub std: Vec<f64>,
}

impl Normalize {
    /// `Normalize(mean, std)`, e.g. `Normalize::new([0.1307], [0.3081])`.
    pub fn new(mean: impl Into<Vec<f64>>, std: impl Into<Vec<f64>>) -> Self {
        Normalize {
            mean: mean.into(),
            std: std.into(),
        }
    }

    /// MNIST's train-set statistics, `(0.1307,), (0.3081,)`, the values
    /// every PyTorch MNIST example uses.
    pub fn mnist() -> Self {
        Normalize::new([0.1307], [0.3081])
    }

    /// Fashion-MNIST's train-set statistics, `(0.2860,), (0.3530,)`.
    pub fn fashion_mnist() -> Self {
        Normalize::new([0.2860], [0.3530])
    }

    /// `(x - mean) / std` over dimension 1 of `images` `[N, C, …]`,
    /// computed as torchvision does (`float32` mean and std tensors,
    /// `sub` then `div`).
    pub fn apply(&self, images: &Tensor) -> Result<Tensor> {
        let size = images.size();
        let channels = size.get(1).copied().unwrap_or(0);
        let n = self.mean.len();
        if n == 0 || n != self.std.len() || (n != 1 && n as i64 != channels) {
            return Err(Error::InvalidArgument(format!(
                "Normalize: expected as many means as stds, one or one per channel of images \
                 {size:?} ({channels} channels), found {} means and {} stds",
                n,
                self.std.len()
            )));
        }
        if let Some(s) = self.std.iter().find(|&&s| s == 0.0 || !s.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "Normalize: std must be finite and non-zero, found {s}"
            )));
        }
        if !images.is_floating_point() {
            return Err(Error::Shape(format!(
                "Normalize: expected floating-point images, found {:?}",
                images.kind()
            )));
        }
        let mut shape = vec![n as i64];
        shape.extend(std::iter::repeat_n(1, size.len().saturating_sub(2)));
        // Stats in the images' own kind, as torchvision's `torch.as_tensor(mean, dtype=…)`.
        let stat = |v: &[f64]| -> Result<Tensor> {
            Ok(Tensor::from_slice(v)
                .f_to_kind(images.kind())?
                .f_to_device(images.device())?
                .f_view(shape.as_slice())?)
        };
        let (mean, std) = (stat(&self.mean)?, stat(&self.std)?);
        Ok(images.f_sub(&mean)?.f_div(&std)?)
    }
}

/// A permutation of `0..n` from a small seeded generator (SplitMix64 +
/// Fisher–Yates), so shuffling never disturbs `tch::manual_seed` streams.
fn seeded_permutation(n: usize, seed: u64) -> Tensor {
    let stream = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut draw = 0;
    let mut next = || {
        draw += 1;
        splitmix64(stream, draw - 1)
    };
    let mut idx: Vec<i64> = (0..n as i64).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        idx.swap(i, j);
    }
    Tensor::from_slice(&idx)
}

/// One epoch of `(images, labels)` batches from a [`DataLoader`].
pub struct Batches<'a> {
    loader: &'a DataLoader,
    order: Option<Tensor>,
    next: usize,
    batches: usize,
    epoch: u64,
}

impl Iterator for Batches<'_> {
    type Item = (Tensor, Tensor);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.batches {
            return None;
        }
        let bs = self.loader.batch_size as i64;
        let start = self.next as i64 * bs;
        let end = (start + bs).min(self.loader.num_samples() as i64);
        self.next += 1;
        let (x, y) = match &self.order {
            Some(order) => {
                let idx = order.narrow(0, start, end - start);
                (
                    self.loader.images.index_select(0, &idx),
                    self.loader.labels.index_select(0, &idx),
                )
            }
            None => (
                self.loader.images.narrow(0, start, end - start),
                self.loader.labels.narrow(0, start, end - start),
            ),
        };
        let Some(transform) = &self.loader.transform else {
            return Some((x, y));
        };
        let mut rng = TransformRng::new(self.loader.seed, self.epoch, self.next as u64 - 1);
        let _guard = tch::no_grad_guard();
        // Checked on the first image by `DataLoader::transform`; a batch
        // of the same images cannot fail differently.
        let x = transform
            .apply(&x, &mut rng)
            .unwrap_or_else(|e| panic!("DataLoader transform: {e}"));
        Some((x, y))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.batches - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}

impl<'a> IntoIterator for &'a DataLoader {
    type Item = (Tensor, Tensor);
    type IntoIter = Batches<'a>;

    fn into_iter(self) -> Batches<'a> {
        self.iter()
    }
}
