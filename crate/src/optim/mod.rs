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
pub mod lr_scheduler;
mod sgd;

use tch::{COptimizer, Tensor};

use crate::error::{Error, Result};

pub use adam::Adam;
pub use lr_scheduler::{
    CosineAnnealingLR, ExponentialLR, LrScheduler, MultiStepLR, OneCycleLR, ReduceLROnPlateau,
    StepLR,
};
pub use sgd::Sgd;

/// What `fit` needs from an optimizer: PyTorch's `zero_grad()` and `step()`,
/// and the learning rate a scheduler changes.
pub trait Optimizer {
    /// Clears the gradients of every parameter (`optimizer.zero_grad()`).
    fn zero_grad(&mut self) -> Result<()>;
    /// Updates every parameter from its gradient (`optimizer.step()`).
    fn step(&mut self) -> Result<()>;
    /// The current learning rate (`optimizer.param_groups[0]["lr"]`).
    fn learning_rate(&self) -> f64;
    /// Sets the learning rate of the next steps
    /// (`for g in optimizer.param_groups: g["lr"] = lr`), as a scheduler does.
    ///
    /// ```
    /// use cnn_lab::{Adam, Optimizer, Tensor};
    /// let mut optimizer = Adam::new(vec![Tensor::zeros([2], cnn_lab::tch::kind::FLOAT_CPU)], 1e-3);
    /// optimizer.set_learning_rate(1e-4)?;
    /// assert_eq!(optimizer.learning_rate(), 1e-4);
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    fn set_learning_rate(&mut self, lr: f64) -> Result<()>;
    /// The momentum a one-cycle schedule cycles: Adam's `beta1`, SGD's
    /// `momentum` (PyTorch's `OneCycleLR(cycle_momentum=True)`); `None` for
    /// an optimizer without one.
    fn momentum(&self) -> Option<f64> {
        None
    }
    /// Sets [`Optimizer::momentum`].
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
    /// (`optimizer.load_state_dict(…)`); tensors are copied into the
    /// optimizer's own, on its parameters' devices.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        let _ = state;
        Err(Error::InvalidArgument(
            "this optimizer cannot restore a state (resume_from needs Adam or SGD)".into(),
        ))
    }
}

/// A value of an optimizer's `param_groups[0]` in PyTorch's
/// `state_dict()`: `lr`, `betas`, `amsgrad`, `foreach` (None), …
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

/// An optimizer's state, laid out as PyTorch's `optimizer.state_dict()`:
/// `{"state": {i: {"step": …, "exp_avg": …}}, "param_groups": [{…, "params": [0..n]}]}`
/// with one parameter group.
#[derive(Debug)]
pub struct OptimizerState {
    /// The parameter group's settings, in PyTorch's key order (without
    /// `params`, which is `0..num_params`).
    pub group: Vec<(String, HyperValue)>,
    /// Per parameter index, its state tensors by PyTorch's names
    /// (`step`, `exp_avg`, `exp_avg_sq`, …); parameters without state are
    /// absent, as in PyTorch.
    pub state: Vec<(usize, Vec<(String, Tensor)>)>,
    /// How many parameters the group holds.
    pub num_params: usize,
}

impl OptimizerState {
    /// The group's float setting `key` (e.g. `lr`).
    pub fn float(&self, key: &str) -> Option<f64> {
        self.group.iter().find_map(|(k, v)| match v {
            HyperValue::Float(f) if k == key => Some(*f),
            _ => None,
        })
    }
}

/// The error of an optimizer built on no parameters; PyTorch's constructor
/// says `optimizer got an empty parameter list`.
fn empty_parameter_list(name: &str) -> Error {
    Error::InvalidArgument(format!(
        "{name}: optimizer got an empty parameter list (the model has no trainable tensors, \
         or the list was taken before the layers were added)"
    ))
}

/// The parameters plus the libtorch optimizer, built on first use so that
/// the builder methods can still change its settings before that.
struct Lazy {
    params: Vec<Tensor>,
    inner: Option<COptimizer>,
}

impl Lazy {
    fn get(&mut self, make: impl FnOnce() -> Result<COptimizer>) -> Result<&mut COptimizer> {
        if self.inner.is_none() {
            let mut opt = make()?;
            for p in &self.params {
                opt.add_parameters(p, 0)?;
            }
            self.inner = Some(opt);
        }
        Ok(self.inner.as_mut().expect("built above"))
    }
}

impl std::fmt::Debug for Lazy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} parameter tensors", self.params.len())
    }
}
