//! The learning-rate schedule ([`FitOptions::scheduler`](crate::FitOptions::scheduler)).

use super::{BatchEnd, Learner, Part};
use crate::error::{Error, Result};
use crate::optim::lr_scheduler::{Interval, LrStep};
use crate::optim::{LrScheduler, Optimizer};

/// Steps [`Learner::scheduler`] where PyTorch's loop does and sets what it
/// returns on the optimizer, each parameter group's rate on its group. After a restored checkpoint the scheduler
/// already holds its saved state and is not started afresh.
pub(in crate::train) struct Schedule;

fn apply<O: Optimizer + ?Sized>(
    scheduler: &dyn LrScheduler,
    optimizer: &mut O,
    step: LrStep,
) -> Result<()> {
    if step.lrs.len() != optimizer.learning_rates().len() {
        return Err(Error::InvalidArgument(format!(
            "{}: the scheduler has {} parameter groups, the optimizer {}",
            scheduler.name(),
            step.lrs.len(),
            optimizer.learning_rates().len()
        )));
    }
    for (group, &lr) in step.lrs.iter().enumerate() {
        optimizer.set_group_learning_rate(group, lr)?;
    }
    if let Some(m) = step.momentum {
        optimizer
            .set_momentum(m)
            .map_err(|e| Error::InvalidArgument(format!("{}: {e}", scheduler.name())))?;
    }
    Ok(())
}

impl<M: ?Sized, O: Optimizer + ?Sized> Part<M, O> for Schedule {
    fn fit_start(&mut self, learner: &mut Learner<'_, M, O>) -> Result<()> {
        let Some(scheduler) = learner.scheduler.as_deref_mut() else {
            return Ok(());
        };
        if learner.result.resumed_from.is_some() {
            return Ok(());
        }
        let total = match scheduler.interval() {
            Interval::Epoch => learner.epochs,
            Interval::Batch => learner.epochs * learner.batches,
        };
        let first = scheduler.start_groups(&learner.optimizer.learning_rates(), total)?;
        apply(scheduler, learner.optimizer, first)
    }

    fn batch_end(&mut self, learner: &mut Learner<'_, M, O>, _batch: &BatchEnd<'_>) -> Result<()> {
        let Some(scheduler) = learner.scheduler.as_deref_mut() else {
            return Ok(());
        };
        if scheduler.interval() != Interval::Batch {
            return Ok(());
        }
        let step = scheduler.step(None)?;
        apply(scheduler, learner.optimizer, step)
    }

    fn epoch_end(&mut self, learner: &mut Learner<'_, M, O>) -> Result<()> {
        let val_loss = learner.result.val_loss.last().copied();
        let Some(scheduler) = learner.scheduler.as_deref_mut() else {
            return Ok(());
        };
        if scheduler.interval() != Interval::Epoch {
            return Ok(());
        }
        let step = scheduler.step(val_loss)?;
        apply(scheduler, learner.optimizer, step)
    }
}
