//! [`DataLoader`]: batches of an in-memory split or of any [`Dataset`].

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::rng::splitmix64;

use super::dataset::{Dataset, TensorDataset};
use super::transforms::{dry_run, Transform};

mod batches;
mod collate;
mod workers;

pub(crate) use batches::Plan;
pub use batches::{Batches, TryBatches};
use workers::{Fetcher, SampleCache, Source};

/// Batches `(images, labels)` for training and evaluation: PyTorch's
/// `DataLoader`, over tensors held in memory ([`DataLoader::new`]) or over
/// any map-style [`Dataset`] ([`DataLoader::from_dataset`]: a folder of
/// photos, a [`Subset`](super::Subset)…).
///
/// Like PyTorch's: `len()` is the number of batches, iterating
/// (`for (x, y) in &loader`) yields one epoch, and with `shuffle` every
/// epoch has a new order (seeded, so reproducible).
///
/// - **In memory** (`DataLoader::new(images, labels, batch_size)`): the
///   whole split lives in one tensor and a batch is an `index_select`
///   (shuffled) or a slice (in order) of it — no per-sample work, unless a
///   [`transform`](DataLoader::transform) asks for it.
/// - **Over a dataset** (`DataLoader::from_dataset(dataset, batch_size)`):
///   each sample is read (`dataset[i]`, e.g. a photo decoded), transformed
///   and the samples of a batch stacked, on
///   [`num_workers`](DataLoader::num_workers) threads that run ahead of the
///   training by [`prefetch_factor`](DataLoader::prefetch_factor) batches
///   each; [`cache`](DataLoader::cache) keeps the decoded samples so that a
///   small dataset is decoded once.
///
/// Every random choice — the order, each sample's transforms — comes from
/// the loader's [`seed`](DataLoader::seed), the epoch and the sample's
/// index, so the batches are the same whatever the number of workers.
pub struct DataLoader {
    source: Source,
    batch_size: usize,
    shuffle: bool,
    drop_last: bool,
    seed: u64,
    epoch: Cell<u64>,
    device: Device,
    normalized: Option<Normalize>,
    transform: Option<Arc<dyn Transform>>,
    num_workers: usize,
    prefetch_factor: usize,
    cache: Option<Arc<SampleCache>>,
    /// What `images()`/`labels()` give for a loader over a dataset.
    none: Tensor,
}

impl fmt::Debug for DataLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("DataLoader");
        match &self.source {
            Source::Memory(ds) => d.field("dataset", ds),
            Source::Dataset(_) => {
                d.field("dataset", &format_args!("{} samples", self.num_samples()))
            }
        };
        d.field("batch_size", &self.batch_size)
            .field("shuffle", &self.shuffle)
            .field("drop_last", &self.drop_last)
            .field("seed", &self.seed)
            .field("device", &self.device)
            .field("normalize", &self.normalized)
            .field("transform", &self.transform)
            .field("num_workers", &self.num_workers)
            .field("cache", &self.cache.is_some())
            .finish()
    }
}

/// The machine's cores: the default number of workers.
fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn check_batch_size(batch_size: usize) -> Result<()> {
    if batch_size == 0 {
        return Err(Error::InvalidArgument(
            "DataLoader: batch_size must be at least 1".into(),
        ));
    }
    Ok(())
}

impl DataLoader {
    /// A loader over `images` and `labels` held in memory (first dimension
    /// = samples for both, as `TensorDataset(images, labels)`; labels of
    /// any shape: `int64 [N]` classes, `float32 [N, 1]` targets…), batch
    /// size `batch_size`, in order, on the CPU.
    ///
    /// ```
    /// use cnn_lab::{DataLoader, Kind, Tensor};
    /// let x = Tensor::rand([10, 1, 8, 8], (Kind::Float, cnn_lab::Device::Cpu));
    /// let y = Tensor::ones([10, 1], (Kind::Float, cnn_lab::Device::Cpu));
    /// let loader = DataLoader::new(x, y, 4)?;
    /// let (_, targets) = loader.iter().next().unwrap();
    /// assert_eq!(targets.size(), [4, 1]);
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn new(images: Tensor, labels: Tensor, batch_size: usize) -> Result<DataLoader> {
        check_batch_size(batch_size)?;
        let n = images.size().first().copied().unwrap_or(0);
        let ls = labels.size();
        if ls.first() != Some(&n) {
            return Err(Error::Shape(format!(
                "DataLoader: labels must have {n} as their first dimension to match images {:?} \
                 (one label per image), got {ls:?}",
                images.size(),
            )));
        }
        let device = images.device();
        let dataset = TensorDataset::new(images, labels.to_device(device))?;
        Ok(DataLoader::with_source(
            Source::Memory(Arc::new(dataset)),
            batch_size,
            device,
        ))
    }

