//! Learning-rate schedulers: PyTorch's `torch.optim.lr_scheduler`, with
//! its names, arguments, defaults and values, one file per scheduler over
//! a shared core ([`core`]: `base_lrs`, `last_epoch`, `_last_lr` and their
//! state save/load).
//!
//! A scheduler is a builder given to `fit` by
//! [`FitOptions::scheduler`](crate::FitOptions::scheduler); `fit` steps it
//! where PyTorch's loop does: [`OneCycleLR`] after every batch's
//! `optimizer.step()`, [`ReduceLROnPlateau`] after validation with the
//! validation loss, the others after each epoch. The learning rate shows in
//! the progress line and is kept in [`FitResult::lr`](crate::FitResult::lr).
//!
//! Like PyTorch's, a scheduler sets every parameter group's rate: it starts
//! from each group's rate (`base_lrs`, PyTorch's `initial_lr`) and computes
//! each group's next one, so an optimizer with a slower body group keeps
//! its ratio through the schedule. Each computes the rates as PyTorch does,
//! recursive forms included (a cosine step multiplies the last rate, as
//! `get_lr` does), so the values agree to the last bits, not just to the
//! closed forms.
//!
//! ```
//! use cnn_lab::{LrScheduler, StepLR};
//! let mut scheduler = StepLR::new(2).gamma(0.5);
//! let mut lrs = vec![scheduler.start(0.1, 5)?.lr];
//! for _ in 0..4 {
//!     lrs.push(scheduler.step(None)?.lr);
//! }
//! assert_eq!(lrs, [0.1, 0.1, 0.05, 0.05, 0.025]);
//! // Two parameter groups: each its own rate, the same steps.
//! let mut scheduler = StepLR::new(1).gamma(0.5);
//! scheduler.start_groups(&[0.01, 0.1], 5)?;
//! assert_eq!(scheduler.step(None)?.lrs, [0.005, 0.05]);
//! # Ok::<(), cnn_lab::Error>(())
//! ```

mod core;
mod cosine_annealing_lr;
mod exponential_lr;
mod multi_step_lr;
mod one_cycle_lr;
mod reduce_lr_on_plateau;
mod step_lr;

pub use cosine_annealing_lr::CosineAnnealingLR;
pub use exponential_lr::ExponentialLR;
pub use multi_step_lr::MultiStepLR;
pub use one_cycle_lr::OneCycleLR;
pub use reduce_lr_on_plateau::ReduceLROnPlateau;
pub use step_lr::StepLR;

use crate::error::{Error, Result};

/// When a scheduler steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// After each epoch (after validation).
    Epoch,
    /// After each training batch's optimizer step.
    Batch,
}

/// What a scheduler sets after a step: each group's learning rate, and for
/// a one-cycle schedule the momentum (Adam's `beta1`, SGD's `momentum`).
#[derive(Clone, Debug, PartialEq)]
pub struct LrStep {
    /// The first group's learning rate (`lrs[0]`).
    pub lr: f64,
    /// Every group's learning rate of the next steps
    /// (`[g["lr"] for g in optimizer.param_groups]`).
    pub lrs: Vec<f64>,
    /// The momentum of the next steps, when the scheduler cycles it.
    pub momentum: Option<f64>,
}

impl LrStep {
    pub(crate) fn new(lrs: Vec<f64>, momentum: Option<f64>) -> LrStep {
        LrStep {
            lr: lrs.first().copied().unwrap_or(f64::NAN),
            lrs,
            momentum,
        }
    }
}

/// A value of a scheduler's `state_dict()`, as PyTorch keeps it.
#[derive(Clone, Debug, PartialEq)]
pub enum StateValue {
    /// An `int`.
    Int(i64),
    /// A `float`.
    Float(f64),
    /// A `bool`.
    Bool(bool),
    /// A `str`.
    Str(String),
    /// A list of floats (`base_lrs`, `_last_lr`).
    Floats(Vec<f64>),
    /// A list of ints (`milestones`).
    Ints(Vec<i64>),
}

/// A scheduler's state by PyTorch's attribute names (`last_epoch`,
/// `_step_count`, `base_lrs`, `_last_lr`, …).
pub type SchedulerState = Vec<(String, StateValue)>;

/// One value for every parameter group, or one per group: PyTorch's
/// `max_lr=0.01` or `max_lr=[1e-4, 1e-2]` ([`OneCycleLR`]), `min_lr=`
/// ([`ReduceLROnPlateau`]).
///
/// ```
/// use cnn_lab::{OneCycleLR, PerGroup};
/// let _same = OneCycleLR::new(1e-2);
/// let _each = OneCycleLR::new([1e-4, 1e-2]);
/// assert_eq!(PerGroup::from(0.5).resolve("x", "max_lr", 2)?, [0.5, 0.5]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum PerGroup {
    /// The same value for every group.
    All(f64),
    /// One value per group, in order.
    Each(Vec<f64>),
}

