//! The live chart: training-loss points during the epoch, validation points
//! at its end ([`FitOptions::live_plot`](crate::FitOptions::live_plot)).

use std::time::Instant;

use super::{BatchEnd, Learner, Part};
use crate::display::DisplayHandle;
use crate::error::Result;
use crate::utils::history::plot_training;

/// How many training-loss points an epoch gets (d2l's Animator plots a few
/// per epoch; 10 keeps the redraws a small share of an epoch).
pub(in crate::train) const POINTS_PER_EPOCH: usize = 10;

/// Records [`FitResult::train_loss_steps`](crate::FitResult::train_loss_steps):
/// every [`point_every`] batches, the mean of the batch losses since the
/// previous point, at its position in epochs (one host sync per point).
pub(in crate::train) struct LossPoints {
    /// The loss sum and batch of the previous point in this epoch.
    last: (f64, usize),
}

impl LossPoints {
    pub fn new() -> Self {
        LossPoints { last: (0.0, 0) }
    }
}

/// Every how many batches a point is due, for `batches` per epoch.
pub(in crate::train) fn point_every(batches: usize) -> usize {
    batches.div_ceil(POINTS_PER_EPOCH).max(1)
}

impl<M: ?Sized, O: ?Sized> Part<M, O> for LossPoints {
    fn batch_end(&mut self, learner: &mut Learner<'_, M, O>, batch: &BatchEnd<'_>) -> Result<()> {
        let n = learner.batches;
        if !batch.batch.is_multiple_of(point_every(n)) && batch.batch != n {
            return Ok(());
        }
        let sum = batch.loss_sum();
        let mean = (sum - self.last.0) / (batch.batch - self.last.1) as f64;
        let x = (learner.epoch - 1) as f64 + batch.batch as f64 / n as f64;
        learner.result.train_loss_steps.push((x, mean));
        self.last = if batch.batch == n {
            (0.0, 0)
        } else {
            (sum, batch.batch)
        };
        Ok(())
    }
}

/// Redraws the chart in place at each new training-loss point (after
/// [`LossPoints`]) and at each epoch's end. A picture that fails to draw
/// does not stop training.
pub(in crate::train) struct LiveChart {
    handle: DisplayHandle,
    drawn: usize,
}

impl LiveChart {
    pub fn new() -> Self {
        LiveChart {
            handle: DisplayHandle::new(),
            drawn: 0,
        }
    }

    fn redraw<M: ?Sized, O: ?Sized>(&mut self, learner: &mut Learner<'_, M, O>) {
        let started = Instant::now();
        if let Ok(png) = plot_training(&learner.result, learner.epochs) {
            self.handle.show("image/png", &png.base64());
        }
        self.drawn = learner.result.train_loss_steps.len();
        learner.result.chart_s += started.elapsed().as_secs_f64();
    }
}

impl<M: ?Sized, O: ?Sized> Part<M, O> for LiveChart {
    fn batch_end(&mut self, learner: &mut Learner<'_, M, O>, _batch: &BatchEnd<'_>) -> Result<()> {
        if learner.result.train_loss_steps.len() > self.drawn {
            self.redraw(learner);
        }
        Ok(())
    }

    fn epoch_end(&mut self, learner: &mut Learner<'_, M, O>) -> Result<()> {
        self.redraw(learner);
        Ok(())
    }
}
