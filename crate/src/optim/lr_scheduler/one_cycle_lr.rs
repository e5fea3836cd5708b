//! `torch.optim.lr_scheduler.OneCycleLR`.

use std::f64::consts::PI;

use super::core::{int, Core};
use super::{Interval, LrScheduler, LrStep, PerGroup, SchedulerState, StateValue};
use crate::error::{Error, Result};

/// Which of a group's three rates a phase starts or ends at.
#[derive(Clone, Copy, Debug)]
enum Rate {
    Initial,
    Max,
    Min,
}

/// One phase: its last step, the rates it goes between and the momenta.
#[derive(Clone, Copy, Debug)]
struct Phase {
    end_step: f64,
    start_lr: Rate,
    end_lr: Rate,
    start_momentum: f64,
    end_momentum: f64,
}

/// `OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None,
/// steps_per_epoch=None, pct_start=0.3, anneal_strategy="cos",
/// cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
/// div_factor=25.0, final_div_factor=1e4, three_phase=False)`, stepped
/// after every batch: each group's rate rises from `max_lr / div_factor` to
/// its `max_lr` over the first `pct_start` of the steps, then falls to
/// `max_lr / div_factor / final_div_factor`; the momentum (Adam's `beta1`,
/// SGD's `momentum`) moves the other way. `max_lr` is one rate for every
/// group or one per group (`OneCycleLR::new([1e-4, 1e-3])`, PyTorch's list).
/// Under `fit`, `total_steps` defaults to epochs × batches per epoch.
///
/// ```
/// use cnn_lab::{LrScheduler, OneCycleLR};
/// let scheduler = OneCycleLR::new(1e-2).pct_start(0.25);
/// # let _ = scheduler;
/// let mut per_group = OneCycleLR::new([1e-3, 1e-2]).total_steps(10);
/// let first = per_group.start_groups(&[0.0, 0.0], 10)?;
/// // Each group starts at its max_lr / div_factor (PyTorch's cosine formula, to rounding).
/// assert!((first.lrs[0] - 1e-3 / 25.0).abs() < 1e-15 && (first.lrs[1] - 1e-2 / 25.0).abs() < 1e-15);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct OneCycleLR {
    max_lr: PerGroup,
    total_steps: Option<usize>,
    pct_start: f64,
    anneal_strategy: String,
    cycle_momentum: bool,
    base_momentum: f64,
    max_momentum: f64,
    div_factor: f64,
    final_div_factor: f64,
    three_phase: bool,
    phases: Vec<Phase>,
    /// Per group: `initial_lr`, `max_lr`, `min_lr`.
    rates: Vec<[f64; 3]>,
    resolved_total: usize,
    core: Core,
    last_momentum: Option<f64>,
}

impl OneCycleLR {
    /// `OneCycleLR(optimizer, max_lr)`: one `max_lr` (`1e-2`) or one per
    /// parameter group (`[1e-4, 1e-2]`).
    pub fn new(max_lr: impl Into<PerGroup>) -> OneCycleLR {
        OneCycleLR {
            max_lr: max_lr.into(),
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
            rates: Vec::new(),
            resolved_total: 0,
            core: Core::default(),
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

    /// PyTorch's `get_lr` at `last_epoch`: each group's rate, the momentum.
    fn compute(&self) -> Result<(Vec<f64>, Option<f64>)> {
        let step = self.core.last_epoch;
        if step as usize > self.resolved_total {
            return Err(Error::InvalidArgument(format!(
                "OneCycleLR: Tried to step {step} times. The specified number of total steps is {}",
                self.resolved_total
            )));
        }
        let step = step as f64;
        let mut start_step = 0.0;
        for (i, phase) in self.phases.iter().enumerate() {
            if step <= phase.end_step || i == self.phases.len() - 1 {
                let pct = (step - start_step) / (phase.end_step - start_step);
                let lrs = self
                    .rates
                    .iter()
                    .map(|r| self.anneal(r[phase.start_lr as usize], r[phase.end_lr as usize], pct))
                    .collect();
                let momentum = self
                    .cycle_momentum
                    .then(|| self.anneal(phase.start_momentum, phase.end_momentum, pct));
                return Ok((lrs, momentum));
            }
            start_step = phase.end_step;
        }
        unreachable!("at least two phases")
    }

    fn set(&mut self, (lrs, momentum): (Vec<f64>, Option<f64>)) -> LrStep {
        self.core.last_lrs = lrs;
        self.last_momentum = momentum;
        self.core.lr_step(momentum)
    }
}

impl LrScheduler for OneCycleLR {
    fn name(&self) -> &'static str {
        "OneCycleLR"
    }
    fn interval(&self) -> Interval {
        Interval::Batch
    }
    fn start_groups(&mut self, base_lrs: &[f64], total_steps: usize) -> Result<LrStep> {
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
        let max_lrs = self.max_lr.resolve(self.name(), "max_lr", base_lrs.len())?;
        self.resolved_total = total;
        self.rates = max_lrs
            .iter()
            .map(|&max| {
                let initial = max / self.div_factor;
                [initial, max, initial / self.final_div_factor]
            })
            .collect();
        let n = total as f64;
        let (max_m, base_m) = (self.max_momentum, self.base_momentum);
        let phase = |end_step, start_lr, end_lr, start_momentum, end_momentum| Phase {
            end_step,
            start_lr,
            end_lr,
            start_momentum,
            end_momentum,
        };
        let up = self.pct_start * n - 1.0;
        self.phases = if self.three_phase {
            vec![
                phase(up, Rate::Initial, Rate::Max, max_m, base_m),
                phase(
                    2.0 * self.pct_start * n - 2.0,
                    Rate::Max,
                    Rate::Initial,
                    base_m,
                    max_m,
                ),
                phase(n - 1.0, Rate::Initial, Rate::Min, max_m, max_m),
            ]
        } else {
            vec![
                phase(up, Rate::Initial, Rate::Max, max_m, base_m),
                phase(n - 1.0, Rate::Max, Rate::Min, base_m, max_m),
            ]
        };
        let initial: Vec<f64> = self.rates.iter().map(|r| r[0]).collect();
        self.core.start(self.name(), &initial)?;
        let first = self.compute()?;
        Ok(self.set(first))
    }
    fn step(&mut self, _metric: Option<f64>) -> Result<LrStep> {
        self.core.advance(self.name())?;
        let next = self.compute()?;
        Ok(self.set(next))
    }
    fn last_lrs(&self) -> Vec<f64> {
        self.core.last_lrs.clone()
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
        state.extend(self.core.state());
        state
    }
    fn load_state(&mut self, state: &SchedulerState) -> Result<()> {
        let total = int(self.name(), state, "total_steps")? as usize;
        let mut saved = Core::default();
        saved.load(self.name(), state)?;
        self.start_groups(&vec![0.0; saved.base_lrs.len()], total)?;
        self.core = saved;
        self.last_momentum = self.compute()?.1;
        Ok(())
    }
    fn box_clone(&self) -> Box<dyn LrScheduler> {
        Box::new(self.clone())
    }
}
