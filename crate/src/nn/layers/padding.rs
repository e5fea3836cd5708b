//! `nn.ZeroPad2d` (`torch/nn/modules/padding.py`).

use tch::Tensor;

use super::assert_valid;
use crate::nn::args::IntoShape;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;

/// `nn.ZeroPad2d(padding)`: zeros around the last two dimensions;
/// `padding` is an int (every side) or `[left, right, top, bottom]`.
/// Negative amounts crop, as in PyTorch.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(ZeroPad2d::new(1).to_string(), "ZeroPad2d((1, 1, 1, 1))");
/// let pad = ZeroPad2d::new([1, 2, 3, 4]);
/// assert_eq!(pad.to_string(), "ZeroPad2d((1, 2, 3, 4))");
/// let x = Tensor::ones([1, 1, 2, 2], (Kind::Float, Device::Cpu));
/// assert_eq!(pad.forward_t(&x, false).size(), [1, 1, 9, 5]);
/// ```
pub struct ZeroPad2d {
    padding: Vec<i64>,
    hooks: ForwardHooks,
}

impl ZeroPad2d {
    /// Zero padding by `padding` (an int or `[left, right, top, bottom]`).
    pub fn new(padding: impl IntoShape) -> ZeroPad2d {
        let mut padding = padding.into_shape();
        if let [p] = padding[..] {
            padding = vec![p; 4];
        }
        ZeroPad2d {
            padding,
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for ZeroPad2d {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.constant_pad_nd(self.padding.as_slice())
        })
    }

    fn type_name(&self) -> String {
        "ZeroPad2d".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        let p: Vec<String> = self.padding.iter().map(i64::to_string).collect();
        format!("({})", p.join(", "))
    }

    fn config_error(&self) -> Option<String> {
        (self.padding.len() != 4).then(|| {
            format!(
                "padding must be an int or 4 values (left, right, top, bottom), got {:?}",
                self.padding
            )
        })
    }
}

layer_traits!(ZeroPad2d);
