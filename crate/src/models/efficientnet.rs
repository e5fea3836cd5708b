//! torchvision's EfficientNet (`torchvision/models/efficientnet.py`): `efficientnet_b0`.

use tch::Tensor;

use super::ops::{self, make_divisible, Conv2dNormActivation, SqueezeExcitation, StochasticDepth};
use super::options::{init, init_fan_out_convs, load_weights, pool_classify, ModelOptions};
use super::weights::Weights;
use crate::error::Result;
use crate::nn::{AdaptiveAvgPool2d, Dropout, Linear, Module, Sequential, SiLU};

/// torchvision's `MBConv`: a 1×1 expansion (unless `expand_ratio` is 1), a
/// depthwise convolution, a [`SqueezeExcitation`] and a linear 1×1
/// projection (`block`); where the shape allows, the input is added to the
/// output after [`StochasticDepth`].
#[derive(Module)]
#[module(name = "MBConv")]
pub struct MBConv {
    /// The block's layers.
    pub block: Sequential,
    /// Drops the residual branch per sample in training.
    pub stochastic_depth: StochasticDepth,
    /// Whether the input is added to the output.
    pub use_res_connect: bool,
    /// The block's output channels.
    pub out_channels: i64,
}

impl MBConv {
    /// `MBConv(cnf, stochastic_depth_prob, norm_layer=nn.BatchNorm2d)` for
    /// the configuration `(expand_ratio, kernel, stride, input_channels, out_channels)`.
    pub fn new(
        expand_ratio: f64,
        kernel: i64,
        stride: i64,
        input_channels: i64,
        out_channels: i64,
        stochastic_depth_prob: f64,
    ) -> MBConv {
        let expanded = make_divisible(input_channels as f64 * expand_ratio, 8);
        let mut block = Sequential::new();
        if expanded != input_channels {
            block.push(
                Conv2dNormActivation::new(input_channels, expanded)
                    .kernel_size(1)
                    .activation_layer(Some(ops::silu)),
            );
        }
        block.push(
            Conv2dNormActivation::new(expanded, expanded)
                .kernel_size(kernel)
                .stride(stride)
                .groups(expanded)
                .activation_layer(Some(ops::silu)),
        );
        let squeeze_channels = (input_channels / 4).max(1);
        block.push(
            SqueezeExcitation::new(expanded, squeeze_channels)
                .activation(SiLU::new().inplace(true)),
        );
        block.push(
            Conv2dNormActivation::new(expanded, out_channels)
                .kernel_size(1)
                .activation_layer(None),
        );
        MBConv {
            block,
            stochastic_depth: StochasticDepth::new(stochastic_depth_prob, "row"),
            use_res_connect: stride == 1 && input_channels == out_channels,
            out_channels,
        }
    }

    /// `block(x)`, plus `x` after stochastic depth where the shape allows.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let out = x.apply_t(&self.block, train);
        if self.use_res_connect {
            out.apply_t(&self.stochastic_depth, train) + x
        } else {
            out
        }
    }
}

/// torchvision's `EfficientNet`: `features` (a stem, seven stages of
/// [`MBConv`]s, a 1×1 convolution), `avgpool` and a `classifier` (Dropout,
/// Linear). A new head is `model.classifier.set(1, Linear::new(1280, 2))?`.
///
/// ```
/// use cnn_lab::*;
/// let mut model = models::efficientnet_b0(None)?;
/// model.classifier.set(1, Linear::new(1280, 2))?;
/// let x = Tensor::zeros([1, 3, 32, 32], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [1, 2]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Module)]
#[module(name = "EfficientNet")]
pub struct EfficientNet {
    /// The convolutional layers.
    pub features: Sequential,
    /// `AdaptiveAvgPool2d(1)`.
    pub avgpool: AdaptiveAvgPool2d,
    /// `Dropout(p=0.2, inplace=True)`, `Linear(1280, num_classes)`.
    pub classifier: Sequential,
}

impl EfficientNet {
    fn build(
        setting: &[(f64, i64, i64, i64, i64, i64)],
        dropout: f64,
        stochastic_depth_prob: f64,
        num_classes: i64,
    ) -> EfficientNet {
        let mut features = Sequential::new().add(
            Conv2dNormActivation::new(3, setting[0].3)
                .stride(2)
                .activation_layer(Some(ops::silu)),
        );
        let total_stage_blocks: i64 = setting.iter().map(|s| s.5).sum();
        let mut stage_block_id = 0;
        for &(expand_ratio, kernel, stride, input_channels, out_channels, num_layers) in setting {
            let mut stage = Sequential::new();
            for i in 0..num_layers {
                let (input, stride) = if i == 0 {
                    (input_channels, stride)
                } else {
                    (out_channels, 1)
                };
                let sd_prob =
                    stochastic_depth_prob * stage_block_id as f64 / total_stage_blocks as f64;
                stage.push(MBConv::new(
                    expand_ratio,
                    kernel,
                    stride,
                    input,
                    out_channels,
                    sd_prob,
                ));
                stage_block_id += 1;
            }
            features.push(stage);
        }
        let lastconv_input = setting[setting.len() - 1].4;
        let lastconv_output = 4 * lastconv_input;
        features.push(
            Conv2dNormActivation::new(lastconv_input, lastconv_output)
                .kernel_size(1)
                .activation_layer(Some(ops::silu)),
        );
        let model = EfficientNet {
            features,
            avgpool: AdaptiveAvgPool2d::new(1),
            classifier: Sequential::new()
                .add(Dropout::new(dropout).inplace(true))
                .add(Linear::new(lastconv_output, num_classes)),
        };
        // Linear: uniform_(-1 / sqrt(out_features), 1 / sqrt(out_features)).
        let linear = |w: &Tensor| {
            let range = 1.0 / (w.size()[0] as f64).sqrt();
            init::uniform(w, -range, range);
        };
        init_fan_out_convs(&model, true, Some(&linear));
        model
    }

    /// `features`, `avgpool`, `flatten(1)`, `classifier`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        pool_classify(x, &self.features, &self.avgpool, &self.classifier, train)
    }
}

/// torchvision's `efficientnet_b0(weights=None)`: 5.3 M parameters. With
/// weights, they are loaded (strictly) and set `num_classes`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(models::efficientnet_b0(None)?.num_parameters(), 5_288_548);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn efficientnet_b0(weights: Option<Weights>) -> Result<EfficientNet> {
    efficientnet_b0_with(weights, ModelOptions::new())
}

/// [`efficientnet_b0`] with keyword arguments: `num_classes`, `dropout`
/// (0.2), `stochastic_depth_prob` (0.2).
pub fn efficientnet_b0_with(
    weights: Option<Weights>,
    options: ModelOptions,
) -> Result<EfficientNet> {
    options.only(
        "efficientnet_b0",
        &["num_classes", "dropout", "stochastic_depth_prob"],
    )?;
    let num_classes = options.classes(weights.as_ref())?;
    // (expand_ratio, kernel, stride, input_channels, out_channels, num_layers)
    let setting = [
        (1.0, 3, 1, 32, 16, 1),
        (6.0, 3, 2, 16, 24, 2),
        (6.0, 5, 2, 24, 40, 2),
        (6.0, 3, 2, 40, 80, 3),
        (6.0, 5, 1, 80, 112, 3),
        (6.0, 5, 2, 112, 192, 4),
        (6.0, 3, 1, 192, 320, 1),
    ];
    let model = EfficientNet::build(
        &setting,
        options.dropout.unwrap_or(0.2),
        options.stochastic_depth_prob.unwrap_or(0.2),
        num_classes,
    );
    load_weights(model, weights.as_ref())
}
