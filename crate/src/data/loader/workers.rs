//! Reading the samples of a batch, on the calling thread or on worker
//! threads that run ahead (PyTorch's `_MultiProcessingDataLoaderIter`, with
//! threads: batch `b` goes to worker `b % num_workers`, each worker keeps at
//! most `prefetch_factor` finished batches waiting, and the batches come
//! back in order).

use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tch::Tensor;

use super::collate::stack;
use crate::data::dataset::{transform_image, Dataset, TensorDataset};
use crate::data::transforms::{Transform, TransformRng};
use crate::error::{catch_torch, Error, Result};

/// Where a loader's samples live.
#[derive(Clone)]
pub(crate) enum Source {
    /// One tensor of images and one of labels ([`DataLoader::new`](super::DataLoader::new)).
    Memory(Arc<TensorDataset>),
    /// Any dataset, read sample by sample.
    Dataset(Arc<dyn Dataset>),
}

/// A sample: `(image, label)`.
type Sample = (Tensor, Tensor);

/// Decoded samples kept across epochs ([`DataLoader::cache`](super::DataLoader::cache)).
pub(crate) struct SampleCache {
    slots: Box<[Mutex<Option<Sample>>]>,
}

impl SampleCache {
    pub(crate) fn new(n: usize) -> SampleCache {
        SampleCache {
            slots: (0..n).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// Sample `i`, read by `load` the first time. Two workers asking for
    /// one sample at once is impossible: an epoch asks for each sample once.
    fn get_or_load(
        &self,
        i: usize,
        load: impl FnOnce() -> Result<(Tensor, Tensor)>,
    ) -> Result<(Tensor, Tensor)> {
        let Some(slot) = self.slots.get(i) else {
            return load();
        };
        if let Some((x, y)) = lock(slot).as_ref() {
            return Ok((x.shallow_clone(), y.shallow_clone()));
        }
        let (x, y) = load()?;
        *lock(slot) = Some((x.shallow_clone(), y.shallow_clone()));
        Ok((x, y))
    }
}

/// The slot, whatever a panicking thread left in it (a sample or nothing).
fn lock<T>(slot: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

/// Everything needed to make a batch from sample indices, shareable with
/// worker threads.
pub(crate) struct Fetcher {
    pub(crate) source: Source,
    pub(crate) cache: Option<Arc<SampleCache>>,
    /// The loader's augmentation, when this pass applies it.
    pub(crate) transform: Option<Arc<dyn Transform>>,
    pub(crate) seed: u64,
}

impl Fetcher {
    /// The samples at `indices`, transformed with epoch `epoch`'s random
    /// numbers, stacked.
    pub(crate) fn fetch(&self, indices: &[usize], epoch: u64) -> Result<(Tensor, Tensor)> {
        let _guard = tch::no_grad_guard();
        let rng = |i: usize| TransformRng::new(self.seed, epoch, i as u64);
        match &self.source {
            Source::Memory(ds) => {
                let idx: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
                let idx = Tensor::from_slice(&idx).to_device(ds.images().device());
                let (x, y) = ds.select(&idx)?;
                let Some(t) = &self.transform else {
                    return Ok((x, y));
                };
                let mut samples = Vec::with_capacity(indices.len());
                for (k, &i) in indices.iter().enumerate() {
                    let image = transform_image(t.as_ref(), &x.f_get(k as i64)?, &mut rng(i))
                        .map_err(|e| in_sample(e, i, None))?;
                    samples.push((i, image, y.f_get(k as i64)?));
                }
                stack(ds.as_ref(), samples)
            }
            Source::Dataset(ds) => {
                let mut samples = Vec::with_capacity(indices.len());
                for &i in indices {
                    let describe = || ds.describe(i);
                    let raw = match &self.cache {
                        Some(cache) => cache.get_or_load(i, || ds.get_untransformed(i)),
                        None => ds.get_untransformed(i),
                    }
                    .map_err(|e| in_sample(e, i, describe()))?;
                    let mut rng = rng(i);
                    let (image, label) = ds
                        .transform_sample(i, raw, &mut rng)
                        .map_err(|e| in_sample(e, i, describe()))?;
                    let image = match &self.transform {
                        Some(t) => transform_image(t.as_ref(), &image, &mut rng)
                            .map_err(|e| in_sample(e, i, describe()))?,
                        None => image,
                    };
                    samples.push((i, image, label));
                }
                stack(ds.as_ref(), samples)
            }
        }
    }
}

/// `error` with the sample it happened on, when its message does not name
/// a file already.
fn in_sample(error: Error, index: usize, describe: Option<String>) -> Error {
    let at = match describe {
        Some(d) => format!("sample {index} ({d})"),
        None => format!("sample {index}"),
    };
    match error {
        Error::Shape(m) => Error::Shape(format!("DataLoader: {at}: {m}")),
        Error::InvalidArgument(m) => Error::InvalidArgument(format!("DataLoader: {at}: {m}")),
        Error::Torch(e) => Error::Shape(format!("DataLoader: {at}: {e}")),
        other => other,
    }
}

/// The worker threads of one pass over a loader.
pub(crate) struct Workers {
    receivers: Vec<Receiver<Result<(Tensor, Tensor)>>>,
    handles: Vec<JoinHandle<()>>,
}

/// Which samples make batch `b`: `order[b·bs .. (b+1)·bs]`, or that range
/// itself without an order.
pub(crate) fn batch_indices(
    order: Option<&[usize]>,
    n: usize,
    batch_size: usize,
    b: usize,
) -> Vec<usize> {
    let start = (b * batch_size).min(n);
    let end = (start + batch_size).min(n);
    match order {
        Some(order) => order[start..end].to_vec(),
        None => (start..end).collect(),
    }
}

impl Workers {
    /// Starts `workers` threads making `batches` batches of `batch_size`
    /// from `order` (or in order) for epoch `epoch`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        fetcher: Fetcher,
        order: Option<Arc<Vec<usize>>>,
        n: usize,
        batch_size: usize,
        batches: usize,
        epoch: u64,
        workers: usize,
        prefetch_factor: usize,
    ) -> Workers {
        let fetcher = Arc::new(fetcher);
        let workers = workers.clamp(1, batches.max(1));
        let mut receivers = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = sync_channel(prefetch_factor);
            let (fetcher, order) = (Arc::clone(&fetcher), order.clone());
            let handle = std::thread::Builder::new()
                .name(format!("cnn_lab DataLoader worker {w}"))
                .spawn(move || {
                    for b in (w..batches).step_by(workers) {
                        let indices =
                            batch_indices(order.as_deref().map(|o| &o[..]), n, batch_size, b);
                        let batch =
                            catch_torch("DataLoader worker", || fetcher.fetch(&indices, epoch))
                                .and_then(|r| r);
                        // The receiver is gone when the pass stopped early.
                        if tx.send(batch).is_err() {
                            return;
                        }
                    }
                });
            match handle {
                Ok(h) => {
                    receivers.push(rx);
                    handles.push(h);
                }
                Err(e) => {
                    // No thread: that worker's batches report the failure.
                    let (tx, rx) = sync_channel(1);
                    let _ = tx.send(Err(Error::InvalidArgument(format!(
                        "DataLoader: could not start worker {w}: {e}"
                    ))));
                    receivers.push(rx);
                }
            }
        }
        Workers { receivers, handles }
    }

    /// Batch `b` (asked for in order).
    pub(crate) fn recv(&self, b: usize) -> Result<(Tensor, Tensor)> {
        let rx = &self.receivers[b % self.receivers.len()];
        rx.recv().unwrap_or_else(|_| {
            Err(Error::InvalidArgument(format!(
                "DataLoader: the worker making batch {b} stopped"
            )))
        })
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // Dropping the receivers makes every worker's next send fail, so
        // each stops after the batch in hand.
        self.receivers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
