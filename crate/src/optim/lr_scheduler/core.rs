//! What every scheduler shares (PyTorch's `LRScheduler.__init__` and
//! `state_dict`): each group's `base_lrs` and `_last_lr`, `last_epoch`,
//! `_step_count`, their save and load; and the epoch schedulers' trait
//! implementation, written once for all of them.

use super::{LrStep, SchedulerState, StateValue};
use crate::error::{Error, Result};

/// The fields every scheduler keeps, one rate per parameter group.
#[derive(Clone, Debug, Default)]
pub struct Core {
    /// Each group's initial rate (`base_lrs`).
    pub base_lrs: Vec<f64>,
    /// Each group's current rate (`_last_lr`).
    pub last_lrs: Vec<f64>,
    /// Steps taken (`last_epoch`; 0 after the constructor).
    pub last_epoch: i64,
    /// `_step_count` (1 after the constructor).
    pub step_count: i64,
    started: bool,
}

impl Core {
    /// The constructor's state, from each group's rate.
    pub fn start(&mut self, name: &str, base_lrs: &[f64]) -> Result<()> {
        if base_lrs.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "{name}: the optimizer has no parameter group"
            )));
        }
        *self = Core {
            base_lrs: base_lrs.to_vec(),
            last_lrs: base_lrs.to_vec(),
            last_epoch: 0,
            step_count: 1,
            started: true,
        };
        Ok(())
    }

    /// The start of `step()`: one more epoch (or batch).
    pub fn advance(&mut self, name: &str) -> Result<()> {
        if !self.started {
            return Err(Error::InvalidArgument(format!(
                "{name}: step() before start() (fit starts it)"
            )));
        }
        self.last_epoch += 1;
        self.step_count += 1;
        Ok(())
    }

    /// The rates as a step's result.
    pub fn lr_step(&self, momentum: Option<f64>) -> LrStep {
        LrStep::new(self.last_lrs.clone(), momentum)
    }

    /// `LRScheduler`'s own entries of `state_dict()`.
    pub fn state(&self) -> SchedulerState {
        vec![
            ("base_lrs".into(), StateValue::Floats(self.base_lrs.clone())),
            ("last_epoch".into(), StateValue::Int(self.last_epoch)),
            ("_step_count".into(), StateValue::Int(self.step_count)),
            ("_is_initial".into(), StateValue::Bool(false)),
            ("_get_lr_called_within_step".into(), StateValue::Bool(false)),
            ("_last_lr".into(), StateValue::Floats(self.last_lrs.clone())),
        ]
    }

    /// Restores [`Core::state`]'s entries.
    pub fn load(&mut self, name: &str, state: &SchedulerState) -> Result<()> {
        let base_lrs = floats(name, state, "base_lrs")?;
        let last_lrs = floats(name, state, "_last_lr")?;
        if base_lrs.is_empty() || base_lrs.len() != last_lrs.len() {
            return Err(Error::InvalidArgument(format!(
                "{name}: the saved base_lrs ({}) and _last_lr ({}) should hold one rate per group",
                base_lrs.len(),
                last_lrs.len()
            )));
        }
        self.base_lrs = base_lrs;
        self.last_lrs = last_lrs;
        self.last_epoch = int(name, state, "last_epoch")?;
        self.step_count = int(name, state, "_step_count").unwrap_or(self.last_epoch + 1);
        self.started = true;
        Ok(())
    }

    /// Restores only `last_epoch` and `_last_lr` (a scheduler without `base_lrs`).
    pub fn load_last(&mut self, name: &str, state: &SchedulerState) -> Result<()> {
        self.last_lrs = floats(name, state, "_last_lr")?;
        if self.last_lrs.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "{name}: the saved _last_lr is empty"
            )));
        }
        self.base_lrs = self.last_lrs.clone();
        self.last_epoch = int(name, state, "last_epoch")?;
        self.started = true;
        Ok(())
    }
}

fn find<'a>(name: &str, state: &'a SchedulerState, key: &str) -> Result<&'a StateValue> {
    state
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .ok_or_else(|| Error::InvalidArgument(format!("{name}: the saved state has no {key}")))
}

/// The saved int `key`.
pub fn int(name: &str, state: &SchedulerState, key: &str) -> Result<i64> {
    match find(name, state, key)? {
        StateValue::Int(i) => Ok(*i),
        other => Err(Error::InvalidArgument(format!(
            "{name}: saved {key} should be an int, found {other:?}"
        ))),
    }
}

/// The saved float `key` (an int is taken as a float, as Python would).
pub fn float(name: &str, state: &SchedulerState, key: &str) -> Result<f64> {
    match find(name, state, key)? {
        StateValue::Float(f) => Ok(*f),
        StateValue::Int(i) => Ok(*i as f64),
        other => Err(Error::InvalidArgument(format!(
            "{name}: saved {key} should be a float, found {other:?}"
        ))),
    }
}

/// The saved list of floats `key`.
pub fn floats(name: &str, state: &SchedulerState, key: &str) -> Result<Vec<f64>> {
    match find(name, state, key)? {
        StateValue::Floats(v) => Ok(v.clone()),
        StateValue::Ints(v) => Ok(v.iter().map(|&i| i as f64).collect()),
        other => Err(Error::InvalidArgument(format!(
            "{name}: saved {key} should be a list of floats, found {other:?}"
        ))),
    }
}

/// Implements [`LrScheduler`](super::LrScheduler) for an epoch scheduler
/// from its `check` and `next_lr(group)` (PyTorch's `get_lr`, one group);
/// `"key" => field: Kind` are its arguments as its `state_dict()` names them.
macro_rules! epoch_scheduler {
    ($ty:ident, [$($key:literal => $field:ident: $kind:ident),*]) => {
        impl $crate::optim::lr_scheduler::LrScheduler for $ty {
            fn name(&self) -> &'static str {
                stringify!($ty)
            }
            fn start_groups(
                &mut self,
                base_lrs: &[f64],
                _total_steps: usize,
            ) -> $crate::error::Result<$crate::optim::lr_scheduler::LrStep> {
                self.check()?;
                self.core.start(stringify!($ty), base_lrs)?;
                Ok(self.core.lr_step(None))
            }
            fn step(
                &mut self,
                _metric: Option<f64>,
            ) -> $crate::error::Result<$crate::optim::lr_scheduler::LrStep> {
                self.core.advance(stringify!($ty))?;
                let next: Vec<f64> =
                    (0..self.core.last_lrs.len()).map(|g| self.next_lr(g)).collect();
                self.core.last_lrs = next;
                Ok(self.core.lr_step(None))
            }
            fn last_lrs(&self) -> Vec<f64> {
                self.core.last_lrs.clone()
            }
            fn state(&self) -> $crate::optim::lr_scheduler::SchedulerState {
                use $crate::optim::lr_scheduler::StateValue;
                let mut state: $crate::optim::lr_scheduler::SchedulerState =
                    vec![$(($key.into(), StateValue::$kind(self.$field.clone()))),*];
                state.extend(self.core.state());
                state
            }
            fn load_state(
                &mut self,
                state: &$crate::optim::lr_scheduler::SchedulerState,
            ) -> $crate::error::Result<()> {
                self.core.load(stringify!($ty), state)
            }
            fn box_clone(&self) -> Box<dyn $crate::optim::lr_scheduler::LrScheduler> {
                Box::new(self.clone())
            }
        }
    };
}

pub(super) use epoch_scheduler;
