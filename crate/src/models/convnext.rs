//! torchvision's ConvNeXt (`torchvision/models/convnext.py`): `convnext_tiny`.

use tch::Tensor;

use super::ops::{Conv2dNormActivation, Permute, StochasticDepth};
use super::options::{init, init_each, init_weight_zero_bias, load_weights, ModelOptions};
use super::weights::Weights;
use crate::error::Result;
use crate::nn::{
    record_forward, AdaptiveAvgPool2d, Conv2d, Flatten, ForwardHooks, LayerNorm, Linear, Module,
    NamedTensor, Sequential, GELU,
};

/// torchvision's `LayerNorm2d`: `nn.LayerNorm` over the channels of an
/// `[N, C, H, W]` input (permuted channels-last and back).
///
/// ```
/// use cnn_lab::*;
/// use cnn_lab::models::LayerNorm2d;
/// let ln = LayerNorm2d::new(8);
/// assert_eq!(ln.to_string(), "LayerNorm2d((8,), eps=1e-06, elementwise_affine=True, bias=True)");
/// let x = Tensor::randn([2, 8, 3, 3], (Kind::Float, Device::Cpu));
/// assert_eq!(ln.forward_t(&x, false).size(), [2, 8, 3, 3]);
/// ```
pub struct LayerNorm2d {
    norm: LayerNorm,
    hooks: ForwardHooks,
}

impl LayerNorm2d {
    /// `LayerNorm2d(channels, eps=1e-6)` (ConvNeXt's `norm_layer`).
    pub fn new(channels: i64) -> LayerNorm2d {
        LayerNorm2d {
            norm: LayerNorm::new(channels).eps(1e-6),
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for LayerNorm2d {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || {
            self.norm
                .forward_t(&xs.permute([0, 2, 3, 1]), train)
                .permute([0, 3, 1, 2])
        })
    }

    fn type_name(&self) -> String {
        "LayerNorm2d".into()
    }

    fn extra_repr(&self) -> String {
        self.norm.extra_repr()
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        self.norm.own_tensors()
    }

    fn config_error(&self) -> Option<String> {
        self.norm.config_error()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }
}

model_traits!(LayerNorm2d);

/// torchvision's `CNBlock`: a 7×7 depthwise convolution, `LayerNorm`, an
/// MLP with GELU (channels last), scaled by `layer_scale`, through
/// [`StochasticDepth`], plus the input.
#[derive(Module)]
#[module(name = "CNBlock")]
pub struct CNBlock {
    /// `[dim, 1, 1]`, initialised to `layer_scale` (1e-6).
    #[module(param)]
    pub layer_scale: Tensor,
    /// Conv, Permute, LayerNorm, Linear, GELU, Linear, Permute.
    pub block: Sequential,
    /// Drops the residual branch per sample in training.
    pub stochastic_depth: StochasticDepth,
}

impl CNBlock {
    /// `CNBlock(dim, layer_scale, stochastic_depth_prob)`.
    pub fn new(dim: i64, layer_scale: f64, stochastic_depth_prob: f64) -> CNBlock {
        CNBlock {
            layer_scale: Tensor::full(
                [dim, 1, 1],
                layer_scale,
                (tch::Kind::Float, tch::Device::Cpu),
            )
            .set_requires_grad(true),
            block: Sequential::new()
                .add(Conv2d::new(dim, dim, 7).padding(3).groups(dim))
                .add(Permute::new(&[0, 2, 3, 1]))
                .add(LayerNorm::new(dim).eps(1e-6))
                .add(Linear::new(dim, 4 * dim))
                .add(GELU::new())
                .add(Linear::new(4 * dim, dim))
                .add(Permute::new(&[0, 3, 1, 2])),
            stochastic_depth: StochasticDepth::new(stochastic_depth_prob, "row"),
        }
    }

    /// `input + stochastic_depth(layer_scale * block(input))`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let out = &self.layer_scale * x.apply_t(&self.block, train);
        out.apply_t(&self.stochastic_depth, train) + x
    }
}

