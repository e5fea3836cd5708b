//! `torch.optim.Adam`: libtorch's C++ implementation or the fused step.

use tch::{COptimizer, Kind, Tensor};

use super::groups::{Groups, ParamGroups};
use super::{restored, GroupState, HyperValue, Optimizer, OptimizerState};
use crate::error::{Error, Result};
use crate::ops::{fused_adam_, set_grads_to_none, AdamHyper, AdamTensors};

/// `torch.optim.Adam` with PyTorch's defaults: betas (0.9, 0.999),
/// eps 1e-8, weight_decay 0, amsgrad off.
///
/// Two implementations, as in PyTorch: libtorch's C++ `torch::optim::Adam`
/// (a few kernels per parameter tensor) and the fused step of
/// `Adam(fused=True)` (libtorch's `_fused_adam_`: all tensors at once).
/// [`Adam::fused`] chooses; by default the fused one is used when the
/// parameters are on a GPU, where one kernel launch per operation per
/// tensor is what a training step waits for, and the C++ one on the CPU
/// (unless `fit` is to save a training checkpoint: the C++ one's moments
/// cannot be read, so it then takes the fused one, as fast on the CPU).
///
/// `params` is `model.parameters()` or a list of
/// [`ParamGroup`](crate::ParamGroup)s, each with its own `lr` or
/// `weight_decay` (PyTorch's `Adam([{"params": body, "lr": 1e-4}, {"params": head}], lr=1e-3)`).
/// A parameter without a gradient (frozen, or unused) is skipped.
///
/// Built on an empty parameter list, its first `zero_grad` or `step` is an
/// error saying so (PyTorch's `optimizer got an empty parameter list`).
///
/// ```
/// use cnn_lab::{Adam, Linear, ModuleExt, Optimizer, ParamGroup};
/// let (body, head) = (Linear::new(4, 8), Linear::new(8, 2));
/// let optimizer = Adam::new(
///     vec![ParamGroup::new(body.parameters()).lr(1e-4), ParamGroup::new(head.parameters())],
///     1e-3,
/// )
/// .weight_decay(1e-5);
/// assert_eq!(optimizer.learning_rates(), [1e-4, 1e-3]);
/// ```
#[derive(Debug)]
pub struct Adam {
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    fused: Option<bool>,
    groups: Groups,
    /// libtorch's C++ Adam, built at the first step when not fused.
    inner: Option<CppAdam>,
    fused_state: Option<FusedState>,
}

/// libtorch's `torch::optim::Adam` (its state cannot be read through tch).
struct CppAdam(COptimizer);

