//! `torch.optim.lr_scheduler.ReduceLROnPlateau`.

use super::core::{float, int, Core};
use super::{LrScheduler, LrStep, PerGroup, SchedulerState, StateValue};
use crate::error::{Error, Result};

/// `ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10,
/// threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8)`:
/// each group's rate times `factor` (not below its `min_lr`) when the
/// validation loss has not improved for more than `patience` epochs. `fit`
/// steps it with the validation loss.
///
/// ```
/// use cnn_lab::{LrScheduler, ReduceLROnPlateau};
/// let mut scheduler = ReduceLROnPlateau::new().patience(0).factor(0.5);
/// scheduler.start(0.1, 3)?;
/// scheduler.step(Some(1.0))?;
/// assert_eq!(scheduler.step(Some(1.0))?.lr, 0.05);
/// // A floor per group: min_lr=[0.04, 0.0].
/// let mut scheduler = ReduceLROnPlateau::new().patience(0).factor(0.5).min_lr([0.04, 0.0]);
/// scheduler.start_groups(&[0.05, 0.1], 3)?;
/// scheduler.step(Some(1.0))?;
/// assert_eq!(scheduler.step(Some(1.0))?.lrs, [0.04, 0.05]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    mode: String,
    factor: f64,
    patience: i64,
    threshold: f64,
    threshold_mode: String,
    cooldown: i64,
    min_lr: PerGroup,
    min_lrs: Vec<f64>,
    eps: f64,
    best: f64,
    num_bad_epochs: i64,
    cooldown_counter: i64,
    core: Core,
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        Self::new()
    }
}

impl ReduceLROnPlateau {
    /// `ReduceLROnPlateau(optimizer)` with PyTorch's defaults.
    pub fn new() -> ReduceLROnPlateau {
        ReduceLROnPlateau {
            mode: "min".into(),
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: "rel".into(),
            cooldown: 0,
            min_lr: PerGroup::All(0.0),
            min_lrs: Vec::new(),
            eps: 1e-8,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            core: Core::default(),
        }
    }

    /// `mode=`: `"min"` (a loss, the default) or `"max"`.
    pub fn mode(mut self, mode: &str) -> Self {
        self.mode = mode.into();
        self
    }

    /// `factor=` (default 0.1; must be below 1).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// `patience=` (default 10).
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience as i64;
        self
    }

    /// `threshold=` (default 1e-4).
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// `threshold_mode=`: `"rel"` (default) or `"abs"`.
    pub fn threshold_mode(mut self, threshold_mode: &str) -> Self {
        self.threshold_mode = threshold_mode.into();
        self
    }

    /// `cooldown=` (default 0).
    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown as i64;
        self
    }

    /// `min_lr=` (default 0): one floor for every group, or one per group.
    pub fn min_lr(mut self, min_lr: impl Into<PerGroup>) -> Self {
        self.min_lr = min_lr.into();
        self
    }

    /// `eps=` (default 1e-8).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    fn is_better(&self, a: f64) -> bool {
        match (self.mode.as_str(), self.threshold_mode.as_str()) {
            ("min", "rel") => a < self.best * (1.0 - self.threshold),
            ("min", _) => a < self.best - self.threshold,
            (_, "rel") => a > self.best * (self.threshold + 1.0),
            _ => a > self.best + self.threshold,
        }
    }

    fn mode_worse(&self) -> f64 {
        if self.mode == "min" {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        }
    }
}

