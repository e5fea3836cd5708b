//! torchvision's MobileNetV2 (`torchvision/models/mobilenetv2.py`).

use tch::Tensor;

use super::ops::{self, make_divisible, Conv2dNormActivation};
use super::options::{init, init_fan_out_convs, load_weights, ModelOptions};
use super::weights::Weights;
use crate::error::Result;
use crate::nn::{BatchNorm2d, Conv2d, Dropout, Linear, Module, Sequential};

/// torchvision's MobileNetV2 `InvertedResidual`: a 1×1 expansion (unless
/// `expand_ratio` is 1), a 3×3 depthwise convolution, a linear 1×1
/// projection (`conv`), and the input added back where the shape allows.
#[derive(Module)]
#[module(name = "InvertedResidual")]
pub struct InvertedResidual {
    /// The block's layers.
    pub conv: Sequential,
    /// The depthwise convolution's stride.
    pub stride: i64,
    /// Whether the input is added to the output (`stride == 1 and inp == oup`).
    pub use_res_connect: bool,
    /// The block's output channels.
    pub out_channels: i64,
}

impl InvertedResidual {
    /// `InvertedResidual(inp, oup, stride, expand_ratio)`.
    pub fn new(inp: i64, oup: i64, stride: i64, expand_ratio: i64) -> InvertedResidual {
        let hidden_dim = inp * expand_ratio;
        let mut conv = Sequential::new();
        if expand_ratio != 1 {
            conv.push(
                Conv2dNormActivation::new(inp, hidden_dim)
                    .kernel_size(1)
                    .activation_layer(Some(ops::relu6)),
            );
        }
        conv.push(
            Conv2dNormActivation::new(hidden_dim, hidden_dim)
                .stride(stride)
                .groups(hidden_dim)
                .activation_layer(Some(ops::relu6)),
        );
        conv.push(
            Conv2d::new(hidden_dim, oup, 1)
                .stride(1)
                .padding(0)
                .bias(false),
        );
        conv.push(BatchNorm2d::new(oup));
        InvertedResidual {
            conv,
            stride,
            use_res_connect: stride == 1 && inp == oup,
            out_channels: oup,
        }
    }

    /// `x + conv(x)` or `conv(x)`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let out = x.apply_t(&self.conv, train);
        if self.use_res_connect {
            x + out
        } else {
            out
        }
    }
}

/// torchvision's `MobileNetV2`: `features` (a stem, 17 [`InvertedResidual`]s
/// and a 1×1 convolution to 1280 channels), global average pooling and a
/// `classifier` (Dropout, Linear). A new head is
/// `model.classifier.set(1, Linear::new(1280, 2))?`.
///
/// ```
/// use cnn_lab::*;
/// let mut model = models::mobilenet_v2(None)?;
/// model.classifier.set(1, Linear::new(1280, 2))?;
/// let x = Tensor::zeros([1, 3, 32, 32], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [1, 2]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Module)]
#[module(name = "MobileNetV2")]
pub struct MobileNetV2 {
    /// The convolutional layers.
    pub features: Sequential,
    /// `Dropout(p=0.2)`, `Linear(1280, num_classes)`.
    pub classifier: Sequential,
    /// The channels of the last convolution (1280).
    pub last_channel: i64,
}

impl MobileNetV2 {
    fn build(num_classes: i64, width_mult: f64, dropout: f64) -> MobileNetV2 {
        let setting: [[i64; 4]; 7] = [
            [1, 16, 1, 1],
            [6, 24, 2, 2],
            [6, 32, 3, 2],
            [6, 64, 4, 2],
            [6, 96, 3, 1],
            [6, 160, 3, 2],
            [6, 320, 1, 1],
        ];
        let round_nearest = 8;
        let mut input_channel = make_divisible(32.0 * width_mult, round_nearest);
        let last_channel = make_divisible(1280.0 * width_mult.max(1.0), round_nearest);
        let mut features = Sequential::new().add(
            Conv2dNormActivation::new(3, input_channel)
                .stride(2)
                .activation_layer(Some(ops::relu6)),
        );
        for [t, c, n, s] in setting {
            let output_channel = make_divisible(c as f64 * width_mult, round_nearest);
            for i in 0..n {
                let stride = if i == 0 { s } else { 1 };
                features.push(InvertedResidual::new(
                    input_channel,
                    output_channel,
                    stride,
                    t,
                ));
                input_channel = output_channel;
            }
        }
        features.push(
            Conv2dNormActivation::new(input_channel, last_channel)
                .kernel_size(1)
                .activation_layer(Some(ops::relu6)),
        );
        let model = MobileNetV2 {
            features,
            classifier: Sequential::new()
                .add(Dropout::new(dropout))
                .add(Linear::new(last_channel, num_classes)),
            last_channel,
        };
        init_fan_out_convs(&model, true, Some(&|w| init::normal(w, 0.0, 0.01)));
        model
    }

    /// `features`, global average pooling, `flatten(1)`, `classifier`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.features, train)
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .apply_t(&self.classifier, train)
    }
}

/// torchvision's `mobilenet_v2(weights=None)`: 3.5 M parameters. With
/// weights, they are loaded (strictly) and set `num_classes`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(models::mobilenet_v2(None)?.num_parameters(), 3_504_872);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn mobilenet_v2(weights: Option<Weights>) -> Result<MobileNetV2> {
    mobilenet_v2_with(weights, ModelOptions::new())
}

/// [`mobilenet_v2`] with keyword arguments: `num_classes`, `width_mult`
/// (1.0), `dropout` (0.2).
pub fn mobilenet_v2_with(weights: Option<Weights>, options: ModelOptions) -> Result<MobileNetV2> {
    options.only("mobilenet_v2", &["num_classes", "width_mult", "dropout"])?;
    let num_classes = options.classes(weights.as_ref())?;
    let model = MobileNetV2::build(
        num_classes,
        options.width_mult.unwrap_or(1.0),
        options.dropout.unwrap_or(0.2),
    );
    load_weights(model, weights.as_ref())
}
