//! Learning-rate schedulers: PyTorch's `torch.optim.lr_scheduler`, with
//! its names, arguments, defaults and values.
//!
//! A scheduler is a builder given to `fit` by
//! [`FitOptions::scheduler`](crate::FitOptions::scheduler); `fit` steps it
//! where PyTorch's loop does: [`OneCycleLR`] after every batch's
//! `optimizer.step()`, [`ReduceLROnPlateau`] after validation with the
//! validation loss, the others after each epoch. The learning rate shows in
//! the progress line and is kept in [`FitResult::lr`](crate::FitResult::lr).
//!
//! Each computes the rates as PyTorch does, recursive forms included (a
//! cosine step multiplies the last rate, as `get_lr` does), so the values
//! agree to the last bits, not just to the closed forms.
//!
//! ```
//! use cnn_lab::{LrScheduler, StepLR};
//! let mut scheduler = StepLR::new(2).gamma(0.5);
//! let mut lrs = vec![scheduler.start(0.1, 5)?.lr];
//! for _ in 0..4 {
//!     lrs.push(scheduler.step(None)?.lr);
//! }
//! assert_eq!(lrs, [0.1, 0.1, 0.05, 0.05, 0.025]);
//! # Ok::<(), cnn_lab::Error>(())
//! ```

use std::f64::consts::PI;

use crate::error::{Error, Result};

/// When a scheduler steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// After each epoch (after validation).
    Epoch,
    /// After each training batch's optimizer step.
    Batch,
}

/// What a scheduler sets after a step: the learning rate, and for a
/// one-cycle schedule the momentum (Adam's `beta1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrStep {
    /// The learning rate of the next steps.
    pub lr: f64,
    /// The momentum of the next steps, when the scheduler cycles it.
    pub momentum: Option<f64>,
}

