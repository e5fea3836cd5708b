//! `torch.optim.lr_scheduler.StepLR`.

use super::core::{epoch_scheduler, Core};
use crate::error::{Error, Result};

/// `StepLR(optimizer, step_size, gamma=0.1)`: each group's rate times
/// `gamma` every `step_size` epochs.
///
/// ```
/// use cnn_lab::{FitOptions, StepLR};
/// let options = FitOptions::default().scheduler(StepLR::new(1).gamma(0.5));
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct StepLR {
    step_size: i64,
    gamma: f64,
    core: Core,
}

impl StepLR {
    /// `StepLR(optimizer, step_size)`.
    pub fn new(step_size: usize) -> StepLR {
        StepLR {
            step_size: step_size as i64,
            gamma: 0.1,
            core: Core::default(),
        }
    }

    /// `gamma=` (default 0.1).
    pub fn gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }

    fn check(&self) -> Result<()> {
        if self.step_size < 1 {
            return Err(Error::InvalidArgument(
                "StepLR: step_size must be at least 1".into(),
            ));
        }
        Ok(())
    }

    fn next_lr(&self, g: usize) -> f64 {
        let (lr, epoch) = (self.core.last_lrs[g], self.core.last_epoch);
        if epoch == 0 || epoch % self.step_size != 0 {
            lr
        } else {
            lr * self.gamma
        }
    }
}

epoch_scheduler!(StepLR, ["step_size" => step_size: Int, "gamma" => gamma: Float]);
