//! Short spellings a notebook uses all the time, as PyTorch spells them:
//! `FLOAT_CPU` for `(Kind::Float, Device::Cpu)` (tch's own constant) and
//! `.item()` for a one-element tensor's value.

use tch::Tensor;

pub use tch::kind::{FLOAT_CPU, INT64_CPU};

/// PyTorch's `tensor.item()`.
pub trait Item {
    /// The value of a one-element tensor, as `f64` (`loss.item()`).
    /// Panics, as PyTorch raises, for a tensor of more than one element.
    ///
    /// ```
    /// use cnn_lab::*;
    /// let x = Tensor::ones([2, 3], FLOAT_CPU);
    /// assert_eq!(x.sum(Kind::Float).item(), 6.0);
    /// ```
    fn item(&self) -> f64;
}

impl Item for Tensor {
    fn item(&self) -> f64 {
        let n = self.numel();
        assert!(
            n == 1,
            "a Tensor with {n} elements cannot be converted to Scalar (shape {:?})",
            self.size()
        );
        self.reshape([1]).double_value(&[0])
    }
}