impl LrScheduler for ReduceLROnPlateau {
    fn name(&self) -> &'static str {
        "ReduceLROnPlateau"
    }
    fn start_groups(&mut self, base_lrs: &[f64], _total_steps: usize) -> Result<LrStep> {
        if self.factor >= 1.0 {
            return Err(Error::InvalidArgument(
                "ReduceLROnPlateau: Factor should be < 1.0.".into(),
            ));
        }
        self.min_lrs = match &self.min_lr {
            PerGroup::Each(v) if v.len() != base_lrs.len() => {
                return Err(Error::InvalidArgument(format!(
                    "ReduceLROnPlateau: expected {} min_lrs, got {}",
                    base_lrs.len(),
                    v.len()
                )))
            }
            m => m.resolve(self.name(), "min_lr", base_lrs.len())?,
        };
        if !matches!(self.mode.as_str(), "min" | "max") {
            return Err(Error::InvalidArgument(format!(
                "ReduceLROnPlateau: mode {} is unknown!",
                self.mode
            )));
        }
        if !matches!(self.threshold_mode.as_str(), "rel" | "abs") {
            return Err(Error::InvalidArgument(format!(
                "ReduceLROnPlateau: threshold mode {} is unknown!",
                self.threshold_mode
            )));
        }
        self.core.start(self.name(), base_lrs)?;
        self.best = self.mode_worse();
        self.num_bad_epochs = 0;
        self.cooldown_counter = 0;
        Ok(self.core.lr_step(None))
    }
    fn step(&mut self, metric: Option<f64>) -> Result<LrStep> {
        let current = metric.ok_or_else(|| {
            Error::InvalidArgument(
                "ReduceLROnPlateau: step() needs the metric (the validation loss)".into(),
            )
        })?;
        self.core.advance(self.name())?;
        if self.is_better(current) {
            self.best = current;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            for (lr, &min_lr) in self.core.last_lrs.iter_mut().zip(&self.min_lrs) {
                let new_lr = (*lr * self.factor).max(min_lr);
                if *lr - new_lr > self.eps {
                    *lr = new_lr;
                }
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        Ok(self.core.lr_step(None))
    }
    fn last_lrs(&self) -> Vec<f64> {
        self.core.last_lrs.clone()
    }
    fn state(&self) -> SchedulerState {
        let default_min_lr = match self.min_lr {
            PerGroup::All(v) => StateValue::Float(v),
            PerGroup::Each(_) => StateValue::Str("None".into()),
        };
        let mut state: SchedulerState = vec![
            ("factor".into(), StateValue::Float(self.factor)),
            ("default_min_lr".into(), default_min_lr),
            ("min_lrs".into(), StateValue::Floats(self.min_lrs.clone())),
            ("patience".into(), StateValue::Int(self.patience)),
            ("cooldown".into(), StateValue::Int(self.cooldown)),
            ("eps".into(), StateValue::Float(self.eps)),
            ("last_epoch".into(), StateValue::Int(self.core.last_epoch)),
            (
                "_last_lr".into(),
                StateValue::Floats(self.core.last_lrs.clone()),
            ),
            ("mode".into(), StateValue::Str(self.mode.clone())),
            ("threshold".into(), StateValue::Float(self.threshold)),
            (
                "threshold_mode".into(),
                StateValue::Str(self.threshold_mode.clone()),
            ),
            ("best".into(), StateValue::Float(self.best)),
            ("mode_worse".into(), StateValue::Float(self.mode_worse())),
            (
                "cooldown_counter".into(),
                StateValue::Int(self.cooldown_counter),
            ),
            (
                "num_bad_epochs".into(),
                StateValue::Int(self.num_bad_epochs),
            ),
        ];
        // `default_min_lr` is None in PyTorch when given a list.
        state.retain(|(k, v)| k != "default_min_lr" || matches!(v, StateValue::Float(_)));
        state
    }
    fn load_state(&mut self, state: &SchedulerState) -> Result<()> {
        let name = self.name();
        self.core.load_last(name, state)?;
        self.best = float(name, state, "best")?;
        self.cooldown_counter = int(name, state, "cooldown_counter")?;
        self.num_bad_epochs = int(name, state, "num_bad_epochs")?;
        self.min_lrs = super::core::floats(name, state, "min_lrs")?;
        if self.min_lrs.len() != self.core.last_lrs.len() {
            return Err(Error::InvalidArgument(format!(
                "{name}: the saved min_lrs ({}) and _last_lr ({}) differ in length",
                self.min_lrs.len(),
                self.core.last_lrs.len()
            )));
        }
        Ok(())
    }
    fn box_clone(&self) -> Box<dyn LrScheduler> {
        Box::new(self.clone())
    }
}
