//! One pass over a [`DataLoader`]: [`Batches`] and [`TryBatches`].

use std::sync::Arc;

use tch::Tensor;

use super::workers::{batch_indices, Fetcher, Source, Workers};
use super::DataLoader;
use crate::error::Result;

/// What one pass gives: which samples in which order, whose random
/// numbers, augmented or not, how many batches.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// The sample order; `None` for the dataset's order.
    pub(crate) order: Option<Vec<usize>>,
    /// The epoch the transforms draw for.
    pub(crate) epoch: u64,
    /// Whether the loader's transform applies.
    pub(crate) augment: bool,
    /// How many batches.
    pub(crate) batches: usize,
}

/// How the batches of a pass are made.
enum Make {
    /// The in-memory path without per-sample work: each batch a slice (in
    /// order) or an `index_select` (`order` on the loader's device).
    Stored(Option<Tensor>),
    /// Sample by sample on the calling thread.
    Here(Fetcher, Option<Vec<usize>>),
    /// Sample by sample on worker threads.
    Workers(Workers),
}

/// One epoch of `(images, labels)` batches from a [`DataLoader`]
/// ([`DataLoader::iter`]).
pub struct Batches<'a> {
    loader: &'a DataLoader,
    make: Make,
    epoch: u64,
    next: usize,
    batches: usize,
}

impl DataLoader {
    pub(crate) fn batches(&self, plan: Plan) -> Batches<'_> {
        let Plan {
            order,
            epoch,
            augment,
            batches,
        } = plan;
        let per_sample = augment && self.transform.is_some();
        let make = match &self.source {
            Source::Memory(_) if !per_sample => Make::Stored(order.map(|o| {
                let o: Vec<i64> = o.into_iter().map(|i| i as i64).collect();
                Tensor::from_slice(&o).to_device(self.device)
            })),
            Source::Memory(_) if self.device.is_cuda() || self.num_workers == 0 => {
                Make::Here(self.fetcher(augment), order)
            }
            Source::Dataset(_) if self.num_workers == 0 => Make::Here(self.fetcher(augment), order),
            _ => Make::Workers(Workers::start(
                self.fetcher(augment),
                order.map(Arc::new),
                self.num_samples(),
                self.batch_size,
                batches,
                epoch,
                self.num_workers,
                self.prefetch_factor,
            )),
        };
        Batches {
            loader: self,
            make,
            epoch,
            next: 0,
            batches,
        }
    }

    /// A batch made by a fetcher moved to the loader's device and
    /// normalized (a loader over a dataset; an in-memory loader's stored
    /// tensors are both already).
    pub(crate) fn finish(&self, (x, y): (Tensor, Tensor)) -> Result<(Tensor, Tensor)> {
        if self.is_in_memory() {
            return Ok((x, y));
        }
        let (x, y) = (x.f_to_device(self.device)?, y.f_to_device(self.device)?);
        match &self.normalized {
            Some(n) => Ok((n.apply(&x)?, y)),
            None => Ok((x, y)),
        }
    }
}

impl Batches<'_> {
    /// The next batch, or the error that ends the pass.
    fn next_batch(&mut self) -> Option<Result<(Tensor, Tensor)>> {
        if self.next >= self.batches {
            return None;
        }
        let b = self.next;
        self.next += 1;
        let loader = self.loader;
        let (n, bs) = (loader.num_samples(), loader.batch_size);
        let batch = match &self.make {
            Make::Stored(order) => {
                let Source::Memory(ds) = &loader.source else {
                    unreachable!("stored batches come from an in-memory loader")
                };
                let start = (b * bs) as i64;
                let len = (bs.min(n - b * bs)) as i64;
                match order {
                    Some(order) => order
                        .f_narrow(0, start, len)
                        .map_err(Into::into)
                        .and_then(|idx| ds.select(&idx)),
                    None => ds.slice(start, len),
                }
            }
            Make::Here(fetcher, order) => {
                let indices = batch_indices(order.as_deref(), n, bs, b);
                fetcher.fetch(&indices, self.epoch)
            }
            Make::Workers(workers) => workers.recv(b),
        };
        let batch = batch.and_then(|batch| loader.finish(batch));
        if batch.is_err() {
            // An error ends the pass (and stops the workers).
            self.next = self.batches;
            self.make = Make::Stored(None);
        }
        Some(batch)
    }
}

impl Iterator for Batches<'_> {
    type Item = (Tensor, Tensor);

    /// The next batch; a sample that cannot be read or stacked panics with
    /// the error's message (see [`DataLoader::try_iter`]).
    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch()
            .map(|batch| batch.unwrap_or_else(|e| panic!("{e}")))
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

/// One epoch of batches as `Result`s ([`DataLoader::try_iter`]): a sample
/// that cannot be read or stacked is an error, and the last item.
pub struct TryBatches<'a>(pub(crate) Batches<'a>);

impl Iterator for TryBatches<'_> {
    type Item = Result<(Tensor, Tensor)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_batch()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for TryBatches<'_> {}
