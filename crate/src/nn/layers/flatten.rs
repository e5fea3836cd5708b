//! `nn.Flatten` and `nn.Unflatten`.

use tch::Tensor;

use super::conv_core::py_tuple;
use crate::nn::args::IntoShape;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;

/// `nn.Flatten(start_dim=1, end_dim=-1)`: `[N, C, H, W]` → `[N, C*H*W]`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Flatten::new().to_string(), "Flatten(start_dim=1, end_dim=-1)");
/// ```
pub struct Flatten {
    start_dim: i64,
    end_dim: i64,
    hooks: ForwardHooks,
}

impl Flatten {
    /// Flattens every dimension after the batch dimension.
    pub fn new() -> Flatten {
        Flatten {
            start_dim: 1,
            end_dim: -1,
            hooks: ForwardHooks::default(),
        }
    }

    /// `start_dim` (default 1).
    pub fn start_dim(mut self, dim: i64) -> Self {
        self.start_dim = dim;
        self
    }

    /// `end_dim` (default -1).
    pub fn end_dim(mut self, dim: i64) -> Self {
        self.end_dim = dim;
        self
    }
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten::new()
    }
}

impl Module for Flatten {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || xs.flatten(self.start_dim, self.end_dim))
    }

    fn type_name(&self) -> String {
        "Flatten".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("start_dim={}, end_dim={}", self.start_dim, self.end_dim)
    }
}

/// `nn.Unflatten(dim, unflattened_size)`: splits dimension `dim` into
/// `unflattened_size` (one entry may be -1), e.g. `[N, 784]` → `[N, 1, 28, 28]`.
///
/// ```
/// use cnn_lab::*;
/// let unflatten = Unflatten::new(1, [1, 28, 28]);
/// assert_eq!(unflatten.to_string(), "Unflatten(dim=1, unflattened_size=(1, 28, 28))");
/// let x = Tensor::zeros([4, 784], (Kind::Float, Device::Cpu));
/// assert_eq!(unflatten.forward_t(&x, false).size(), [4, 1, 28, 28]);
/// ```
pub struct Unflatten {
    dim: i64,
    unflattened_size: Vec<i64>,
    hooks: ForwardHooks,
}

impl Unflatten {
    /// Splits `dim` into `unflattened_size` (an int or a list).
    pub fn new(dim: i64, unflattened_size: impl IntoShape) -> Unflatten {
        Unflatten {
            dim,
            unflattened_size: unflattened_size.into_shape(),
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for Unflatten {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            xs.unflatten(self.dim, self.unflattened_size.as_slice())
        })
    }

    fn type_name(&self) -> String {
        "Unflatten".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "dim={}, unflattened_size={}",
            self.dim,
            py_tuple(&self.unflattened_size)
        )
    }
}

layer_traits!(Flatten, Unflatten);
