//! `torch.optim.SGD`, its step written over tensors cnn_lab holds
//! (PyTorch's `_single_tensor_sgd`), so that the momentum buffers can be
//! saved in a training checkpoint and loaded back.

use tch::Tensor;

use super::groups::{Groups, ParamGroups};
use super::{restored, GroupState, HyperValue, Optimizer, OptimizerState};
use crate::error::{Error, Result};
use crate::ops::set_grads_to_none;

/// `torch.optim.SGD(params, lr, momentum=0, dampening=0, weight_decay=0,
/// nesterov=False)`, with PyTorch's defaults; the optional arguments are
/// builder methods. `params` is `model.parameters()` or a list of
/// [`ParamGroup`](crate::ParamGroup)s, each with its own `lr`, `momentum`
/// or `weight_decay`.
///
/// The step is PyTorch's (`_single_tensor_sgd`, what PyTorch runs on the
/// CPU): weight decay added to the gradient, the momentum buffer started
/// from the first gradient then `buf = momentum·buf + (1 − dampening)·grad`,
/// Nesterov's look-ahead, `param -= lr·update`. A parameter without a
/// gradient is skipped. The buffers are the optimizer's own tensors, so
/// [`Optimizer::state`] saves them (PyTorch's `momentum_buffer`) and a
/// resumed run goes on as the uninterrupted one.
///
/// ```
/// use cnn_lab::{Linear, ModuleExt, Optimizer, SGD};
/// let model = Linear::new(4, 2);
/// let mut optimizer = SGD::new(model.parameters(), 0.01)
///     .momentum(0.9)
///     .nesterov(true)
///     .weight_decay(5e-4);
/// // The builder method is `momentum(0.9)`; the trait's getter is `Optimizer::momentum`.
/// assert_eq!(Optimizer::momentum(&optimizer), Some(0.9));
/// # let _ = optimizer.step();
/// ```
#[derive(Debug)]
#[allow(clippy::upper_case_acronyms)]
pub struct SGD {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    groups: Groups,
    /// Per flat parameter index: its momentum buffer once it has one.
    buffers: Vec<Option<Tensor>>,
}

/// The name the crate first gave [`SGD`]; the same type.
pub type Sgd = SGD;

/// One group's settings, resolved against the defaults.
struct Hyper {
    lr: f64,
    momentum: f64,
    weight_decay: f64,
}

impl SGD {
    /// `SGD(params, lr=lr)`; pass `model.parameters()` or parameter groups.
    pub fn new(params: impl Into<ParamGroups>, lr: f64) -> SGD {
        let groups = Groups(params.into().0);
        let n = groups.num_params();
        SGD {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            groups,
            buffers: (0..n).map(|_| None).collect(),
        }
    }

    /// `momentum=` (default 0), for the groups that do not set their own.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// `dampening=` (default 0).
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.dampening = dampening;
        self
    }

    /// `weight_decay=` (L2 penalty, default 0), for the groups that do not
    /// set their own.
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// `nesterov=` (default false; needs a momentum and no dampening).
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    fn hyper(&self, g: usize) -> Hyper {
        let group = &self.groups.0[g];
        Hyper {
            lr: group.lr.unwrap_or(self.lr),
            momentum: group.momentum.unwrap_or(self.momentum),
            weight_decay: group.weight_decay.unwrap_or(self.weight_decay),
        }
    }

    fn check(&self) -> Result<()> {
        self.groups.check_not_empty("SGD")?;
        for g in 0..self.groups.0.len() {
            let h = self.hyper(g);
            if h.lr < 0.0 || h.momentum < 0.0 || h.weight_decay < 0.0 {
                return Err(Error::InvalidArgument(format!(
                    "SGD: group {g}: Invalid learning rate, momentum or weight_decay value: \
                     lr={}, momentum={}, weight_decay={}",
                    h.lr, h.momentum, h.weight_decay
                )));
            }
            if self.nesterov && (h.momentum <= 0.0 || self.dampening != 0.0) {
                return Err(Error::InvalidArgument(
                    "SGD: Nesterov momentum requires a momentum and zero dampening".into(),
                ));
            }
        }
        Ok(())
    }

    fn group_state(&self, g: usize) -> GroupState {
        let h = self.hyper(g);
        let offset = self.groups.offset(g);
        GroupState {
            hyper: vec![
                ("lr".into(), HyperValue::Float(h.lr)),
                ("momentum".into(), HyperValue::Float(h.momentum)),
                ("dampening".into(), HyperValue::Float(self.dampening)),
                ("weight_decay".into(), HyperValue::Float(h.weight_decay)),
                ("nesterov".into(), HyperValue::Bool(self.nesterov)),
                ("maximize".into(), HyperValue::Bool(false)),
                ("foreach".into(), HyperValue::None),
                ("differentiable".into(), HyperValue::Bool(false)),
                ("fused".into(), HyperValue::None),
            ],
            params: (offset..offset + self.groups.0[g].params.len()).collect(),
        }
    }
}

impl Optimizer for SGD {
    fn zero_grad(&mut self) -> Result<()> {
        self.groups.check_not_empty("SGD")?;
        let params: Vec<Tensor> = self.groups.flat().map(|(_, p)| p.shallow_clone()).collect();
        set_grads_to_none(&params)
    }