/// torchvision's `ConvNeXt`: `features` (a 4×4 patchify stem, four stages
/// of [`CNBlock`]s with downsampling between them), `avgpool` and a
/// `classifier` (LayerNorm2d, Flatten, Linear). A new head is
/// `model.classifier.set(2, Linear::new(768, 2))?`.
///
/// ```
/// use cnn_lab::*;
/// let mut model = models::convnext_tiny(None)?;
/// model.classifier.set(2, Linear::new(768, 2))?;
/// let x = Tensor::zeros([1, 3, 32, 32], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [1, 2]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Module)]
#[module(name = "ConvNeXt")]
pub struct ConvNeXt {
    /// The stem, the stages and the downsampling layers.
    pub features: Sequential,
    /// `AdaptiveAvgPool2d(1)`.
    pub avgpool: AdaptiveAvgPool2d,
    /// `LayerNorm2d`, `Flatten(1)`, `Linear(768, num_classes)`.
    pub classifier: Sequential,
}

fn layer_norm_2d(channels: i64) -> Box<dyn Module + Send> {
    Box::new(LayerNorm2d::new(channels))
}

impl ConvNeXt {
    fn build(
        setting: &[(i64, Option<i64>, i64)],
        stochastic_depth_prob: f64,
        layer_scale: f64,
        num_classes: i64,
    ) -> ConvNeXt {
        let mut features = Sequential::new().add(
            Conv2dNormActivation::new(3, setting[0].0)
                .kernel_size(4)
                .stride(4)
                .padding(0)
                .norm_layer(Some(layer_norm_2d))
                .activation_layer(None)
                .bias(true),
        );
        let total_stage_blocks: i64 = setting.iter().map(|s| s.2).sum();
        let mut stage_block_id = 0;
        for &(input_channels, out_channels, num_layers) in setting {
            let mut stage = Sequential::new();
            for _ in 0..num_layers {
                let sd_prob = stochastic_depth_prob * stage_block_id as f64
                    / (total_stage_blocks as f64 - 1.0);
                stage.push(CNBlock::new(input_channels, layer_scale, sd_prob));
                stage_block_id += 1;
            }
            features.push(stage);
            if let Some(out) = out_channels {
                features.push(
                    Sequential::new()
                        .add(LayerNorm2d::new(input_channels))
                        .add(Conv2d::new(input_channels, out, 2).stride(2)),
                );
            }
        }
        let last = setting[setting.len() - 1];
        let lastconv_output = last.1.unwrap_or(last.0);
        let model = ConvNeXt {
            features,
            avgpool: AdaptiveAvgPool2d::new(1),
            classifier: Sequential::new()
                .add(LayerNorm2d::new(lastconv_output))
                .add(Flatten::new().start_dim(1))
                .add(Linear::new(lastconv_output, num_classes)),
        };
        init_each(&model, |_, m| {
            if matches!(m.type_name().as_str(), "Conv2d" | "Linear") {
                init_weight_zero_bias(m, |w| init::trunc_normal(w, 0.02, -2.0, 2.0));
            }
        });
        model
    }

    /// `features`, `avgpool`, `classifier`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.features, train)
            .apply_t(&self.avgpool, train)
            .apply_t(&self.classifier, train)
    }
}

/// torchvision's `convnext_tiny(weights=None)`: 28.6 M parameters. With
/// weights, they are loaded (strictly) and set `num_classes`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(models::convnext_tiny(None)?.num_parameters(), 28_589_128);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn convnext_tiny(weights: Option<Weights>) -> Result<ConvNeXt> {
    convnext_tiny_with(weights, ModelOptions::new())
}

/// [`convnext_tiny`] with keyword arguments: `num_classes`,
/// `stochastic_depth_prob` (0.1).
pub fn convnext_tiny_with(weights: Option<Weights>, options: ModelOptions) -> Result<ConvNeXt> {
    options.only("convnext_tiny", &["num_classes", "stochastic_depth_prob"])?;
    let num_classes = options.classes(weights.as_ref())?;
    let setting = [
        (96, Some(192), 3),
        (192, Some(384), 3),
        (384, Some(768), 9),
        (768, None, 3),
    ];
    let model = ConvNeXt::build(
        &setting,
        options.stochastic_depth_prob.unwrap_or(0.1),
        1e-6,
        num_classes,
    );
    load_weights(model, weights.as_ref())
}
