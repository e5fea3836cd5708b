//! `torch.optim.lr_scheduler.MultiStepLR`.

use super::core::{epoch_scheduler, Core};
use crate::error::{Error, Result};

/// `MultiStepLR(optimizer, milestones, gamma=0.1)`: each group's rate times
/// `gamma` at each milestone epoch.
///
/// ```
/// use cnn_lab::MultiStepLR;
/// let scheduler = MultiStepLR::new([5, 8]).gamma(0.5);
/// # let _ = scheduler;
/// ```
#[derive(Clone, Debug)]
pub struct MultiStepLR {
    milestones: Vec<i64>,
    gamma: f64,
    core: Core,
}

impl MultiStepLR {
    /// `MultiStepLR(optimizer, milestones)`.
    pub fn new(milestones: impl IntoIterator<Item = usize>) -> MultiStepLR {
        MultiStepLR {
            milestones: milestones.into_iter().map(|m| m as i64).collect(),
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
        if self.milestones.windows(2).any(|w| w[0] > w[1]) {
            return Err(Error::InvalidArgument(format!(
                "MultiStepLR: milestones must be increasing, got {:?}",
                self.milestones
            )));
        }
        Ok(())
    }

    fn next_lr(&self, g: usize) -> f64 {
        let hits = self
            .milestones
            .iter()
            .filter(|&&m| m == self.core.last_epoch)
            .count();
        let lr = self.core.last_lrs[g];
        if hits == 0 {
            lr
        } else {
            lr * self.gamma.powi(hits as i32)
        }
    }
}

epoch_scheduler!(MultiStepLR, ["milestones" => milestones: Ints, "gamma" => gamma: Float]);