    fn step(&mut self) -> Result<()> {
        self.check()?;
        let _guard = tch::no_grad_guard();
        let (dampening, nesterov) = (self.dampening, self.nesterov);
        let hypers: Vec<Hyper> = (0..self.groups.0.len()).map(|g| self.hyper(g)).collect();
        for (i, (g, param)) in self.groups.flat().enumerate() {
            let grad = param.grad();
            if !grad.defined() {
                continue;
            }
            let h = &hypers[g];
            // grad.add(param, alpha=weight_decay)
            let mut d_p = if h.weight_decay != 0.0 {
                grad.f_add(&param.f_mul_scalar(h.weight_decay)?)?
            } else {
                grad
            };
            if h.momentum != 0.0 {
                let buf = match &self.buffers[i] {
                    None => {
                        let buf = d_p.f_detach_copy()?;
                        self.buffers[i] = Some(buf.shallow_clone());
                        buf
                    }
                    Some(buf) => {
                        let mut buf = buf.shallow_clone();
                        let _ = buf.f_mul_scalar_(h.momentum)?;
                        if dampening == 0.0 {
                            let _ = buf.f_add_(&d_p)?;
                        } else {
                            let _ = buf.f_add_(&d_p.f_mul_scalar(1.0 - dampening)?)?;
                        }
                        buf
                    }
                };
                d_p = if nesterov {
                    d_p.f_add(&buf.f_mul_scalar(h.momentum)?)?
                } else {
                    buf
                };
            }
            // param.add_(d_p, alpha=-lr)
            let _ = param.shallow_clone().f_sub_(&d_p.f_mul_scalar(h.lr)?)?;
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.groups.0.first().and_then(|g| g.lr).unwrap_or(self.lr)
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.lr = lr;
        for group in &mut self.groups.0 {
            group.lr = Some(lr);
        }
        Ok(())
    }

    fn learning_rates(&self) -> Vec<f64> {
        (0..self.groups.0.len()).map(|g| self.hyper(g).lr).collect()
    }

    fn set_group_learning_rate(&mut self, group: usize, lr: f64) -> Result<()> {
        self.groups.check_group("SGD", group)?;
        self.groups.0[group].lr = Some(lr);
        Ok(())
    }

    fn momentum(&self) -> Option<f64> {
        Some(if self.groups.0.is_empty() {
            self.momentum
        } else {
            self.hyper(0).momentum
        })
    }

    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        self.momentum = momentum;
        for group in &mut self.groups.0 {
            group.momentum = Some(momentum);
        }
        Ok(())
    }

    fn state(&self) -> Result<OptimizerState> {
        let state = self
            .buffers
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let b = b.as_ref()?;
                Some((i, vec![("momentum_buffer".to_string(), b.copy())]))
            })
            .collect();
        Ok(OptimizerState {
            param_groups: (0..self.groups.0.len())
                .map(|g| self.group_state(g))
                .collect(),
            state,
        })
    }

    fn load_state(&mut self, saved: &OptimizerState) -> Result<()> {
        let sizes: Vec<usize> = self.groups.0.iter().map(|g| g.params.len()).collect();
        saved.check_layout("SGD", &sizes)?;
        let mut buffers: Vec<Option<Tensor>> =
            (0..self.groups.num_params()).map(|_| None).collect();
        for (i, (_, param)) in self.groups.flat().enumerate() {
            let Some(tensors) = saved.tensors_of(i) else {
                continue;
            };
            if let Some((_, buf)) = tensors.iter().find(|(k, _)| k == "momentum_buffer") {
                buffers[i] = Some(restored("SGD", "momentum_buffer", i, buf, param)?);
            }
        }
        for (g, group) in saved.param_groups.iter().enumerate() {
            let mine = &mut self.groups.0[g];
            if let Some(lr) = group.float("lr") {
                mine.lr = Some(lr);
            }
            if let Some(m) = group.float("momentum") {
                mine.momentum = Some(m);
            }
            if let Some(wd) = group.float("weight_decay") {
                mine.weight_decay = Some(wd);
            }
        }
        self.buffers = buffers;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn sgd_step_is_lr_times_gradient() {
        let w = Tensor::from_slice(&[2.0f32]).set_requires_grad(true);
        let mut opt = SGD::new(vec![w.shallow_clone()], 0.1);
        opt.zero_grad().unwrap();
        (&w * &w).sum(Kind::Float).backward(); // gradient 2w = 4
        opt.step().unwrap();
        assert!((w.double_value(&[0]) - 1.6).abs() < 1e-6);
        opt.set_learning_rate(0.01).unwrap();
        opt.zero_grad().unwrap();
        (&w * &w).sum(Kind::Float).backward(); // gradient 3.2
        opt.step().unwrap();
        assert!((w.double_value(&[0]) - 1.568).abs() < 1e-6);
    }

    #[test]
    fn an_empty_parameter_list_is_an_error() {
        let err = Sgd::new(Vec::<Tensor>::new(), 0.1)
            .step()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SGD: optimizer got an empty parameter list"),
            "{err}"
        );
    }

    #[test]
    fn a_saved_state_resumes_the_same_steps() {
        let run = |split: Option<usize>| {
            let w = Tensor::from_slice(&[1.0f32, -2.0]).set_requires_grad(true);
            let make = || SGD::new(vec![w.shallow_clone()], 0.05).momentum(0.9);
            let mut opt = make();
            for k in 0..6 {
                if Some(k) == split {
                    let saved = opt.state().unwrap();
                    opt = make().nesterov(false);
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