    /// A loader over any [`Dataset`] (PyTorch's `DataLoader(dataset,
    /// batch_size)`): samples read, transformed and stacked into batches on
    /// worker threads ([`num_workers`](DataLoader::num_workers), by default
    /// one per core), in order, on the CPU. Images of one batch must have
    /// one size (add a resize to the transforms for photos of mixed sizes)
    /// and labels one shape.
    ///
    /// ```
    /// use cnn_lab::data::{DataLoader, TensorDataset};
    /// use cnn_lab::{Kind, Tensor};
    /// let x = Tensor::rand([10, 3, 8, 8], (Kind::Float, cnn_lab::Device::Cpu));
    /// let y = Tensor::arange(10, (Kind::Int64, cnn_lab::Device::Cpu));
    /// let loader = DataLoader::from_dataset(TensorDataset::new(x, y)?, 4)?
    ///     .shuffle(true)
    ///     .seed(1)
    ///     .num_workers(2);
    /// assert_eq!(loader.len(), 3);
    /// let labels: Vec<i64> = loader.iter().flat_map(|(_, y)| Vec::<i64>::try_from(y).unwrap()).collect();
    /// let mut sorted = labels.clone();
    /// sorted.sort();
    /// assert_eq!(sorted, (0..10).collect::<Vec<i64>>());
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn from_dataset(dataset: impl Dataset + 'static, batch_size: usize) -> Result<DataLoader> {
        check_batch_size(batch_size)?;
        Ok(DataLoader::with_source(
            Source::Dataset(Arc::new(dataset)),
            batch_size,
            Device::Cpu,
        ))
    }

    fn with_source(source: Source, batch_size: usize, device: Device) -> DataLoader {
        DataLoader {
            source,
            batch_size,
            shuffle: false,
            drop_last: false,
            seed: 0,
            epoch: Cell::new(0),
            device,
            normalized: None,
            transform: None,
            num_workers: default_workers(),
            prefetch_factor: 2,
            cache: None,
            none: Tensor::zeros([0], (Kind::Float, Device::Cpu)),
        }
    }

    /// Shuffle every epoch (PyTorch's `shuffle=True`).
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Seed of the shuffling order and of the transforms' random numbers;
    /// epoch `e` shuffles with `seed + e`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Drop a last, incomplete batch (PyTorch's `drop_last=True`).
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// `num_workers=`: how many threads read, transform and stack the
    /// samples of a loader over a dataset (default: the machine's cores;
    /// `0` does it on the calling thread, as PyTorch's `num_workers=0`).
    /// An in-memory loader uses them only for its per-sample
    /// [`transform`](DataLoader::transform), on the CPU. The batches do not
    /// depend on it.
    pub fn num_workers(mut self, num_workers: usize) -> Self {
        self.num_workers = num_workers;
        self
    }

    /// `prefetch_factor=`: how many batches each worker prepares ahead
    /// (default 2, PyTorch's); at least 1.
    pub fn prefetch_factor(mut self, prefetch_factor: usize) -> Self {
        self.prefetch_factor = prefetch_factor.max(1);
        self
    }

    /// Keep each sample of a loader over a dataset in memory once read
    /// (decoded, before its random transforms), so that the dataset is read
    /// once, not every epoch; the transforms still draw new parameters
    /// every epoch. For a dataset that fits in memory (decoded photos take
    /// `3·H·W` bytes each). An in-memory loader is cached already.
    pub fn cache(mut self, cache: bool) -> Self {
        self.cache = match (&self.source, cache) {
            (Source::Dataset(ds), true) => Some(Arc::new(SampleCache::new(ds.len()))),
            _ => None,
        };
        self
    }

    /// Put the batches on `device`: an in-memory loader moves its tensors
    /// there once; a loader over a dataset moves each batch when it is
    /// ready.
    pub fn device(mut self, device: Device) -> Self {
        if device != self.device {
            if let Source::Memory(ds) = &self.source {
                self.source = Source::Memory(Arc::new(ds.to_device(device)));
            }
            self.device = device;
        }
        self
    }