impl std::fmt::Debug for CppAdam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("libtorch Adam")
    }
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
    fn new(params: &[&Tensor], amsgrad: bool) -> FusedState {
        let _guard = tch::no_grad_guard();
        let zeros = || params.iter().map(|p| p.zeros_like()).collect::<Vec<_>>();
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
    /// `Adam(params, lr=lr)`; pass `model.parameters()` or parameter groups.
    pub fn new(params: impl Into<ParamGroups>, lr: f64) -> Adam {
        Adam {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            fused: None,
            groups: Groups(params.into().0),
            inner: None,
            fused_state: None,
        }
    }

    fn params(&self) -> Vec<&Tensor> {
        self.groups.flat().map(|(_, p)| p).collect()
    }

    /// Group `g`'s `(lr, weight_decay)`.
    fn hyper(&self, g: usize) -> (f64, f64) {
        let group = &self.groups.0[g];
        (
            group.lr.unwrap_or(self.lr),
            group.weight_decay.unwrap_or(self.weight_decay),
        )
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
        match (&self.inner, &self.fused_state) {
            (Some(_), _) => false,
            (_, Some(_)) => true,
            _ => self.fused.unwrap_or_else(|| {
                self.groups
                    .flat()
                    .next()
                    .is_some_and(|(_, p)| p.device().is_cuda())
            }),
        }
    }

    fn fused_step(&mut self) -> Result<()> {
        if self.fused_state.is_none() {
            self.fused_state = Some(FusedState::new(&self.params(), self.amsgrad));
        }
        let state = self.fused_state.as_ref().expect("made above");
        // One fused call per group, with the group's rate; like PyTorch, a
        // parameter without a gradient is left alone.
        let mut i = 0;
        for g in 0..self.groups.0.len() {
            let mut picked: [Vec<Tensor>; 6] = Default::default();
            for p in &self.groups.0[g].params {
                let grad = p.grad();
                if grad.defined() {
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
                i += 1;
            }
            let [params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps] = &picked;
            if params.is_empty() {
                continue;
            }
            let (lr, weight_decay) = self.hyper(g);
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
                    lr,
                    betas: self.betas,
                    eps: self.eps,
                    weight_decay,
                    amsgrad: self.amsgrad,
                },
            )?;
        }
        Ok(())
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

    /// libtorch's C++ Adam, with one of its parameter groups per group.
    fn inner(&mut self) -> Result<&mut COptimizer> {
        if self.inner.is_none() {
            let (b1, b2) = self.betas;
            let mut opt =
                COptimizer::adam(self.lr, b1, b2, self.weight_decay, self.eps, self.amsgrad)?;
            for (g, p) in self.groups.flat() {
                opt.add_parameters(p, g)?;
            }
            for g in 0..self.groups.0.len() {
                if self.groups.0[g].params.is_empty() {
                    continue;
                }
                let (lr, weight_decay) = self.hyper(g);
                opt.set_learning_rate_group(g, lr)?;
                opt.set_weight_decay_group(g, weight_decay)?;
            }
            self.inner = Some(CppAdam(opt));
        }
        Ok(&mut self.inner.as_mut().expect("built above").0)
    }

    fn group_state(&self, g: usize) -> GroupState {
        let (lr, weight_decay) = self.hyper(g);
        let offset = self.groups.offset(g);
        GroupState {
            hyper: vec![
                ("lr".into(), HyperValue::Float(lr)),
                ("betas".into(), HyperValue::Pair(self.betas.0, self.betas.1)),
                ("eps".into(), HyperValue::Float(self.eps)),
                ("weight_decay".into(), HyperValue::Float(weight_decay)),
                ("amsgrad".into(), HyperValue::Bool(self.amsgrad)),
                ("maximize".into(), HyperValue::Bool(false)),
                ("foreach".into(), HyperValue::None),
                ("capturable".into(), HyperValue::Bool(false)),
                ("differentiable".into(), HyperValue::Bool(false)),
                ("fused".into(), HyperValue::Bool(true)),
                ("decoupled_weight_decay".into(), HyperValue::Bool(false)),
            ],
            params: (offset..offset + self.groups.0[g].params.len()).collect(),
        }
    }

    /// The state names of one parameter, in PyTorch's order.
    fn state_names(&self) -> &'static [&'static str] {
        if self.amsgrad {
            &["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["step", "exp_avg", "exp_avg_sq"]
        }
    }
}

