//! `nn.Dropout` (its training-mode mask is a speed-up: see
//! [`speedups`](crate::nn::speedups)).

use tch::Tensor;

use super::assert_valid;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;
use crate::nn::speedups::dropout_mask;
use crate::pyfmt::py_float;

/// `nn.Dropout(p=0.5)`: in training mode zeroes each element with
/// probability `p` and scales the rest by `1/(1-p)`; the identity in eval mode.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Dropout::new(0.3).to_string(), "Dropout(p=0.3, inplace=False)");
/// ```
pub struct Dropout {
    p: f64,
    hooks: ForwardHooks,
}

impl Dropout {
    /// Dropout with probability `p` (PyTorch's default is 0.5: [`Dropout::default`]).
    pub fn new(p: f64) -> Dropout {
        Dropout {
            p,
            hooks: ForwardHooks::default(),
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl Default for Dropout {
    fn default() -> Self {
        Dropout::new(0.5)
    }
}

impl Module for Dropout {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            if train {
                dropout_mask::dropout_train(xs, self.p)
            } else {
                xs.shallow_clone()
            }
        })
    }

    fn type_name(&self) -> String {
        "Dropout".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("p={}, inplace=False", py_float(self.p))
    }

    fn config_error(&self) -> Option<String> {
        (!(0.0..=1.0).contains(&self.p)).then(|| {
            format!(
                "dropout probability has to be between 0 and 1, but got {}",
                py_float(self.p)
            )
        })
    }
}
