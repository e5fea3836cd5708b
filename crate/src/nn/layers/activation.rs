//! `nn.ReLU`.

use tch::Tensor;

use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;

/// `nn.ReLU()`: `max(x, 0)` elementwise.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(ReLU::new().to_string(), "ReLU()");
/// ```
#[derive(Default)]
pub struct ReLU {
    // Also keeps the type from being zero-sized: `summary` tells layers
    // apart by address, and every boxed zero-sized value shares one.
    hooks: ForwardHooks,
}

impl ReLU {
    /// The activation.
    pub fn new() -> ReLU {
        ReLU::default()
    }
}

impl Module for ReLU {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || xs.relu())
    }

    fn type_name(&self) -> String {
        "ReLU".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }
}