    /// Normalize the images, as torchvision's `Normalize(mean, std)` does
    /// per sample: `(x - mean) / std`, channel `c` (dimension 1 of a batch)
    /// with `mean[c]`, `std[c]`; one value applies to all channels.
    ///
    /// An in-memory loader normalizes its stored images once, not per
    /// batch, so it costs nothing per epoch and gives the same values bit
    /// for bit (a [`transform`](DataLoader::transform) then sees normalized
    /// images). A loader over a dataset normalizes each batch after the
    /// transforms, as `Compose([…, ToTensor(), Normalize(…)])` does.
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
        match &self.source {
            Source::Memory(ds) => {
                let ds = ds.map_images(|x| normalize.apply(x))?;
                self.source = Source::Memory(Arc::new(ds));
            }
            Source::Dataset(_) => normalize.check()?,
        }
        self.normalized = Some(normalize);
        Ok(self)
    }

    /// Augment every sample with `transform` (torchvision's
    /// `transforms.Compose([...])`; see [`transforms`](super::transforms)),
    /// each sample with its own random parameters drawn from the loader's
    /// seed, the epoch and the sample's index. Checked once on the first
    /// sample here, so a transform that does not fit the images is an error
    /// now rather than mid-epoch.
    ///
    /// For a loader over a dataset it runs after the dataset's own
    /// transforms, on the worker threads. [`top_losses`](crate::top_losses)
    /// and [`DataLoader::sample`] leave it out: it is augmentation, while a
    /// dataset's transforms (resizing, …) make the sample.
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
        match &self.source {
            Source::Memory(ds) => dry_run(&transform, ds.images())?,
            Source::Dataset(ds) if !ds.is_empty() => {
                let (image, _) = ds.get(0)?;
                dry_run(&transform, &image.f_unsqueeze(0)?)?;
            }
            Source::Dataset(_) => {}
        }
        self.transform = Some(Arc::new(transform));
        Ok(self)
    }

    /// The normalization applied to the images, if any.
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
        self.dataset().len()
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The dataset the batches come from (`loader.dataset`): for an
    /// in-memory loader a [`TensorDataset`] of its (moved, normalized)
    /// tensors.
    pub fn dataset(&self) -> &dyn Dataset {
        match &self.source {
            Source::Memory(ds) => ds.as_ref(),
            Source::Dataset(ds) => ds.as_ref(),
        }
    }

    /// Whether the loader holds its samples in one tensor
    /// ([`DataLoader::new`]) rather than reading a [`Dataset`].
    pub fn is_in_memory(&self) -> bool {
        matches!(self.source, Source::Memory(_))
    }

    /// All images of an in-memory loader, `[N, …]`. A loader over a
    /// dataset holds no such tensor and gives an empty one: read its samples
    /// with [`DataLoader::sample`] or by iterating.
    pub fn images(&self) -> &Tensor {
        match &self.source {
            Source::Memory(ds) => ds.images(),
            Source::Dataset(_) => &self.none,
        }
    }

    /// All labels of an in-memory loader, `[N, …]`; empty for a loader over
    /// a dataset, as [`DataLoader::images`].
    pub fn labels(&self) -> &Tensor {
        match &self.source {
            Source::Memory(ds) => ds.labels(),
            Source::Dataset(_) => &self.none,
        }
    }

    /// The device the batches are on ([`DataLoader::device`]).
    pub fn batch_device(&self) -> Device {
        self.device
    }

    /// Sample `index` as a model sees it after training, without
    /// augmentation: an in-memory loader's stored (normalized) image and
    /// label; for a loader over a dataset, `dataset[index]` with the
    /// dataset's own transforms (drawn as in epoch 0), normalized. On the
    /// loader's device.
    pub fn sample(&self, index: usize) -> Result<(Tensor, Tensor)> {
        let (x, y) = self.samples(&[index])?;
        Ok((x.f_squeeze_dim(0)?, y.f_squeeze_dim(0)?))
    }

    /// The samples at `indices`, as [`DataLoader::sample`], stacked into one
    /// batch.
    pub fn samples(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        let n = self.num_samples();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(super::dataset::out_of_range("DataLoader", bad, n));
        }
        self.finish(self.fetcher(false).fetch(indices, 0)?)
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
    /// A sample that cannot be read or stacked (a corrupt photo, photos of
    /// different sizes) stops the iteration with a panic carrying the
    /// error's message; [`DataLoader::try_iter`] gives it as a value.
    pub fn iter(&self) -> Batches<'_> {
        let plan = self.next_plan();
        self.batches(plan)
    }

    /// What [`DataLoader::iter`] would draw next (the order and the epoch
    /// of the transforms), counted as an epoch given: a pass that reads
    /// some batches from elsewhere (`fit`'s kept features) still draws the
    /// orders an ordinary run draws.
    pub(crate) fn next_plan(&self) -> Plan {
        let epoch = self.epoch.get();
        self.epoch.set(epoch + 1);
        let order = self
            .shuffle
            .then(|| seeded_order(self.num_samples(), self.seed.wrapping_add(epoch)));
        Plan {
            order,
            epoch,
            augment: true,
            batches: self.len(),
        }
    }

    /// The batches of `plan`, as [`DataLoader::try_iter`] gives them.
    pub(crate) fn plan_batches(&self, plan: Plan) -> TryBatches<'_> {
        TryBatches(self.batches(plan))
    }

    /// The dataset indices of batch `b` of `plan`.
    pub(crate) fn plan_indices(&self, plan: &Plan, b: usize) -> Vec<usize> {
        workers::batch_indices(
            plan.order.as_deref(),
            self.num_samples(),
            self.batch_size,
            b,
        )
    }

    /// The samples at `indices` as a pass of epoch `epoch` gives them
    /// (augmented, on the loader's device, normalized), read on the
    /// calling thread.
    pub(crate) fn fetch_for_plan(&self, indices: &[usize], epoch: u64) -> Result<(Tensor, Tensor)> {
        self.finish(self.fetcher(true).fetch(indices, epoch)?)
    }

    /// Whether every pass gives each sample the same values: no random
    /// transform, on the loader or in the dataset.
    pub(crate) fn is_deterministic(&self) -> bool {
        let transform_random = self.transform.as_ref().is_some_and(|t| t.is_random());
        let dataset_random = match &self.source {
            Source::Memory(_) => false,
            Source::Dataset(ds) => ds.is_random(),
        };
        !transform_random && !dataset_random
    }

    /// One epoch of batches as [`DataLoader::iter`], each a `Result`: a
    /// sample that cannot be read or stacked is an error naming it, and
    /// ends the epoch.
    ///
    /// ```
    /// use cnn_lab::{DataLoader, Kind, Tensor};
    /// let loader = DataLoader::new(Tensor::zeros([5, 2], (Kind::Float, cnn_lab::Device::Cpu)),
    ///                              Tensor::zeros([5], (Kind::Int64, cnn_lab::Device::Cpu)), 2)?;
    /// for batch in loader.try_iter() {
    ///     let (x, y) = batch?;
    ///     assert_eq!(x.size()[0], y.size()[0]);
    /// }
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn try_iter(&self) -> TryBatches<'_> {
        TryBatches(self.iter())
    }

    /// Every sample once, in the dataset's order, without augmentation (as
    /// [`DataLoader::sample`]), in batches of the loader's batch size
    /// (the last one may be smaller); the epoch count is left alone.
    pub(crate) fn in_order(&self) -> TryBatches<'_> {
        TryBatches(self.batches(Plan {
            order: None,
            epoch: 0,
            augment: false,
            batches: self.num_samples().div_ceil(self.batch_size),
        }))
    }

    /// What reads the samples of a batch, shareable with worker threads.
    fn fetcher(&self, augment: bool) -> Fetcher {
        Fetcher {
            source: self.source.clone(),
            cache: self.cache.clone(),
            transform: if augment {
                self.transform.clone()
            } else {
                None
            },
            seed: self.seed,
        }
    }
}

impl Normalize {
    /// The checks [`Normalize::apply`] makes that do not need the images.
    fn check(&self) -> Result<()> {
        let n = self.mean.len();
        if n == 0 || n != self.std.len() {
            return Err(Error::InvalidArgument(format!(
                "Normalize: expected as many means as stds, one or one per channel, found {} \
                 means and {} stds",
                n,
                self.std.len()
            )));
        }
        if let Some(s) = self.std.iter().find(|&&s| s == 0.0 || !s.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "Normalize: std must be finite and non-zero, found {s}"
            )));
        }
        Ok(())
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
fn seeded_order(n: usize, seed: u64) -> Vec<usize> {
    let stream = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut draw = 0;
    let mut next = || {
        draw += 1;
        splitmix64(stream, draw - 1)
    };
    let mut idx: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        idx.swap(i, j);
    }
    idx
}
