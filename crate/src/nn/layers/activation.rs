//! The activations without options (`torch/nn/modules/activation.py`):
//! `nn.ReLU`, `nn.Sigmoid`, `nn.Tanh`, `nn.SiLU`, `nn.ReLU6`,
//! `nn.Hardswish`, `nn.Hardsigmoid`, `nn.Mish`, `nn.Softsign`, `nn.SELU`,
//! `nn.LogSigmoid`, `nn.Tanhshrink`.

/// An activation with PyTorch's `inplace` flag: [`simple_layer!`] plus an
/// `inplace(bool)` builder shown by the printout (`ReLU(inplace=True)`, as
/// torchvision's models print). The result is computed out of place either
/// way (the same values; autograd never sees a modified input).
macro_rules! inplace_layer {
    ($(#[$doc:meta])* $name:ident, |$xs:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Default)]
        pub struct $name {
            inplace: bool,
            hooks: $crate::nn::ForwardHooks,
        }

        impl $name {
            #[doc = concat!("`nn.", stringify!($name), "()`.")]
            pub fn new() -> $name {
                $name::default()
            }

            #[doc = concat!("`inplace` (default `false`): printed as `", stringify!($name), "(inplace=True)`; the output is the same.")]
            pub fn inplace(mut self, inplace: bool) -> Self {
                self.inplace = inplace;
                self
            }
        }

        impl $crate::nn::Module for $name {
            fn forward_t(&self, $xs: &tch::Tensor, _train: bool) -> tch::Tensor {
                $crate::nn::record_forward(self, || $body)
            }

            fn type_name(&self) -> String {
                stringify!($name).into()
            }

            fn extra_repr(&self) -> String {
                if self.inplace { "inplace=True".into() } else { String::new() }
            }

            fn forward_hooks(&self) -> Option<&$crate::nn::ForwardHooks> {
                Some(&self.hooks)
            }
        }

        layer_traits!($name);
    };
}

inplace_layer!(
    /// `nn.ReLU()`: `max(x, 0)` elementwise.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(ReLU::new().to_string(), "ReLU()");
    /// assert_eq!(ReLU::new().inplace(true).to_string(), "ReLU(inplace=True)");
    /// ```
    ReLU,
    |xs| xs.relu()
);

simple_layer!(
    /// `nn.Sigmoid()`: `1 / (1 + exp(-x))`, e.g. the output of a binary classifier.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(Sigmoid::new().to_string(), "Sigmoid()");
    /// let y = Sigmoid::new().forward_t(&Tensor::from_slice(&[0.0f32]), false);
    /// assert_eq!(y.double_value(&[0]), 0.5);
    /// ```
    Sigmoid,
    |xs| xs.sigmoid()
);

simple_layer!(
    /// `nn.Tanh()`: the hyperbolic tangent (LeNet-5's activation).
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(Tanh::new().to_string(), "Tanh()");
    /// ```
    Tanh,
    |xs| xs.tanh()
);

inplace_layer!(
    /// `nn.SiLU()`: `x * sigmoid(x)` (Swish).
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(SiLU::new().to_string(), "SiLU()");
    /// ```
    SiLU,
    |xs| xs.silu()
);

inplace_layer!(
    /// `nn.ReLU6()`: `min(max(x, 0), 6)` (MobileNet).
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(ReLU6::new().to_string(), "ReLU6()");
    /// ```
    ReLU6,
    |xs| xs.relu6()
);

simple_layer!(
    /// `nn.Hardswish()`: `x * relu6(x + 3) / 6` (MobileNetV3).
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(Hardswish::new().to_string(), "Hardswish()");
    /// ```
    Hardswish,
    |xs| xs.hardswish()
);

simple_layer!(
    /// `nn.Hardsigmoid()`: `relu6(x + 3) / 6`.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(Hardsigmoid::new().to_string(), "Hardsigmoid()");
    /// ```
    Hardsigmoid,
    |xs| xs.hardsigmoid()
);

simple_layer!(
    /// `nn.Mish()`: `x * tanh(softplus(x))`.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(Mish::new().to_string(), "Mish()");
    /// ```
    Mish,
    |xs| xs.mish()
);

simple_layer!(
    /// `nn.Softsign()`: `x / (1 + |x|)`.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(Softsign::new().to_string(), "Softsign()");
    /// ```
    Softsign,
    |xs| xs / (xs.abs() + 1.0)
);

simple_layer!(
    /// `nn.SELU()`: `scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))` with
    /// the self-normalising constants.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(SELU::new().to_string(), "SELU()");
    /// ```
    SELU,
    |xs| xs.selu()
);

simple_layer!(
    /// `nn.LogSigmoid()`: `log(1 / (1 + exp(-x)))`, computed stably.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(LogSigmoid::new().to_string(), "LogSigmoid()");
    /// ```
    LogSigmoid,
    |xs| xs.log_sigmoid()
);

simple_layer!(
    /// `nn.Tanhshrink()`: `x - tanh(x)`.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(Tanhshrink::new().to_string(), "Tanhshrink()");
    /// ```
    Tanhshrink,
    |xs| xs - xs.tanh()
);
