//! `torch.optim.SGD`, over libtorch's C++ implementation.

use tch::{COptimizer, Tensor};

use super::{empty_parameter_list, HyperValue, Lazy, Optimizer, OptimizerState};
use crate::error::{Error, Result};

/// `torch.optim.SGD` with PyTorch's defaults: momentum 0, dampening 0,
/// weight_decay 0, nesterov off.
#[derive(Debug)]
pub struct Sgd {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    steps: usize,
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
            steps: 0,
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

    fn check_not_empty(&self) -> Result<()> {
        if self.state.params.is_empty() {
            return Err(empty_parameter_list("SGD"));
        }
        Ok(())
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
        self.check_not_empty()?;
        Ok(self.inner()?.zero_grad()?)
    }
    fn step(&mut self) -> Result<()> {
        self.check_not_empty()?;
        self.steps += 1;
        Ok(self.inner()?.step()?)
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
        Some(self.momentum)
    }
    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        self.momentum = momentum;
        if let Some(inner) = &mut self.state.inner {
            inner.set_momentum(momentum)?;
        }
        Ok(())
    }
    /// Plain SGD has no state; with momentum, libtorch's C++ SGD keeps its
    /// buffers where they cannot be read, so only a state before the first
    /// step can be saved.
    fn state(&self) -> Result<OptimizerState> {
        if self.momentum != 0.0 && self.steps > 0 {
            return Err(Error::InvalidArgument(
                "SGD: libtorch's C++ SGD keeps its momentum buffers where they cannot be read; \
                 a training checkpoint needs SGD without momentum, or Adam"
                    .into(),
            ));
        }
        Ok(OptimizerState {
            group: vec![
                ("lr".into(), HyperValue::Float(self.lr)),
                ("momentum".into(), HyperValue::Float(self.momentum)),
                ("dampening".into(), HyperValue::Float(self.dampening)),
                ("weight_decay".into(), HyperValue::Float(self.weight_decay)),
                ("nesterov".into(), HyperValue::Bool(self.nesterov)),
                ("maximize".into(), HyperValue::Bool(false)),
                ("foreach".into(), HyperValue::None),
                ("differentiable".into(), HyperValue::Bool(false)),
                ("fused".into(), HyperValue::None),
            ],
            state: Vec::new(),
            num_params: self.state.params.len(),
        })
    }
    fn load_state(&mut self, saved: &OptimizerState) -> Result<()> {
        if saved.num_params != self.state.params.len() || !saved.state.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "SGD: the saved state ({} parameters, {} with momentum buffers) does not fit \
                 this optimizer ({} parameters, buffers cannot be loaded)",
                saved.num_params,
                saved.state.len(),
                self.state.params.len()
            )));
        }
        if let Some(lr) = saved.float("lr") {
            self.set_learning_rate(lr)?;
        }
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
        let mut opt = Sgd::new(vec![w.shallow_clone()], 0.1);
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
        let err = Sgd::new(vec![], 0.1).step().unwrap_err().to_string();
        assert!(
            err.contains("SGD: optimizer got an empty parameter list"),
            "{err}"
        );
    }
}
