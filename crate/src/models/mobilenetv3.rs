//! torchvision's MobileNetV3 (`torchvision/models/mobilenetv3.py`):
//! `mobilenet_v3_small`, `mobilenet_v3_large`.

use tch::Tensor;

use super::ops::{self, make_divisible, ActivationLayer, Conv2dNormActivation, SqueezeExcitation};
use super::options::{init, init_fan_out_convs, load_weights, pool_classify, ModelOptions};
use super::weights::Weights;
use crate::error::Result;
use crate::nn::{
    AdaptiveAvgPool2d, BatchNorm2d, Dropout, Hardsigmoid, Hardswish, Linear, Module, Sequential,
};

/// MobileNetV3's norm layer: `partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)`.
fn norm(num_features: i64) -> Box<dyn Module + Send> {
    Box::new(BatchNorm2d::new(num_features).eps(0.001).momentum(0.01))
}

/// One row of torchvision's `InvertedResidualConfig` table.
struct Config {
    input_channels: i64,
    kernel: i64,
    expanded_channels: i64,
    out_channels: i64,
    use_se: bool,
    use_hs: bool,
    stride: i64,
}

/// torchvision's MobileNetV3 `InvertedResidual`: a 1×1 expansion (where the
/// channels change), a depthwise convolution, an optional
/// [`SqueezeExcitation`] and a linear 1×1 projection (`block`), with the
/// input added back where the shape allows.
#[derive(Module)]
#[module(name = "InvertedResidual")]
pub struct InvertedResidualV3 {
    /// The block's layers.
    pub block: Sequential,
    /// Whether the input is added to the output.
    pub use_res_connect: bool,
    /// The block's output channels.
    pub out_channels: i64,
}

impl InvertedResidualV3 {
    fn new(cnf: &Config) -> InvertedResidualV3 {
        let activation: ActivationLayer = if cnf.use_hs {
            ops::hardswish
        } else {
            ops::relu
        };
        let mut block = Sequential::new();
        if cnf.expanded_channels != cnf.input_channels {
            block.push(
                Conv2dNormActivation::new(cnf.input_channels, cnf.expanded_channels)
                    .kernel_size(1)
                    .norm_layer(Some(norm))
                    .activation_layer(Some(activation)),
            );
        }
        block.push(
            Conv2dNormActivation::new(cnf.expanded_channels, cnf.expanded_channels)
                .kernel_size(cnf.kernel)
                .stride(cnf.stride)
                .groups(cnf.expanded_channels)
                .norm_layer(Some(norm))
                .activation_layer(Some(activation)),
        );
        if cnf.use_se {
            let squeeze_channels = make_divisible((cnf.expanded_channels / 4) as f64, 8);
            block.push(
                SqueezeExcitation::new(cnf.expanded_channels, squeeze_channels)
                    .scale_activation(Hardsigmoid::new()),
            );
        }
        block.push(
            Conv2dNormActivation::new(cnf.expanded_channels, cnf.out_channels)
                .kernel_size(1)
                .norm_layer(Some(norm))
                .activation_layer(None),
        );
        InvertedResidualV3 {
            block,
            use_res_connect: cnf.stride == 1 && cnf.input_channels == cnf.out_channels,
            out_channels: cnf.out_channels,
        }
    }

    /// `block(x)`, plus `x` where the shape allows.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let out = x.apply_t(&self.block, train);
        if self.use_res_connect {
            out + x
        } else {
            out
        }
    }
}

/// torchvision's `MobileNetV3`: `features`, `avgpool` and a `classifier`
/// (Linear, Hardswish, Dropout, Linear). A new head is
/// `model.classifier.set(3, Linear::new(1024, 2))?` (small; 1280 for large).
///
/// ```
/// use cnn_lab::*;
/// let mut model = models::mobilenet_v3_small(None)?;
/// model.classifier.set(3, Linear::new(1024, 2))?;
/// let x = Tensor::zeros([1, 3, 32, 32], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [1, 2]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Module)]
#[module(name = "MobileNetV3")]
pub struct MobileNetV3 {
    /// The convolutional layers.
    pub features: Sequential,
    /// `AdaptiveAvgPool2d(1)`.
    pub avgpool: AdaptiveAvgPool2d,
    /// `Linear`, `Hardswish`, `Dropout(p=0.2)`, `Linear(last_channel, num_classes)`.
    pub classifier: Sequential,
}

