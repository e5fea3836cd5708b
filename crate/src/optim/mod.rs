//! Optimizers (lecture: `torch.optim.Adam(model.parameters(), lr=0.001)`,
//! `torch.optim.SGD(…)`), over libtorch's own C++ implementations, and
//! learning-rate schedulers ([`lr_scheduler`], PyTorch's
//! `torch.optim.lr_scheduler`).
//!
//! ```
//! use cnn_lab::{Adam, Optimizer, Tensor};
//! let w = Tensor::from_slice(&[1.0f32]).set_requires_grad(true);
//! let mut optimizer = Adam::new(vec![w.shallow_clone()], 0.1);
//! for _ in 0..3 {
//!     optimizer.zero_grad().unwrap();
//!     (&w * &w).sum(cnn_lab::Kind::Float).backward();
//!     optimizer.step().unwrap();
//! }
//! // Adam's first steps move by about lr each (PyTorch: 0.70159).
//! assert!((w.double_value(&[0]) - 0.70159).abs() < 1e-4);
//! ```

mod adam;
mod groups;
pub mod lr_scheduler;
mod sgd;

use tch::Tensor;

use crate::error::{Error, Result};

pub use adam::Adam;
pub use groups::{ParamGroup, ParamGroups};
pub use lr_scheduler::{
    CosineAnnealingLR, ExponentialLR, LrScheduler, MultiStepLR, OneCycleLR, PerGroup,
    ReduceLROnPlateau, StepLR,
};
pub use sgd::{Sgd, SGD};

/// What `fit` needs from an optimizer: PyTorch's `zero_grad()` and `step()`,
/// and the learning rates a scheduler changes.
///
/// A parameter without a gradient (frozen with
/// [`requires_grad_(false)`](crate::ModuleExt::requires_grad_), or unused by
/// the forward pass) is skipped by `step`, as PyTorch's optimizers skip a
/// parameter whose `.grad` is `None`: it stays bit for bit as it was, weight
/// decay and momentum included.
pub trait Optimizer {
    /// Clears the gradients of every parameter (`optimizer.zero_grad()`,
    /// which sets them to `None`).
    fn zero_grad(&mut self) -> Result<()>;
    /// Updates every parameter that has a gradient (`optimizer.step()`).
    fn step(&mut self) -> Result<()>;
    /// The current learning rate of the first group
    /// (`optimizer.param_groups[0]["lr"]`).
    fn learning_rate(&self) -> f64;
    /// Sets the learning rate of every group
    /// (`for g in optimizer.param_groups: g["lr"] = lr`).
    ///
    /// ```
    /// use cnn_lab::{Adam, Optimizer, Tensor};
    /// let mut optimizer = Adam::new(vec![Tensor::zeros([2], cnn_lab::tch::kind::FLOAT_CPU)], 1e-3);
    /// optimizer.set_learning_rate(1e-4)?;
    /// assert_eq!(optimizer.learning_rate(), 1e-4);
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    fn set_learning_rate(&mut self, lr: f64) -> Result<()>;
    /// Every group's learning rate (`[g["lr"] for g in optimizer.param_groups]`).
    fn learning_rates(&self) -> Vec<f64> {
        vec![self.learning_rate()]
    }
    /// Sets group `group`'s learning rate
    /// (`optimizer.param_groups[group]["lr"] = lr`), as a scheduler does.
    ///
    /// ```
    /// use cnn_lab::{Optimizer, ParamGroup, SGD, Tensor};
    /// let w = || vec![Tensor::zeros([2], cnn_lab::FLOAT_CPU)];
    /// let mut optimizer = SGD::new(vec![ParamGroup::new(w()), ParamGroup::new(w())], 0.1);
    /// optimizer.set_group_learning_rate(1, 0.5)?;
    /// assert_eq!(optimizer.learning_rates(), [0.1, 0.5]);
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    fn set_group_learning_rate(&mut self, group: usize, lr: f64) -> Result<()> {
        if group != 0 {
            return Err(Error::InvalidArgument(format!(
                "this optimizer has one parameter group, not a group {group}"
            )));
        }
        self.set_learning_rate(lr)
    }
    /// The momentum a one-cycle schedule cycles: Adam's `beta1`, SGD's
    /// `momentum` (of the first group; PyTorch's
    /// `OneCycleLR(cycle_momentum=True)`); `None` for an optimizer without one.
    fn momentum(&self) -> Option<f64> {
        None
    }
    /// Sets [`Optimizer::momentum`] in every group.
    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        Err(Error::InvalidArgument(format!(
            "this optimizer has no momentum to set to {momentum} (OneCycleLR: use .cycle_momentum(false))"
        )))
    }
    /// Whether `step` only queues GPU work — no CPU-side counter, no copy to
    /// the CPU — so that it can be recorded in a CUDA graph
    /// ([`FitOptions::cuda_graph`](crate::FitOptions::cuda_graph)); PyTorch's
    /// `capturable`. Default: no.
    fn capturable(&self) -> bool {
        false
    }
    /// Makes sure [`Optimizer::state`] will be able to read the state (for
    /// Adam on the CPU: use the fused implementation, whose moments live in
    /// tensors cnn_lab holds). `fit` calls it before the first step when it
    /// is to save a training checkpoint ([`FitOptions::resume_from`](crate::FitOptions::resume_from)).
    fn keep_state_readable(&mut self) -> Result<()> {
        Ok(())
    }
    /// The optimizer's state in the layout of PyTorch's
    /// `optimizer.state_dict()`, for a training checkpoint.
    fn state(&self) -> Result<OptimizerState> {
        Err(Error::InvalidArgument(
            "this optimizer cannot save its state (resume_from needs Adam or SGD)".into(),
        ))
    }
    /// Restores what [`Optimizer::state`] returned
    /// (`optimizer.load_state_dict(…)`): each group's settings (`lr`, …) and
    /// the per-parameter tensors, copied into the optimizer's own on its
    /// parameters' devices.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        let _ = state;
        Err(Error::InvalidArgument(
            "this optimizer cannot restore a state (resume_from needs Adam or SGD)".into(),
        ))
    }
}

