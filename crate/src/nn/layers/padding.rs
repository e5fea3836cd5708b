//! `nn.ZeroPad2d`, `nn.ConstantPad2d`, `nn.ReflectionPad2d` and
//! `nn.ReplicationPad2d` (`torch/nn/modules/padding.py`): `padding` is an
//! int (every side) or `[left, right, top, bottom]`.

use tch::Tensor;

use super::assert_valid;
use crate::nn::args::IntoShape;
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;
use crate::pyfmt::py_float;

/// PyTorch's `_quadruple`: one int for every side, else the four given.
fn quadruple(padding: impl IntoShape) -> Vec<i64> {
    match padding.into_shape()[..] {
        [p] => vec![p; 4],
        ref four => four.to_vec(),
    }
}

fn padding_text(padding: &[i64]) -> String {
    let p: Vec<String> = padding.iter().map(i64::to_string).collect();
    format!("({})", p.join(", "))
}

fn padding_problem(padding: &[i64]) -> Option<String> {
    (padding.len() != 4).then(|| {
        format!("padding must be an int or 4 values (left, right, top, bottom), got {padding:?}")
    })
}

/// A padding layer printed as `Name((l, r, t, b))` that pads with `F.pad`'s `$mode`.
macro_rules! pad_layer {
    ($(#[$doc:meta])* $name:ident, $mode:literal) => {
        $(#[$doc])*
        pub struct $name {
            padding: Vec<i64>,
            hooks: ForwardHooks,
        }

        impl $name {
            #[doc = concat!("Padding by `padding` (an int or `[left, right, top, bottom]`), mode `", $mode, "`.")]
            pub fn new(padding: impl IntoShape) -> $name {
                $name {
                    padding: quadruple(padding),
                    hooks: ForwardHooks::default(),
                }
            }
        }

        impl Module for $name {
            fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
                record_forward(self, || {
                    assert_valid(self);
                    xs.pad(self.padding.as_slice(), $mode, None)
                })
            }

            fn type_name(&self) -> String {
                stringify!($name).into()
            }

            fn forward_hooks(&self) -> Option<&ForwardHooks> {
                Some(&self.hooks)
            }

            fn extra_repr(&self) -> String {
                padding_text(&self.padding)
            }

            fn config_error(&self) -> Option<String> {
                padding_problem(&self.padding)
            }
        }

        layer_traits!($name);
    };
}

pad_layer!(
    /// `nn.ZeroPad2d(padding)`: zeros around the last two dimensions.
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
    ZeroPad2d,
    "constant"
);

pad_layer!(
    /// `nn.ReflectionPad2d(padding)`: the border mirrored (without repeating
    /// the edge); each amount smaller than the input's size.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(ReflectionPad2d::new(1).to_string(), "ReflectionPad2d((1, 1, 1, 1))");
    /// ```
    ReflectionPad2d,
    "reflect"
);

pad_layer!(
    /// `nn.ReplicationPad2d(padding)`: the edge pixels repeated.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(ReplicationPad2d::new([1, 0, 2, 0]).to_string(), "ReplicationPad2d((1, 0, 2, 0))");
    /// ```
    ReplicationPad2d,
    "replicate"
);

/// `nn.ConstantPad2d(padding, value)`: `value` around the last two dimensions.
///
/// ```
/// use cnn_lab::*;
/// let pad = ConstantPad2d::new(1, 0.5);
/// assert_eq!(pad.to_string(), "ConstantPad2d(padding=(1, 1, 1, 1), value=0.5)");
/// let x = Tensor::zeros([1, 1, 2, 2], (Kind::Float, Device::Cpu));
/// assert_eq!(pad.forward_t(&x, false).double_value(&[0, 0, 0, 0]), 0.5);
/// ```
pub struct ConstantPad2d {
    padding: Vec<i64>,
    value: f64,
    hooks: ForwardHooks,
}

impl ConstantPad2d {
    /// Padding by `padding` (an int or `[left, right, top, bottom]`) with `value`.
    pub fn new(padding: impl IntoShape, value: f64) -> ConstantPad2d {
        ConstantPad2d {
            padding: quadruple(padding),
            value,
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for ConstantPad2d {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.pad(self.padding.as_slice(), "constant", self.value)
        })
    }

    fn type_name(&self) -> String {
        "ConstantPad2d".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "padding={}, value={}",
            padding_text(&self.padding),
            py_float(self.value)
        )
    }

    fn config_error(&self) -> Option<String> {
        padding_problem(&self.padding)
    }
}

layer_traits!(ConstantPad2d);
