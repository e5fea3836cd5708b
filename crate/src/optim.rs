//! Optimizers (lecture: `torch.optim.Adam(model.parameters(), lr=0.001)`,
//! `torch.optim.SGD(…)`), over libtorch's own C++ implementations.
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

use tch::{COptimizer, Kind, Tensor};

use crate::error::Result;
use crate::ops::{fused_adam_, set_grads_to_none, AdamHyper, AdamTensors};

/// What `fit` needs from an optimizer: PyTorch's `zero_grad()` and `step()`.
pub trait Optimizer {
    /// Clears the gradients of every parameter (`optimizer.zero_grad()`).
    fn zero_grad(&mut self) -> Result<()>;
    /// Updates every parameter from its gradient (`optimizer.step()`).
    fn step(&mut self) -> Result<()>;
    /// The current learning rate.
    fn learning_rate(&self) -> f64;
    /// Whether `step` only queues GPU work — no CPU-side counter, no copy to
    /// the CPU — so that it can be recorded in a CUDA graph
    /// ([`FitOptions::cuda_graph`](crate::FitOptions::cuda_graph)); PyTorch's
    /// `capturable`. Default: no.
    fn capturable(&self) -> bool {
        false
    }
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

/// `torch.optim.Adam` with PyTorch's defaults: betas (0.9, 0.999),
/// eps 1e-8, weight_decay 0, amsgrad off.
///
/// Two implementations, as in PyTorch: libtorch's C++ `torch::optim::Adam`
/// (a few kernels per parameter tensor) and the fused step of
/// `Adam(fused=True)` (libtorch's `_fused_adam_`: all tensors at once).
/// [`Adam::fused`] chooses; by default the fused one is used when the
/// parameters are on a GPU, where one kernel launch per operation per
/// tensor is what a training step waits for, and the C++ one on the CPU.
#[derive(Debug)]
pub struct Adam {
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    fused: Option<bool>,
    state: Lazy,
    fused_state: Option<FusedState>,
}

/// The fused step's state, per parameter: PyTorch's `exp_avg`,
/// `exp_avg_sq`, `max_exp_avg_sq` and `step` (a float32 scalar on the
/// parameter's device, as `Adam(fused=True)` keeps it).
struct FusedState {
    exp_avgs: Vec<Tensor>,
    exp_avg_sqs: Vec<Tensor>,
    max_exp_avg_sqs: Vec<Tensor>,
    steps: Vec<Tensor>,
}

impl FusedState {
    fn new(params: &[Tensor], amsgrad: bool) -> FusedState {
        let _guard = tch::no_grad_guard();
        let zeros = || params.iter().map(Tensor::zeros_like).collect::<Vec<_>>();
        FusedState {
            exp_avgs: zeros(),
            exp_avg_sqs: zeros(),
            max_exp_avg_sqs: if amsgrad { zeros() } else { Vec::new() },
            steps: params
                .iter()
                .map(|p| Tensor::zeros([], (Kind::Float, p.device())))
                .collect(),
        }
    }
}

impl std::fmt::Debug for FusedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fused state for {} tensors", self.exp_avgs.len())
    }
}

impl Adam {
    /// `Adam(params, lr=lr)`; pass `model.parameters()`.
    pub fn new(params: Vec<Tensor>, lr: f64) -> Adam {
        Adam {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            fused: None,
            state: Lazy {
                params,
                inner: None,
            },
            fused_state: None,
        }
    }

    /// `fused=`: `true` for the fused step (CPU or GPU), `false` for
    /// libtorch's C++ Adam; unset, the fused one on a GPU only. Takes effect
    /// if set before the first step.
    pub fn fused(mut self, fused: bool) -> Self {
        self.fused = Some(fused);
        self
    }

    /// Whether steps use the fused implementation (decided at the first
    /// step, from [`Adam::fused`] or the parameters' device).
    pub fn is_fused(&self) -> bool {
        match (&self.state.inner, &self.fused_state) {
            (Some(_), _) => false,
            (_, Some(_)) => true,
            _ => self.fused.unwrap_or_else(|| {
                self.state
                    .params
                    .first()
                    .is_some_and(|p| p.device().is_cuda())
            }),
        }
    }

