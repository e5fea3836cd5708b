//! `torch.optim.lr_scheduler.CosineAnnealingLR`.

use std::f64::consts::PI;

use super::core::{epoch_scheduler, Core};
use crate::error::{Error, Result};

/// `CosineAnnealingLR(optimizer, T_max, eta_min=0.0)`: each group's rate
/// follows a half cosine from its initial one down to `eta_min` over
/// `T_max` epochs (and back up after, as PyTorch's).
///
/// ```
/// use cnn_lab::CosineAnnealingLR;
/// let scheduler = CosineAnnealingLR::new(10).eta_min(1e-5);
/// # let _ = scheduler;
/// ```
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    t_max: i64,
    eta_min: f64,
    core: Core,
}

impl CosineAnnealingLR {
    /// `CosineAnnealingLR(optimizer, T_max)`.
    pub fn new(t_max: usize) -> CosineAnnealingLR {
        CosineAnnealingLR {
            t_max: t_max as i64,
            eta_min: 0.0,
            core: Core::default(),
        }
    }

    /// `eta_min=` (default 0).
    pub fn eta_min(mut self, eta_min: f64) -> Self {
        self.eta_min = eta_min;
        self
    }

    fn check(&self) -> Result<()> {
        if self.t_max < 1 {
            return Err(Error::InvalidArgument(
                "CosineAnnealingLR: T_max must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// PyTorch's recursive `get_lr`, for group `g`.
    fn next_lr(&self, g: usize) -> f64 {
        let (lr, e, t) = (self.core.last_lrs[g], self.core.last_epoch, self.t_max);
        let (base, min) = (self.core.base_lrs[g], self.eta_min);
        if (e - 1 - t).rem_euclid(2 * t) == 0 {
            lr + (base - min) * (1.0 - (PI / t as f64).cos()) / 2.0
        } else {
            (1.0 + (PI * e as f64 / t as f64).cos())
                / (1.0 + (PI * (e - 1) as f64 / t as f64).cos())
                * (lr - min)
                + min
        }
    }
}

epoch_scheduler!(CosineAnnealingLR, ["T_max" => t_max: Int, "eta_min" => eta_min: Float]);
