//! `torch.optim.lr_scheduler.ExponentialLR`.

use super::core::{epoch_scheduler, Core};
use crate::error::Result;

/// `ExponentialLR(optimizer, gamma)`: each group's rate times `gamma` every
/// epoch.
///
/// ```
/// use cnn_lab::ExponentialLR;
/// let scheduler = ExponentialLR::new(0.9);
/// # let _ = scheduler;
/// ```
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    gamma: f64,
    core: Core,
}

impl ExponentialLR {
    /// `ExponentialLR(optimizer, gamma)`.
    pub fn new(gamma: f64) -> ExponentialLR {
        ExponentialLR {
            gamma,
            core: Core::default(),
        }
    }

    fn check(&self) -> Result<()> {
        Ok(())
    }

    fn next_lr(&self, g: usize) -> f64 {
        self.core.last_lrs[g] * self.gamma
    }
}

epoch_scheduler!(ExponentialLR, ["gamma" => gamma: Float]);
