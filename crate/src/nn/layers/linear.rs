//! `nn.Linear` and `nn.Identity`.

use tch::Tensor;

use super::{assert_valid, param, uniform_param};
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::{Module, NamedTensor};
use crate::pyfmt::py_bool;

/// `nn.Linear(in_features, out_features, bias=True)`: `x Wᵀ + b` with
/// `weight` `[out, in]` and `bias` `[out]`, both `U(±1/sqrt(in_features))`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Linear::new(2048, 256).to_string(), "Linear(in_features=2048, out_features=256, bias=True)");
/// ```
pub struct Linear {
    in_features: i64,
    out_features: i64,
    weight: Tensor,
    bias: Option<Tensor>,
    hooks: ForwardHooks,
}

impl Linear {
    /// A fully connected layer with a bias.
    pub fn new(in_features: i64, out_features: i64) -> Linear {
        Linear {
            in_features,
            out_features,
            weight: uniform_param(&[out_features.max(0), in_features.max(0)], in_features),
            bias: Some(uniform_param(&[out_features.max(0)], in_features)),
            hooks: ForwardHooks::default(),
        }
    }

    /// `bias` (default `true`).
    pub fn bias(mut self, bias: bool) -> Self {
        if bias != self.bias.is_some() {
            self.bias = bias.then(|| uniform_param(&[self.out_features.max(0)], self.in_features));
        }
        self
    }

    /// The weight, `[out_features, in_features]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

impl Module for Linear {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.linear(&self.weight, self.bias.as_ref())
        })
    }

    fn type_name(&self) -> String {
        "Linear".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "in_features={}, out_features={}, bias={}",
            self.in_features,
            self.out_features,
            py_bool(self.bias.is_some())
        )
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        let mut out = vec![param("weight", &self.weight)];
        out.extend(self.bias.iter().map(|b| param("bias", b)));
        out
    }

    fn config_error(&self) -> Option<String> {
        (self.in_features <= 0 || self.out_features <= 0).then(|| {
            format!(
                "in_features and out_features must be positive, got {} and {}",
                self.in_features, self.out_features
            )
        })
    }
}

layer_traits!(Linear);

simple_layer!(
    /// `nn.Identity()`: returns its input (a placeholder, e.g. for a head
    /// removed from a model).
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(Identity::new().to_string(), "Identity()");
    /// let x = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
    /// assert_eq!(Identity::new().forward_t(&x, true).size(), [2, 3]);
    /// ```
    Identity,
    |xs| xs.shallow_clone()
);
