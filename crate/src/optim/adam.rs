//! `torch.optim.Adam`: libtorch's C++ implementation or the fused step.

use tch::{COptimizer, Kind, Tensor};

use super::{empty_parameter_list, HyperValue, Lazy, Optimizer, OptimizerState};
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
/// Built on an empty parameter list, its first `zero_grad` or `step` is an
/// error saying so (PyTorch's `optimizer got an empty parameter list`).
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

    fn check_not_empty(&self) -> Result<()> {
        if self.state.params.is_empty() {
            return Err(empty_parameter_list("Adam"));
        }
        Ok(())
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
        self.check_not_empty()?;
        if self.is_fused() {
            set_grads_to_none(&self.state.params)
        } else {
            Ok(self.inner()?.zero_grad()?)
        }
    }
    fn step(&mut self) -> Result<()> {
        self.check_not_empty()?;
        if self.is_fused() {
            self.fused_step()
        } else {
            Ok(self.inner()?.step()?)
        }
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.lr = lr;
        if let Some(inner) = &mut self.state.inner {
            inner.set_learning_rate(lr)?;
        }
        Ok(())
    }
    fn momentum(&self) -> Option<f64> {
        Some(self.betas.0)
    }
    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        self.betas.0 = momentum;
        if let Some(inner) = &mut self.state.inner {
            inner.set_momentum(momentum)?;
        }
        Ok(())
    }
    /// The fused step keeps its step counts on the parameters' device, as
    /// `Adam(fused=True)` does, so on a GPU it is capturable.
    fn capturable(&self) -> bool {
        self.is_fused() && self.state.params.iter().all(|p| p.device().is_cuda())
    }
    fn keep_state_readable(&mut self) -> Result<()> {
        if self.state.inner.is_some() {
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
        if self.state.inner.is_some() {
            return Err(Error::InvalidArgument(
                "Adam: libtorch's C++ Adam keeps its moments where they cannot be read; \
                 use Adam::new(…).fused(true) to save its state"
                    .into(),
            ));
        }
        let group = vec![
            ("lr".into(), HyperValue::Float(self.lr)),
            ("betas".into(), HyperValue::Pair(self.betas.0, self.betas.1)),
            ("eps".into(), HyperValue::Float(self.eps)),
            ("weight_decay".into(), HyperValue::Float(self.weight_decay)),
            ("amsgrad".into(), HyperValue::Bool(self.amsgrad)),
            ("maximize".into(), HyperValue::Bool(false)),
            ("foreach".into(), HyperValue::None),
            ("capturable".into(), HyperValue::Bool(false)),
            ("differentiable".into(), HyperValue::Bool(false)),
            ("fused".into(), HyperValue::Bool(true)),
            ("decoupled_weight_decay".into(), HyperValue::Bool(false)),
        ];
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
            group,
            state,
            num_params: self.state.params.len(),
        })
    }
    fn load_state(&mut self, saved: &OptimizerState) -> Result<()> {
        let n = self.state.params.len();
        if saved.num_params != n {
            return Err(Error::InvalidArgument(format!(
                "Adam: the saved state is for {} parameters, this optimizer has {n}",
                saved.num_params
            )));
        }
        if self.state.inner.is_some() {
            return Err(Error::InvalidArgument(
                "Adam: cannot load a state into an Adam that already stepped with libtorch's C++ \
                 implementation; load it before the first step"
                    .into(),
            ));
        }
        if let Some(lr) = saved.float("lr") {
            self.lr = lr;
        }
        if let Some((_, HyperValue::Pair(b1, b2))) = saved.group.iter().find(|(k, _)| k == "betas")
        {
            self.betas = (*b1, *b2);
        }
        self.fused = Some(true);
        let mut fresh = FusedState::new(&self.state.params, self.amsgrad);
        let _guard = tch::no_grad_guard();
        for (i, tensors) in &saved.state {
            let param = self.state.params.get(*i).ok_or_else(|| {
                Error::InvalidArgument(format!("Adam: saved state for parameter {i} of {n}"))
            })?;
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
                let dst = match *name {
                    "step" => &mut fresh.steps[*i],
                    "exp_avg" => &mut fresh.exp_avgs[*i],
                    "exp_avg_sq" => &mut fresh.exp_avg_sqs[*i],
                    _ => &mut fresh.max_exp_avg_sqs[*i],
                };
                if *name != "step" && src.size() != param.size() {
                    return Err(Error::Shape(format!(
                        "Adam: saved {name} of parameter {i} has shape {:?}, the parameter {:?}",
                        src.size(),
                        param.size()
                    )));
                }
                dst.f_copy_(
                    &src.f_to_kind(dst.kind())?
                        .f_to_device(dst.device())?
                        .f_reshape(dst.size())?,
                )?;
            }
        }
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
        let mut opt = Adam::new(vec![], 0.1).fused(true);
        let err = opt.step().unwrap_err().to_string();
        assert!(err.contains("empty parameter list"), "{err}");
        assert!(Adam::new(vec![], 0.1).zero_grad().is_err());
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