impl Optimizer for Adam {
    fn zero_grad(&mut self) -> Result<()> {
        self.groups.check_not_empty("Adam")?;
        if self.is_fused() {
            let params: Vec<Tensor> = self
                .params()
                .into_iter()
                .map(|p| p.shallow_clone())
                .collect();
            set_grads_to_none(&params)
        } else {
            Ok(self.inner()?.zero_grad()?)
        }
    }
    fn step(&mut self) -> Result<()> {
        self.groups.check_not_empty("Adam")?;
        if self.is_fused() {
            self.fused_step()
        } else {
            Ok(self.inner()?.step()?)
        }
    }
    fn learning_rate(&self) -> f64 {
        self.groups.0.first().and_then(|g| g.lr).unwrap_or(self.lr)
    }
    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.lr = lr;
        for g in 0..self.groups.0.len() {
            self.set_group_learning_rate(g, lr)?;
        }
        Ok(())
    }
    fn learning_rates(&self) -> Vec<f64> {
        (0..self.groups.0.len()).map(|g| self.hyper(g).0).collect()
    }
    fn set_group_learning_rate(&mut self, group: usize, lr: f64) -> Result<()> {
        self.groups.check_group("Adam", group)?;
        self.groups.0[group].lr = Some(lr);
        if let (Some(inner), false) = (&mut self.inner, self.groups.0[group].params.is_empty()) {
            inner.0.set_learning_rate_group(group, lr)?;
        }
        Ok(())
    }
    fn momentum(&self) -> Option<f64> {
        Some(self.betas.0)
    }
    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        self.betas.0 = momentum;
        if let Some(inner) = &mut self.inner {
            inner.0.set_momentum(momentum)?;
        }
        Ok(())
    }
    /// The fused step keeps its step counts on the parameters' device, as
    /// `Adam(fused=True)` does, so on a GPU it is capturable.
    fn capturable(&self) -> bool {
        self.is_fused() && self.groups.flat().all(|(_, p)| p.device().is_cuda())
    }
    fn keep_state_readable(&mut self) -> Result<()> {
        if self.inner.is_some() {
            return Err(Error::InvalidArgument(
                "Adam: this optimizer has already stepped with libtorch's C++ Adam, whose moments \
                 cannot be read for a training checkpoint; build it with Adam::new(…).fused(true)"
                    .into(),
            ));
        }
        if self.fused_state.is_none() {
            self.fused = Some(true);
        }
        Ok(())
    }
    fn state(&self) -> Result<OptimizerState> {
        if self.inner.is_some() {
            return Err(Error::InvalidArgument(
                "Adam: libtorch's C++ Adam keeps its moments where they cannot be read; \
                 use Adam::new(…).fused(true) to save its state"
                    .into(),
            ));
        }
        let mut state = Vec::new();
        if let Some(s) = &self.fused_state {
            let _guard = tch::no_grad_guard();
            for i in 0..s.steps.len() {
                // A parameter that never had a gradient has no state in PyTorch.
                if s.steps[i].double_value(&[]) == 0.0 {
                    continue;
                }
                let mut tensors = vec![
                    ("step".to_string(), s.steps[i].copy()),
                    ("exp_avg".to_string(), s.exp_avgs[i].copy()),
                    ("exp_avg_sq".to_string(), s.exp_avg_sqs[i].copy()),
                ];
                if self.amsgrad {
                    tensors.push(("max_exp_avg_sq".into(), s.max_exp_avg_sqs[i].copy()));
                }
                state.push((i, tensors));
            }
        }
        Ok(OptimizerState {
            param_groups: (0..self.groups.0.len())
                .map(|g| self.group_state(g))
                .collect(),
            state,
        })
    }
    fn load_state(&mut self, saved: &OptimizerState) -> Result<()> {
        let sizes: Vec<usize> = self.groups.0.iter().map(|g| g.params.len()).collect();
        saved.check_layout("Adam", &sizes)?;
        if self.inner.is_some() {
            return Err(Error::InvalidArgument(
                "Adam: cannot load a state into an Adam that already stepped with libtorch's C++ \
                 implementation; load it before the first step"
                    .into(),
            ));
        }
        let params = self.params();
        let mut fresh = FusedState::new(&params, self.amsgrad);
        for (i, param) in params.iter().enumerate() {
            let Some(tensors) = saved.tensors_of(i) else {
                continue;
            };
            for name in self.state_names() {
                let src = tensors
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, t)| t)
                    .ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "Adam: the saved state of parameter {i} has no {name}"
                        ))
                    })?;
                let value = if *name == "step" {
                    // PyTorch keeps it as a 0-d float32 tensor.
                    let like = &fresh.steps[i];
                    restored("Adam", name, i, &src.f_reshape(like.size())?, like)?
                } else {
                    restored("Adam", name, i, src, param)?
                };
                match *name {
                    "step" => fresh.steps[i] = value,
                    "exp_avg" => fresh.exp_avgs[i] = value,
                    "exp_avg_sq" => fresh.exp_avg_sqs[i] = value,
                    _ => fresh.max_exp_avg_sqs[i] = value,
                }
            }
        }
        for (g, group) in saved.param_groups.iter().enumerate() {
            if let Some(lr) = group.float("lr") {
                self.groups.0[g].lr = Some(lr);
            }
            if let Some(wd) = group.float("weight_decay") {
                self.groups.0[g].weight_decay = Some(wd);
            }
            if let Some((_, HyperValue::Pair(b1, b2))) =
                group.hyper.iter().find(|(k, _)| k == "betas")
            {
                self.betas = (*b1, *b2);
            }
        }
        if let Some(lr) = saved.float("lr") {
            self.lr = lr;
        }
        self.fused = Some(true);
        self.fused_state = Some(fresh);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn an_empty_parameter_list_is_an_error() {
        let mut opt = Adam::new(Vec::<Tensor>::new(), 0.1).fused(true);
        let err = opt.step().unwrap_err().to_string();
        assert!(err.contains("empty parameter list"), "{err}");
        assert!(Adam::new(Vec::<Tensor>::new(), 0.1).zero_grad().is_err());
    }

    #[test]
    fn a_saved_state_resumes_the_same_steps() {
        let run = |split: Option<usize>| {
            let w = Tensor::from_slice(&[1.0f32, -2.0]).set_requires_grad(true);
            let mut opt = Adam::new(vec![w.shallow_clone()], 0.1).fused(true);
            for k in 0..6 {
                if Some(k) == split {
                    let saved = opt.state().unwrap();
                    opt = Adam::new(vec![w.shallow_clone()], 0.5);
                    opt.load_state(&saved).unwrap();
                }
                opt.zero_grad().unwrap();
                (&w * &w * &w).abs().sum(Kind::Float).backward();
                opt.step().unwrap();
            }
            Vec::<f32>::try_from(&w.detach()).unwrap()
        };
        assert_eq!(run(None), run(Some(3)));
    }
}