impl LrStep {
    fn lr(lr: f64) -> LrStep {
        LrStep { lr, momentum: None }
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

/// A learning-rate scheduler (`torch.optim.lr_scheduler.LRScheduler`).
pub trait LrScheduler: std::fmt::Debug {
    /// PyTorch's class name (`StepLR`, …).
    fn name(&self) -> &'static str;
    /// When it steps: per epoch, or per batch ([`OneCycleLR`]).
    fn interval(&self) -> Interval {
        Interval::Epoch
    }
    /// PyTorch's constructor: `base_lr` is the optimizer's learning rate
    /// (`initial_lr`), `total_steps` how many times it will be stepped (the
    /// epochs, or for a per-batch scheduler epochs × batches), which
    /// [`OneCycleLR`] uses unless given its own. Returns the rate of the
    /// first steps (PyTorch's constructor's initial `step()`).
    fn start(&mut self, base_lr: f64, total_steps: usize) -> Result<LrStep>;
    /// `scheduler.step()`; `metric` is what [`ReduceLROnPlateau`] watches
    /// (the validation loss), ignored by the others.
    fn step(&mut self, metric: Option<f64>) -> Result<LrStep>;
    /// `scheduler.get_last_lr()[0]`.
    fn last_lr(&self) -> f64;
    /// `scheduler.state_dict()`, PyTorch's attribute names.
    fn state(&self) -> SchedulerState;
    /// `scheduler.load_state_dict(…)`: continues where `state` was taken
    /// (after [`LrScheduler::start`]).
    fn load_state(&mut self, state: &SchedulerState) -> Result<()>;
    /// A copy, for [`FitOptions`](crate::FitOptions), which is `Clone`.
    fn box_clone(&self) -> Box<dyn LrScheduler>;
}

impl Clone for Box<dyn LrScheduler> {
    fn clone(&self) -> Self {
        self.box_clone()
    }
}

/// The fields every epoch-based scheduler keeps (`LRScheduler.__init__`).
#[derive(Clone, Debug, Default)]
struct Base {
    base_lr: f64,
    last_lr: f64,
    last_epoch: i64,
    step_count: i64,
    started: bool,
}

impl Base {
    fn start(&mut self, base_lr: f64) {
        *self = Base {
            base_lr,
            last_lr: base_lr,
            last_epoch: 0,
            step_count: 1,
            started: true,
        };
    }

    fn advance(&mut self, name: &str) -> Result<()> {
        if !self.started {
            return Err(Error::InvalidArgument(format!(
                "{name}: step() before start() (fit starts it)"
            )));
        }
        self.last_epoch += 1;
        self.step_count += 1;
        Ok(())
    }

    fn state(&self) -> SchedulerState {
        vec![
            ("base_lrs".into(), StateValue::Floats(vec![self.base_lr])),
            ("last_epoch".into(), StateValue::Int(self.last_epoch)),
            ("_step_count".into(), StateValue::Int(self.step_count)),
            ("_is_initial".into(), StateValue::Bool(false)),
            ("_get_lr_called_within_step".into(), StateValue::Bool(false)),
            ("_last_lr".into(), StateValue::Floats(vec![self.last_lr])),
        ]
    }

    fn load(&mut self, name: &str, state: &SchedulerState) -> Result<()> {
        self.base_lr = first_float(name, state, "base_lrs")?;
        self.last_lr = first_float(name, state, "_last_lr")?;
        self.last_epoch = int(name, state, "last_epoch")?;
        self.step_count = int(name, state, "_step_count")?;
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

fn int(name: &str, state: &SchedulerState, key: &str) -> Result<i64> {
    match find(name, state, key)? {
        StateValue::Int(i) => Ok(*i),
        other => Err(Error::InvalidArgument(format!(
            "{name}: saved {key} should be an int, found {other:?}"
        ))),
    }
}

fn float(name: &str, state: &SchedulerState, key: &str) -> Result<f64> {
    match find(name, state, key)? {
        StateValue::Float(f) => Ok(*f),
        StateValue::Int(i) => Ok(*i as f64),
        other => Err(Error::InvalidArgument(format!(
            "{name}: saved {key} should be a float, found {other:?}"
        ))),
    }
}

fn first_float(name: &str, state: &SchedulerState, key: &str) -> Result<f64> {
    match find(name, state, key)? {
        StateValue::Floats(v) if !v.is_empty() => Ok(v[0]),
        other => Err(Error::InvalidArgument(format!(
            "{name}: saved {key} should be a list of floats, found {other:?}"
        ))),
    }
}

/// Implements the trait for an epoch scheduler from its `check` and
/// `next_lr` (PyTorch's `get_lr`); `"key" => field` are its arguments as
/// its `state_dict()` names them.
macro_rules! epoch_scheduler {
    ($ty:ident, [$($key:literal => $field:ident: $kind:ident),*]) => {
        impl LrScheduler for $ty {
            fn name(&self) -> &'static str {
                stringify!($ty)
            }
            fn start(&mut self, base_lr: f64, _total_steps: usize) -> Result<LrStep> {
                self.check()?;
                self.base.start(base_lr);
                Ok(LrStep::lr(base_lr))
            }
            fn step(&mut self, _metric: Option<f64>) -> Result<LrStep> {
                self.base.advance(self.name())?;
                self.base.last_lr = self.next_lr();
                Ok(LrStep::lr(self.base.last_lr))
            }
            fn last_lr(&self) -> f64 {
                self.base.last_lr
            }
            fn state(&self) -> SchedulerState {
                let mut state: SchedulerState =
                    vec![$(($key.into(), StateValue::$kind(self.$field.clone()))),*];
                state.extend(self.base.state());
                state
            }
            fn load_state(&mut self, state: &SchedulerState) -> Result<()> {
                self.base.load(self.name(), state)
            }
            fn box_clone(&self) -> Box<dyn LrScheduler> {
                Box::new(self.clone())
            }
        }
    };
}

/// `StepLR(optimizer, step_size, gamma=0.1)`: the rate times `gamma`
/// every `step_size` epochs.
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
    base: Base,
}

impl StepLR {
    /// `StepLR(optimizer, step_size)`.
    pub fn new(step_size: usize) -> StepLR {
        StepLR {
            step_size: step_size as i64,
            gamma: 0.1,
            base: Base::default(),
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

    fn next_lr(&self) -> f64 {
        let (lr, epoch) = (self.base.last_lr, self.base.last_epoch);
        if epoch == 0 || epoch % self.step_size != 0 {
            lr
        } else {
            lr * self.gamma
        }
    }
}

epoch_scheduler!(StepLR, ["step_size" => step_size: Int, "gamma" => gamma: Float]);

/// `MultiStepLR(optimizer, milestones, gamma=0.1)`: the rate times `gamma`
/// at each milestone epoch.
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
    base: Base,
}

impl MultiStepLR {
    /// `MultiStepLR(optimizer, milestones)`.
    pub fn new(milestones: impl IntoIterator<Item = usize>) -> MultiStepLR {
        MultiStepLR {
            milestones: milestones.into_iter().map(|m| m as i64).collect(),
            gamma: 0.1,
            base: Base::default(),
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

    fn next_lr(&self) -> f64 {
        let hits = self
            .milestones
            .iter()
            .filter(|&&m| m == self.base.last_epoch)
            .count();
        if hits == 0 {
            self.base.last_lr
        } else {
            self.base.last_lr * self.gamma.powi(hits as i32)
        }
    }
}

epoch_scheduler!(MultiStepLR, ["milestones" => milestones: Ints, "gamma" => gamma: Float]);

/// `ExponentialLR(optimizer, gamma)`: the rate times `gamma` every epoch.
///
/// ```
/// use cnn_lab::ExponentialLR;
/// let scheduler = ExponentialLR::new(0.9);
/// # let _ = scheduler;
/// ```
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    gamma: f64,
    base: Base,
}

impl ExponentialLR {
    /// `ExponentialLR(optimizer, gamma)`.
    pub fn new(gamma: f64) -> ExponentialLR {
        ExponentialLR {
            gamma,
            base: Base::default(),
        }
    }

    fn check(&self) -> Result<()> {
        Ok(())
    }

    fn next_lr(&self) -> f64 {
        self.base.last_lr * self.gamma
    }
}

epoch_scheduler!(ExponentialLR, ["gamma" => gamma: Float]);

/// `CosineAnnealingLR(optimizer, T_max, eta_min=0.0)`: the rate follows a
/// half cosine from the initial one down to `eta_min` over `T_max` epochs
/// (and back up after, as PyTorch's).
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
    base: Base,
}

impl CosineAnnealingLR {
    /// `CosineAnnealingLR(optimizer, T_max)`.
    pub fn new(t_max: usize) -> CosineAnnealingLR {
        CosineAnnealingLR {
            t_max: t_max as i64,
            eta_min: 0.0,
            base: Base::default(),
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

    /// PyTorch's recursive `get_lr`.
    fn next_lr(&self) -> f64 {
        let (lr, e, t) = (self.base.last_lr, self.base.last_epoch, self.t_max);
        let (base, min) = (self.base.base_lr, self.eta_min);
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

/// `ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10,
/// threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8)`:
/// the rate times `factor` when the validation loss has not improved for
/// more than `patience` epochs. `fit` steps it with the validation loss.
///
/// ```
/// use cnn_lab::{LrScheduler, ReduceLROnPlateau};
/// let mut scheduler = ReduceLROnPlateau::new().patience(0).factor(0.5);
/// scheduler.start(0.1, 3)?;
/// scheduler.step(Some(1.0))?;
/// assert_eq!(scheduler.step(Some(1.0))?.lr, 0.05);
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
    min_lr: f64,
    eps: f64,
    best: f64,
    num_bad_epochs: i64,
    cooldown_counter: i64,
    last_epoch: i64,
    last_lr: f64,
    started: bool,
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
            min_lr: 0.0,
            eps: 1e-8,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
            last_lr: 0.0,
            started: false,
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

    /// `min_lr=` (default 0).
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
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
}

impl LrScheduler for ReduceLROnPlateau {
    fn name(&self) -> &'static str {
        "ReduceLROnPlateau"
    }
    fn start(&mut self, base_lr: f64, _total_steps: usize) -> Result<LrStep> {
        if self.factor >= 1.0 {
            return Err(Error::InvalidArgument(
                "ReduceLROnPlateau: Factor should be < 1.0.".into(),
            ));
        }
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
        self.best = if self.mode == "min" {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        };
        self.num_bad_epochs = 0;
        self.cooldown_counter = 0;
        self.last_epoch = 0;
        self.last_lr = base_lr;
        self.started = true;
        Ok(LrStep::lr(base_lr))
    }
    fn step(&mut self, metric: Option<f64>) -> Result<LrStep> {
        let current = metric.ok_or_else(|| {
            Error::InvalidArgument(
                "ReduceLROnPlateau: step() needs the metric (the validation loss)".into(),
            )
        })?;
        if !self.started {
            return Err(Error::InvalidArgument(
                "ReduceLROnPlateau: step() before start() (fit starts it)".into(),
            ));
        }
        self.last_epoch += 1;
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
            let new_lr = (self.last_lr * self.factor).max(self.min_lr);
            if self.last_lr - new_lr > self.eps {
                self.last_lr = new_lr;
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        Ok(LrStep::lr(self.last_lr))
    }
    fn last_lr(&self) -> f64 {
        self.last_lr
    }
    fn state(&self) -> SchedulerState {
        vec![
            ("factor".into(), StateValue::Float(self.factor)),
            ("min_lrs".into(), StateValue::Floats(vec![self.min_lr])),
            ("patience".into(), StateValue::Int(self.patience)),
            ("cooldown".into(), StateValue::Int(self.cooldown)),
            ("eps".into(), StateValue::Float(self.eps)),
            ("last_epoch".into(), StateValue::Int(self.last_epoch)),
            ("_last_lr".into(), StateValue::Floats(vec![self.last_lr])),
            ("mode".into(), StateValue::Str(self.mode.clone())),
            ("threshold".into(), StateValue::Float(self.threshold)),
            (
                "threshold_mode".into(),
                StateValue::Str(self.threshold_mode.clone()),
            ),
            ("best".into(), StateValue::Float(self.best)),
            (
                "cooldown_counter".into(),
                StateValue::Int(self.cooldown_counter),
            ),
            (
                "num_bad_epochs".into(),
                StateValue::Int(self.num_bad_epochs),
            ),
        ]
    }
    fn load_state(&mut self, state: &SchedulerState) -> Result<()> {
        let name = self.name();
        self.last_epoch = int(name, state, "last_epoch")?;
        self.last_lr = first_float(name, state, "_last_lr")?;
        self.best = float(name, state, "best")?;
        self.cooldown_counter = int(name, state, "cooldown_counter")?;
        self.num_bad_epochs = int(name, state, "num_bad_epochs")?;
        self.started = true;
        Ok(())
    }
    fn box_clone(&self) -> Box<dyn LrScheduler> {
        Box::new(self.clone())
    }
}

/// `OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None,
/// steps_per_epoch=None, pct_start=0.3, anneal_strategy="cos",
/// cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
/// div_factor=25.0, final_div_factor=1e4, three_phase=False)`, stepped
/// after every batch: the rate rises from `max_lr / div_factor` to
/// `max_lr` over the first `pct_start` of the steps, then falls to
/// `max_lr / div_factor / final_div_factor`; the momentum (Adam's `beta1`)
/// moves the other way. Under `fit`, `total_steps` defaults to epochs ×
/// batches per epoch.
///
/// ```
/// use cnn_lab::OneCycleLR;
/// let scheduler = OneCycleLR::new(1e-2).pct_start(0.25);
/// # let _ = scheduler;
/// ```
#[derive(Clone, Debug)]
pub struct OneCycleLR {
    max_lr: f64,
    total_steps: Option<usize>,
    pct_start: f64,
    anneal_strategy: String,
    cycle_momentum: bool,
    base_momentum: f64,
    max_momentum: f64,
    div_factor: f64,
    final_div_factor: f64,
    three_phase: bool,
    /// The resolved total and the phases' `(end_step, start_lr, end_lr,
    /// start_momentum, end_momentum)`.
    phases: Vec<(f64, f64, f64, f64, f64)>,
    resolved_total: usize,
    base: Base,
    last_momentum: Option<f64>,
}

impl OneCycleLR {
    /// `OneCycleLR(optimizer, max_lr)`.
    pub fn new(max_lr: f64) -> OneCycleLR {
        OneCycleLR {
            max_lr,
            total_steps: None,
            pct_start: 0.3,
            anneal_strategy: "cos".into(),
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
            phases: Vec::new(),
            resolved_total: 0,
            base: Base::default(),
            last_momentum: None,
        }
    }

    /// `total_steps=` (under `fit`, default: epochs × batches per epoch).
    pub fn total_steps(mut self, total_steps: usize) -> Self {
        self.total_steps = Some(total_steps);
        self
    }

    /// `epochs=` and `steps_per_epoch=`: `total_steps` as their product.
    pub fn epochs(mut self, epochs: usize, steps_per_epoch: usize) -> Self {
        self.total_steps = Some(epochs * steps_per_epoch);
        self
    }

    /// `pct_start=` (default 0.3).
    pub fn pct_start(mut self, pct_start: f64) -> Self {
        self.pct_start = pct_start;
        self
    }

    /// `anneal_strategy=`: `"cos"` (default) or `"linear"`.
    pub fn anneal_strategy(mut self, strategy: &str) -> Self {
        self.anneal_strategy = strategy.into();
        self
    }

    /// `cycle_momentum=` (default true: Adam's `beta1` / SGD's momentum).
    pub fn cycle_momentum(mut self, cycle: bool) -> Self {
        self.cycle_momentum = cycle;
        self
    }

    /// `base_momentum=` (default 0.85).
    pub fn base_momentum(mut self, momentum: f64) -> Self {
        self.base_momentum = momentum;
        self
    }

    /// `max_momentum=` (default 0.95).
    pub fn max_momentum(mut self, momentum: f64) -> Self {
        self.max_momentum = momentum;
        self
    }

    /// `div_factor=` (default 25).
    pub fn div_factor(mut self, div_factor: f64) -> Self {
        self.div_factor = div_factor;
        self
    }

    /// `final_div_factor=` (default 1e4).
    pub fn final_div_factor(mut self, final_div_factor: f64) -> Self {
        self.final_div_factor = final_div_factor;
        self
    }

    /// `three_phase=` (default false).
    pub fn three_phase(mut self, three_phase: bool) -> Self {
        self.three_phase = three_phase;
        self
    }

    /// Whether it sets the momentum too (`cycle_momentum`).
    pub fn cycles_momentum(&self) -> bool {
        self.cycle_momentum
    }

    fn anneal(&self, start: f64, end: f64, pct: f64) -> f64 {
        if self.anneal_strategy == "cos" {
            let cos_out = (PI * pct).cos() + 1.0;
            end + (start - end) / 2.0 * cos_out
        } else {
            (end - start) * pct + start
        }
    }

    fn compute(&self) -> Result<LrStep> {
        let step = self.base.last_epoch;
        if step as usize > self.resolved_total {
            return Err(Error::InvalidArgument(format!(
                "OneCycleLR: Tried to step {step} times. The specified number of total steps is {}",
                self.resolved_total
            )));
        }
        let step = step as f64;
        let mut start_step = 0.0;
        for (i, &(end_step, lr0, lr1, m0, m1)) in self.phases.iter().enumerate() {
            if step <= end_step || i == self.phases.len() - 1 {
                let pct = (step - start_step) / (end_step - start_step);
                return Ok(LrStep {
                    lr: self.anneal(lr0, lr1, pct),
                    momentum: self.cycle_momentum.then(|| self.anneal(m0, m1, pct)),
                });
            }
            start_step = end_step;
        }
        unreachable!("at least two phases")
    }
}

impl LrScheduler for OneCycleLR {
    fn name(&self) -> &'static str {
        "OneCycleLR"
    }
    fn interval(&self) -> Interval {
        Interval::Batch
    }
    fn start(&mut self, _base_lr: f64, total_steps: usize) -> Result<LrStep> {
        let total = self.total_steps.unwrap_or(total_steps);
        if total == 0 {
            return Err(Error::InvalidArgument(format!(
                "OneCycleLR: Expected positive integer total_steps, but got {total}"
            )));
        }
        if !(0.0..=1.0).contains(&self.pct_start) {
            return Err(Error::InvalidArgument(format!(
                "OneCycleLR: Expected float between 0 and 1 pct_start, but got {}",
                self.pct_start
            )));
        }
        if !matches!(self.anneal_strategy.as_str(), "cos" | "linear") {
            return Err(Error::InvalidArgument(format!(
                "OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', instead got {}",
                self.anneal_strategy
            )));
        }
        self.resolved_total = total;
        let n = total as f64;
        let initial = self.max_lr / self.div_factor;
        let min_lr = initial / self.final_div_factor;
        let (max_m, base_m) = (self.max_momentum, self.base_momentum);
        let up = self.pct_start * n - 1.0;
        self.phases = if self.three_phase {
            vec![
                (up, initial, self.max_lr, max_m, base_m),
                (
                    2.0 * self.pct_start * n - 2.0,
                    self.max_lr,
                    initial,
                    base_m,
                    max_m,
                ),
                (n - 1.0, initial, min_lr, max_m, max_m),
            ]
        } else {
            vec![
                (up, initial, self.max_lr, max_m, base_m),
                (n - 1.0, self.max_lr, min_lr, base_m, max_m),
            ]
        };
        self.base.start(initial);
        let first = self.compute()?;
        self.base.last_lr = first.lr;
        self.last_momentum = first.momentum;
        Ok(first)
    }
    fn step(&mut self, _metric: Option<f64>) -> Result<LrStep> {
        self.base.advance(self.name())?;
        let next = self.compute()?;
        self.base.last_lr = next.lr;
        self.last_momentum = next.momentum;
        Ok(next)
    }
    fn last_lr(&self) -> f64 {
        self.base.last_lr
    }
    fn state(&self) -> SchedulerState {
        let mut state = vec![
            (
                "total_steps".into(),
                StateValue::Int(self.resolved_total as i64),
            ),
            (
                "_anneal_func_type".into(),
                StateValue::Str(self.anneal_strategy.clone()),
            ),
            (
                "cycle_momentum".into(),
                StateValue::Bool(self.cycle_momentum),
            ),
            ("use_beta1".into(), StateValue::Bool(true)),
        ];
        state.extend(self.base.state());
        state
    }
    fn load_state(&mut self, state: &SchedulerState) -> Result<()> {
        let total = int(self.name(), state, "total_steps")? as usize;
        self.start(0.0, total)?;
        self.base.load(self.name(), state)?;
        self.last_momentum = self.compute()?.momentum;
        Ok(())
    }
    fn box_clone(&self) -> Box<dyn LrScheduler> {
        Box::new(self.clone())
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