/// A value of a parameter group in PyTorch's `state_dict()`: `lr`,
/// `betas`, `amsgrad`, `foreach` (None), …
#[derive(Clone, Debug, PartialEq)]
pub enum HyperValue {
    /// A float (`lr`, `eps`, …).
    Float(f64),
    /// A pair of floats (`betas`).
    Pair(f64, f64),
    /// A flag (`amsgrad`, `nesterov`, …).
    Bool(bool),
    /// Python's `None` (`foreach`, `fused` unset).
    None,
}

/// One entry of `state_dict()["param_groups"]`: the group's settings in
/// PyTorch's key order and its `params` (flat parameter indices).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupState {
    /// The settings (`lr`, `momentum`, …), without `params`.
    pub hyper: Vec<(String, HyperValue)>,
    /// The indices of its parameters (PyTorch numbers them across the groups).
    pub params: Vec<usize>,
}

impl GroupState {
    /// The float setting `key` (e.g. `lr`).
    pub fn float(&self, key: &str) -> Option<f64> {
        self.hyper.iter().find_map(|(k, v)| match v {
            HyperValue::Float(f) if k == key => Some(*f),
            _ => None,
        })
    }
}

/// An optimizer's state, laid out as PyTorch's `optimizer.state_dict()`:
/// `{"state": {i: {"step": …, "exp_avg": …}}, "param_groups": [{…, "params": [0, 1, …]}, …]}`.
#[derive(Debug)]
pub struct OptimizerState {
    /// `param_groups`, in order.
    pub param_groups: Vec<GroupState>,
    /// Per parameter index, its state tensors by PyTorch's names
    /// (`step`, `exp_avg`, `exp_avg_sq`, `momentum_buffer`, …); parameters
    /// without state are absent, as in PyTorch.
    pub state: Vec<(usize, Vec<(String, Tensor)>)>,
}

impl OptimizerState {
    /// How many parameters the groups hold together.
    pub fn num_params(&self) -> usize {
        self.param_groups.iter().map(|g| g.params.len()).sum()
    }

    /// Group 0's float setting `key` (e.g. `lr`).
    pub fn float(&self, key: &str) -> Option<f64> {
        self.param_groups.first()?.float(key)
    }

    /// The saved tensors of parameter `index`, if it has state.
    pub(crate) fn tensors_of(&self, index: usize) -> Option<&[(String, Tensor)]> {
        self.state
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, t)| t.as_slice())
    }

    /// Checks that the saved groups have the sizes `sizes` (the optimizer's).
    pub(crate) fn check_layout(&self, name: &str, sizes: &[usize]) -> Result<()> {
        let saved: Vec<usize> = self.param_groups.iter().map(|g| g.params.len()).collect();
        if saved != sizes {
            return Err(Error::InvalidArgument(format!(
                "{name}: the saved state has parameter groups of sizes {saved:?}, this optimizer \
                 {sizes:?} (PyTorch: loaded state dict contains a parameter group that doesn't \
                 match the size of optimizer's group)"
            )));
        }
        let n = self.num_params();
        if let Some((i, _)) = self.state.iter().find(|(i, _)| *i >= n) {
            return Err(Error::InvalidArgument(format!(
                "{name}: saved state for parameter {i} of {n}"
            )));
        }
        Ok(())
    }
}

/// Copies a saved state tensor into a fresh one shaped like `like`.
pub(crate) fn restored(
    name: &str,
    what: &str,
    i: usize,
    src: &Tensor,
    like: &Tensor,
) -> Result<Tensor> {
    if src.size() != like.size() {
        return Err(Error::Shape(format!(
            "{name}: saved {what} of parameter {i} has shape {:?}, the parameter {:?}",
            src.size(),
            like.size()
        )));
    }
    let _guard = tch::no_grad_guard();
    Ok(src
        .f_to_kind(like.kind())?
        .f_to_device(like.device())?
        .f_contiguous()?
        .f_detach_copy()?)
}