    fn fused_step(&mut self) -> Result<()> {
        let params = &self.state.params;
        let state = self
            .fused_state
            .get_or_insert_with(|| FusedState::new(params, self.amsgrad));
        // Like PyTorch, a parameter without a gradient is left alone.
        let mut picked: [Vec<Tensor>; 6] = Default::default();
        for (i, p) in params.iter().enumerate() {
            let grad = p.grad();
            if !grad.defined() {
                continue;
            }
            let [ps, gs, avgs, sqs, maxs, steps] = &mut picked;
            ps.push(p.shallow_clone());
            gs.push(grad);
            avgs.push(state.exp_avgs[i].shallow_clone());
            sqs.push(state.exp_avg_sqs[i].shallow_clone());
            if self.amsgrad {
                maxs.push(state.max_exp_avg_sqs[i].shallow_clone());
            }
            steps.push(state.steps[i].shallow_clone());
        }
        let [params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps] = &picked;
        if params.is_empty() {
            return Ok(());
        }
        fused_adam_(
            &AdamTensors {
                params,
                grads,
                exp_avgs,
                exp_avg_sqs,
                max_exp_avg_sqs,
                state_steps,
            },
            AdamHyper {
                lr: self.lr,
                betas: self.betas,
                eps: self.eps,
                weight_decay: self.weight_decay,
                amsgrad: self.amsgrad,
            },
        )
    }

    /// `betas=(beta1, beta2)`; takes effect if set before the first step.
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.betas = (beta1, beta2);
        self
    }

    /// `eps=`; takes effect if set before the first step.
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// `weight_decay=` (L2 penalty); takes effect if set before the first step.
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// `amsgrad=`; takes effect if set before the first step.
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }

    fn inner(&mut self) -> Result<&mut COptimizer> {
        let (lr, (b1, b2), wd, eps, ams) = (
            self.lr,
            self.betas,
            self.weight_decay,
            self.eps,
            self.amsgrad,
        );
        self.state
            .get(|| Ok(COptimizer::adam(lr, b1, b2, wd, eps, ams)?))
    }
}

impl Optimizer for Adam {
    fn zero_grad(&mut self) -> Result<()> {
        if self.is_fused() {
            set_grads_to_none(&self.state.params)
        } else {
            Ok(self.inner()?.zero_grad()?)
        }
    }
    fn step(&mut self) -> Result<()> {
        if self.is_fused() {
            self.fused_step()
        } else {
            Ok(self.inner()?.step()?)
        }
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    /// The fused step keeps its step counts on the parameters' device, as
    /// `Adam(fused=True)` does, so on a GPU it is capturable.
    fn capturable(&self) -> bool {
        self.is_fused() && self.state.params.iter().all(|p| p.device().is_cuda())
    }
}

/// `torch.optim.SGD` with PyTorch's defaults: momentum 0, dampening 0,
/// weight_decay 0, nesterov off.
#[derive(Debug)]
pub struct Sgd {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    state: Lazy,
}

impl Sgd {
    /// `SGD(params, lr=lr)`; pass `model.parameters()`.
    pub fn new(params: Vec<Tensor>, lr: f64) -> Sgd {
        Sgd {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            state: Lazy {
                params,
                inner: None,
            },
        }
    }

    /// `momentum=`; takes effect if set before the first step.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// `dampening=`; takes effect if set before the first step.
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.dampening = dampening;
        self
    }

    /// `weight_decay=`; takes effect if set before the first step.
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// `nesterov=`; takes effect if set before the first step.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    fn inner(&mut self) -> Result<&mut COptimizer> {
        let (lr, m, d, wd, n) = (
            self.lr,
            self.momentum,
            self.dampening,
            self.weight_decay,
            self.nesterov,
        );
        self.state.get(|| Ok(COptimizer::sgd(lr, m, d, wd, n)?))
    }
}

impl Optimizer for Sgd {
    fn zero_grad(&mut self) -> Result<()> {
        Ok(self.inner()?.zero_grad()?)
    }
    fn step(&mut self) -> Result<()> {
        Ok(self.inner()?.step()?)
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn adam_matches_pytorch_on_a_parabola() {
        // torch.optim.Adam([w], lr=0.1), w = 1, loss w², three steps:
        // PyTorch 2.11 gives 0.7015863060951233.
        let w = Tensor::from_slice(&[1.0f32]).set_requires_grad(true);
        let mut opt = Adam::new(vec![w.shallow_clone()], 0.1);
        for _ in 0..3 {
            opt.zero_grad().unwrap();
            (&w * &w).sum(Kind::Float).backward();
            opt.step().unwrap();
        }
        let got = w.double_value(&[0]);
        assert!((got - 0.7015863060951233).abs() < 1e-6, "{got}");
    }

    #[test]
    fn sgd_step_is_lr_times_gradient() {
        let w = Tensor::from_slice(&[2.0f32]).set_requires_grad(true);
        let mut opt = Sgd::new(vec![w.shallow_clone()], 0.1);
        opt.zero_grad().unwrap();
        (&w * &w).sum(Kind::Float).backward(); // gradient 2w = 4
        opt.step().unwrap();
        assert!((w.double_value(&[0]) - 1.6).abs() < 1e-6);
    }
}
