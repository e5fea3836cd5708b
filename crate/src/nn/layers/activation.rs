//! The activations without options (`torch/nn/modules/activation.py`):
//! `nn.ReLU`, `nn.Sigmoid`, `nn.Tanh`, `nn.SiLU`, `nn.ReLU6`,
//! `nn.Hardswish`, `nn.Hardsigmoid`, `nn.Mish`, `nn.Softsign`, `nn.SELU`,
//! `nn.LogSigmoid`, `nn.Tanhshrink`.

simple_layer!(
    /// `nn.ReLU()`: `max(x, 0)` elementwise.
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(ReLU::new().to_string(), "ReLU()");
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

simple_layer!(
    /// `nn.SiLU()`: `x * sigmoid(x)` (Swish).
    ///
    /// ```
    /// use cnn_lab::*;
    /// assert_eq!(SiLU::new().to_string(), "SiLU()");
    /// ```
    SiLU,
    |xs| xs.silu()
);

simple_layer!(
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