impl MobileNetV3 {
    fn build(setting: &[Config], last_channel: i64, num_classes: i64, dropout: f64) -> Self {
        let mut features = Sequential::new().add(
            Conv2dNormActivation::new(3, setting[0].input_channels)
                .stride(2)
                .norm_layer(Some(norm))
                .activation_layer(Some(ops::hardswish)),
        );
        for cnf in setting {
            features.push(InvertedResidualV3::new(cnf));
        }
        let lastconv_input = setting[setting.len() - 1].out_channels;
        let lastconv_output = 6 * lastconv_input;
        features.push(
            Conv2dNormActivation::new(lastconv_input, lastconv_output)
                .kernel_size(1)
                .norm_layer(Some(norm))
                .activation_layer(Some(ops::hardswish)),
        );
        let model = MobileNetV3 {
            features,
            avgpool: AdaptiveAvgPool2d::new(1),
            classifier: Sequential::new()
                .add(Linear::new(lastconv_output, last_channel))
                .add(Hardswish::new())
                .add(Dropout::new(dropout).inplace(true))
                .add(Linear::new(last_channel, num_classes)),
        };
        init_fan_out_convs(&model, true, Some(&|w| init::normal(w, 0.0, 0.01)));
        model
    }

    /// `features`, `avgpool`, `flatten(1)`, `classifier`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        pool_classify(x, &self.features, &self.avgpool, &self.classifier, train)
    }
}

fn conf(rows: &[(i64, i64, i64, i64, bool, &str, i64)]) -> Vec<Config> {
    rows.iter()
        .map(
            |&(input_channels, kernel, expanded_channels, out_channels, use_se, act, stride)| {
                Config {
                    input_channels,
                    kernel,
                    expanded_channels,
                    out_channels,
                    use_se,
                    use_hs: act == "HS",
                    stride,
                }
            },
        )
        .collect()
}

fn mobilenet_v3(
    arch: &str,
    weights: Option<Weights>,
    options: ModelOptions,
) -> Result<MobileNetV3> {
    options.only(arch, &["num_classes", "dropout"])?;
    let num_classes = options.classes(weights.as_ref())?;
    let (setting, last_channel) = if arch == "mobilenet_v3_large" {
        (
            conf(&[
                (16, 3, 16, 16, false, "RE", 1),
                (16, 3, 64, 24, false, "RE", 2),
                (24, 3, 72, 24, false, "RE", 1),
                (24, 5, 72, 40, true, "RE", 2),
                (40, 5, 120, 40, true, "RE", 1),
                (40, 5, 120, 40, true, "RE", 1),
                (40, 3, 240, 80, false, "HS", 2),
                (80, 3, 200, 80, false, "HS", 1),
                (80, 3, 184, 80, false, "HS", 1),
                (80, 3, 184, 80, false, "HS", 1),
                (80, 3, 480, 112, true, "HS", 1),
                (112, 3, 672, 112, true, "HS", 1),
                (112, 5, 672, 160, true, "HS", 2),
                (160, 5, 960, 160, true, "HS", 1),
                (160, 5, 960, 160, true, "HS", 1),
            ]),
            1280,
        )
    } else {
        (
            conf(&[
                (16, 3, 16, 16, true, "RE", 2),
                (16, 3, 72, 24, false, "RE", 2),
                (24, 3, 88, 24, false, "RE", 1),
                (24, 5, 96, 40, true, "HS", 2),
                (40, 5, 240, 40, true, "HS", 1),
                (40, 5, 240, 40, true, "HS", 1),
                (40, 5, 120, 48, true, "HS", 1),
                (48, 5, 144, 48, true, "HS", 1),
                (48, 5, 288, 96, true, "HS", 2),
                (96, 5, 576, 96, true, "HS", 1),
                (96, 5, 576, 96, true, "HS", 1),
            ]),
            1024,
        )
    };
    let model = MobileNetV3::build(
        &setting,
        last_channel,
        num_classes,
        options.dropout.unwrap_or(0.2),
    );
    load_weights(model, weights.as_ref())
}

/// torchvision's `mobilenet_v3_large(weights=None)`: 5.5 M parameters.
/// With weights, they are loaded (strictly) and set `num_classes`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(models::mobilenet_v3_large(None)?.num_parameters(), 5_483_032);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn mobilenet_v3_large(weights: Option<Weights>) -> Result<MobileNetV3> {
    mobilenet_v3_large_with(weights, ModelOptions::new())
}

/// [`mobilenet_v3_large`] with keyword arguments: `num_classes`, `dropout` (0.2).
pub fn mobilenet_v3_large_with(
    weights: Option<Weights>,
    options: ModelOptions,
) -> Result<MobileNetV3> {
    mobilenet_v3("mobilenet_v3_large", weights, options)
}

/// torchvision's `mobilenet_v3_small(weights=None)`: 2.5 M parameters.
/// With weights, they are loaded (strictly) and set `num_classes`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(models::mobilenet_v3_small(None)?.num_parameters(), 2_542_856);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn mobilenet_v3_small(weights: Option<Weights>) -> Result<MobileNetV3> {
    mobilenet_v3_small_with(weights, ModelOptions::new())
}

/// [`mobilenet_v3_small`] with keyword arguments: `num_classes`, `dropout` (0.2).
pub fn mobilenet_v3_small_with(
    weights: Option<Weights>,
    options: ModelOptions,
) -> Result<MobileNetV3> {
    mobilenet_v3("mobilenet_v3_small", weights, options)
}
