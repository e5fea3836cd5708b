//! `nn.Flatten`.

use tch::Tensor;

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
