//! The parts `fit` is assembled from, each with its hook into the loop (as
//! Keras's callbacks, burn-train's learner components, fastai's
//! callbacks): the loop itself (`fit.rs`) only trains, evaluates and prints
//! the lecture's epoch line; what else happens — the best checkpoint, early
//! stopping, the learning-rate schedule, the live chart, the training
//! checkpoint to resume from — is a [`Part`] that sees the [`Learner`] at
//! its hook point:
//!
//! | part | hook |
//! |---|---|
//! | [`resume::Resume`] | `fit_start` (restore), `epoch_start` (the generators) |
//! | [`schedule::Schedule`] | `fit_start` (initial rate), `batch_end` (OneCycleLR), `epoch_end` (the others) |
//! | [`chart::LossPoints`] | `batch_end` (the training loss ~10 times per epoch) |
//! | [`chart::LiveChart`] | `batch_end` (redraw at a new point), `epoch_end` (validation points) |
//! | [`best::BestModel`] | `epoch_end` (save when the validation loss improves) |
//! | [`best::EarlyStopping`] | `epoch_end` (ask the loop to stop) |
//! | [`resume::SaveCheckpoint`] | `epoch_end`, last (the training checkpoint) |
//!
//! Parts run in the order `fit` lists them, which fixes the order of the
//! lines they print (the lecture's `<<<<<<<저장` line before an early-stop
//! line).

pub(super) mod best;
pub(super) mod chart;
pub(super) mod resume;
pub(super) mod schedule;

use tch::Tensor;

use super::options::{FitOptions, FitResult};
use crate::error::Result;
use crate::optim::LrScheduler;

/// What a part sees and may change: the model, the optimizer, where the
/// loop is, and the history so far.
pub(super) struct Learner<'a, M: ?Sized, O: ?Sized> {
    pub model: &'a M,
    pub optimizer: &'a mut O,
    pub options: &'a FitOptions,
    /// The epoch in progress (1-based); at `epoch_end`, the one just done.
    pub epoch: usize,
    pub epochs: usize,
    /// Batches per training epoch.
    pub batches: usize,
    /// The first epoch to run (after a restored checkpoint, the one after it).
    pub first_epoch: usize,
    pub result: FitResult,
    /// `FitOptions::scheduler`'s scheduler, stepped by [`schedule::Schedule`]
    /// and saved by [`resume::Resume`].
    pub scheduler: Option<Box<dyn LrScheduler>>,
    /// The lowest validation loss so far (`inf` before the first epoch).
    pub best: f64,
    /// Set by a part to end training after this epoch.
    pub stop: bool,
}

/// A training batch just stepped.
pub(super) struct BatchEnd<'t> {
    /// 1-based index within the epoch.
    pub batch: usize,
    /// The sum of this epoch's batch losses so far, on the device.
    pub loss_sum: &'t Tensor,
}

impl BatchEnd<'_> {
    /// The sum of the batch losses so far, read from the device.
    pub fn loss_sum(&self) -> f64 {
        self.loss_sum.double_value(&[])
    }
}

/// One concern of `fit`, hooked into the loop. Each hook has a default that
/// does nothing.
pub(super) trait Part<M: ?Sized, O: ?Sized> {
    /// Before the first epoch (a restored checkpoint moves `first_epoch`).
    fn fit_start(&mut self, _learner: &mut Learner<'_, M, O>) -> Result<()> {
        Ok(())
    }
    /// Before each epoch's training pass.
    fn epoch_start(&mut self, _learner: &mut Learner<'_, M, O>) -> Result<()> {
        Ok(())
    }
    /// After each training batch's optimizer step.
    fn batch_end(&mut self, _learner: &mut Learner<'_, M, O>, _batch: &BatchEnd<'_>) -> Result<()> {
        Ok(())
    }
    /// After each epoch's evaluation and epoch line, the history updated.
    fn epoch_end(&mut self, _learner: &mut Learner<'_, M, O>) -> Result<()> {
        Ok(())
    }
}