impl PerGroup {
    /// The value of each of `groups` groups; PyTorch's error when a list's
    /// length differs.
    pub fn resolve(&self, name: &str, what: &str, groups: usize) -> Result<Vec<f64>> {
        match self {
            PerGroup::All(v) => Ok(vec![*v; groups]),
            PerGroup::Each(v) if v.len() == groups => Ok(v.clone()),
            PerGroup::Each(v) => Err(Error::InvalidArgument(format!(
                "{name}: expected {groups} values for {what}, got {}",
                v.len()
            ))),
        }
    }
}

impl From<f64> for PerGroup {
    fn from(v: f64) -> Self {
        PerGroup::All(v)
    }
}

impl From<Vec<f64>> for PerGroup {
    fn from(v: Vec<f64>) -> Self {
        PerGroup::Each(v)
    }
}

impl From<&[f64]> for PerGroup {
    fn from(v: &[f64]) -> Self {
        PerGroup::Each(v.to_vec())
    }
}

impl<const N: usize> From<[f64; N]> for PerGroup {
    fn from(v: [f64; N]) -> Self {
        PerGroup::Each(v.to_vec())
    }
}

/// A learning-rate scheduler (`torch.optim.lr_scheduler.LRScheduler`).
pub trait LrScheduler: std::fmt::Debug {
    /// PyTorch's class name (`StepLR`, …).
    fn name(&self) -> &'static str;
    /// When it steps: per epoch, or per batch ([`OneCycleLR`]).
    fn interval(&self) -> Interval {
        Interval::Epoch
    }
    /// PyTorch's constructor on an optimizer of one group: `base_lr` is its
    /// learning rate (`initial_lr`), `total_steps` how many times it will be
    /// stepped (the epochs, or for a per-batch scheduler epochs × batches),
    /// which [`OneCycleLR`] uses unless given its own. Returns the rate of
    /// the first steps (PyTorch's constructor's initial `step()`).
    fn start(&mut self, base_lr: f64, total_steps: usize) -> Result<LrStep> {
        self.start_groups(&[base_lr], total_steps)
    }
    /// [`LrScheduler::start`] on an optimizer with a group per entry of
    /// `base_lrs` (each group's `lr`, PyTorch's `base_lrs`); `fit` calls it
    /// with [`Optimizer::learning_rates`](crate::Optimizer::learning_rates).
    fn start_groups(&mut self, base_lrs: &[f64], total_steps: usize) -> Result<LrStep>;
    /// `scheduler.step()`; `metric` is what [`ReduceLROnPlateau`] watches
    /// (the validation loss), ignored by the others.
    fn step(&mut self, metric: Option<f64>) -> Result<LrStep>;
    /// `scheduler.get_last_lr()`: every group's rate.
    fn last_lrs(&self) -> Vec<f64>;
    /// `scheduler.get_last_lr()[0]`.
    fn last_lr(&self) -> f64 {
        self.last_lrs().first().copied().unwrap_or(f64::NAN)
    }
    /// `scheduler.state_dict()`, PyTorch's attribute names.
    fn state(&self) -> SchedulerState;
    /// `scheduler.load_state_dict(…)`: continues where `state` was taken.
    fn load_state(&mut self, state: &SchedulerState) -> Result<()>;
    /// A copy, for [`FitOptions`](crate::FitOptions), which is `Clone`.
    fn box_clone(&self) -> Box<dyn LrScheduler>;
}

impl Clone for Box<dyn LrScheduler> {
    fn clone(&self) -> Self {
        self.box_clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_mid_schedule() {
        let mut a = CosineAnnealingLR::new(7).eta_min(0.001);
        a.start(0.1, 10).unwrap();
        for _ in 0..4 {
            a.step(None).unwrap();
        }
        let mut b = CosineAnnealingLR::new(7).eta_min(0.001);
        b.start(0.1, 10).unwrap();
        b.load_state(&a.state()).unwrap();
        for _ in 0..5 {
            assert_eq!(a.step(None).unwrap(), b.step(None).unwrap());
        }
        let mut c = OneCycleLR::new(0.1);
        c.start(0.0, 20).unwrap();
        for _ in 0..7 {
            c.step(None).unwrap();
        }
        let mut d = OneCycleLR::new(0.1);
        d.load_state(&c.state()).unwrap();
        assert_eq!(c.step(None).unwrap(), d.step(None).unwrap());
    }
}
