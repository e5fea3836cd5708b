//! The best model so far (`save_model_path`) and early stopping.

use std::path::PathBuf;

use super::{Learner, Part};
use crate::checkpoint::save_model;
use crate::error::Result;
use crate::nn::ModuleExt;
use crate::pyfmt::py_float;

/// Saves the model whenever the validation loss improves, printing the
/// lecture's `<<<<<<<저장: 1 - 이전 : inf, 현재: 0.11539805261418223`; keeps
/// [`Learner::best`] and the best epoch up to date either way.
pub(in crate::train) struct BestModel {
    pub path: Option<PathBuf>,
}

impl<M: ModuleExt + ?Sized, O: ?Sized> Part<M, O> for BestModel {
    fn epoch_end(&mut self, learner: &mut Learner<'_, M, O>) -> Result<()> {
        let val_loss = *learner.result.val_loss.last().expect("an epoch was run");
        if val_loss < learner.best {
            if let Some(path) = &self.path {
                println!(
                    "<<<<<<<저장: {} - 이전 : {}, 현재: {}",
                    learner.epoch,
                    py_float(learner.best),
                    py_float(val_loss)
                );
                save_model(learner.model, path)?;
            }
            learner.best = val_loss;
            learner.result.best_epoch = Some(learner.epoch);
        }
        Ok(())
    }
}

/// Stops after `patience` epochs in a row without a better validation loss
/// (runs after [`BestModel`], which updates the best epoch).
pub(in crate::train) struct EarlyStopping {
    pub patience: usize,
}

impl<M: ?Sized, O: ?Sized> Part<M, O> for EarlyStopping {
    fn epoch_end(&mut self, learner: &mut Learner<'_, M, O>) -> Result<()> {
        let since_best = learner.epoch - learner.result.best_epoch.unwrap_or(0);
        if since_best >= self.patience {
            println!(
                "Early stopping: Epoch - {} (no better validation loss for {since_best} epochs)",
                learner.epoch
            );
            learner.result.stopped_early = true;
            learner.stop = true;
        }
        Ok(())
    }
}
