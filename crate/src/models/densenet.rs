//! torchvision's DenseNet (`torchvision/models/densenet.py`): `densenet121`.

use tch::Tensor;

use super::options::{init, init_each, init_weight_zero_bias, own, ModelOptions};
use super::weights::Weights;
use crate::error::Result;
use crate::nn::{
    record_forward, AvgPool2d, BatchNorm2d, Conv2d, ForwardHooks, Linear, MaxPool2d, Module, ReLU,
    Sequential,
};

/// torchvision's `_DenseLayer`: BN-ReLU-Conv 1×1 to `bn_size * growth_rate`
/// channels, BN-ReLU-Conv 3×3 to `growth_rate`, on the concatenation of
/// every earlier output of its block (concatenated by [`DenseBlock`]).
#[derive(Module)]
#[module(name = "_DenseLayer")]
pub struct DenseLayer {
    /// `BatchNorm2d(num_input_features)`.
    pub norm1: BatchNorm2d,
    /// `ReLU(inplace=True)`.
    pub relu1: ReLU,
    /// 1×1, no bias.
    pub conv1: Conv2d,
    /// `BatchNorm2d(bn_size * growth_rate)`.
    pub norm2: BatchNorm2d,
    /// `ReLU(inplace=True)`.
    pub relu2: ReLU,
    /// 3×3 to `growth_rate`, no bias.
    pub conv2: Conv2d,
    /// Dropout probability on the new features (default 0).
    pub drop_rate: f64,
    /// torchvision's checkpointing switch (no effect on the outputs).
    pub memory_efficient: bool,
}

impl DenseLayer {
    /// `_DenseLayer(num_input_features, growth_rate, bn_size, drop_rate)`.
    pub fn new(num_input_features: i64, growth_rate: i64, bn_size: i64, drop_rate: f64) -> Self {
        DenseLayer {
            norm1: BatchNorm2d::new(num_input_features),
            relu1: ReLU::new().inplace(true),
            conv1: Conv2d::new(num_input_features, bn_size * growth_rate, 1)
                .stride(1)
                .bias(false),
            norm2: BatchNorm2d::new(bn_size * growth_rate),
            relu2: ReLU::new().inplace(true),
            conv2: Conv2d::new(bn_size * growth_rate, growth_rate, 3)
                .stride(1)
                .padding(1)
                .bias(false),
            drop_rate,
            memory_efficient: false,
        }
    }

    /// The new features for `x`, the concatenated earlier ones.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let out = x
            .apply_t(&self.norm1, train)
            .apply_t(&self.relu1, train)
            .apply_t(&self.conv1, train)
            .apply_t(&self.norm2, train)
            .apply_t(&self.relu2, train)
            .apply_t(&self.conv2, train);
        if self.drop_rate > 0.0 {
            out.dropout(self.drop_rate, train)
        } else {
            out
        }
    }
}

/// torchvision's `_DenseBlock` (an `nn.ModuleDict`): `denselayer1` …
/// `denselayerN`, each fed every earlier output; its output is all of them
/// concatenated.
pub struct DenseBlock {
    /// The layers, named `denselayer1`, … in the printout and keys.
    pub layers: Vec<DenseLayer>,
    hooks: ForwardHooks,
}

impl DenseBlock {
    /// `_DenseBlock(num_layers, num_input_features, bn_size, growth_rate, drop_rate)`.
    pub fn new(
        num_layers: i64,
        num_input_features: i64,
        bn_size: i64,
        growth_rate: i64,
        drop_rate: f64,
    ) -> DenseBlock {
        DenseBlock {
            layers: (0..num_layers)
                .map(|i| {
                    DenseLayer::new(
                        num_input_features + i * growth_rate,
                        growth_rate,
                        bn_size,
                        drop_rate,
                    )
                })
                .collect(),
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for DenseBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || {
            let mut features = vec![xs.shallow_clone()];
            for layer in &self.layers {
                let input = Tensor::cat(&features, 1);
                features.push(layer.forward_t(&input, train));
            }
            Tensor::cat(&features, 1)
        })
    }

    fn type_name(&self) -> String {
        "_DenseBlock".into()
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("denselayer{}", i + 1), l as &dyn Module))
            .collect()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }
}

model_traits!(DenseBlock);

/// torchvision's `_Transition` (an `nn.Sequential`): BN, ReLU, 1×1
/// convolution halving the channels, 2×2 average pooling.
#[derive(Module)]
#[module(name = "_Transition")]
pub struct Transition {
    /// `BatchNorm2d(num_input_features)`.
    pub norm: BatchNorm2d,
    /// `ReLU(inplace=True)`.
    pub relu: ReLU,
    /// 1×1, no bias.
    pub conv: Conv2d,
    /// `AvgPool2d(kernel_size=2, stride=2)`.
    pub pool: AvgPool2d,
}

impl Transition {
    /// `_Transition(num_input_features, num_output_features)`.
    pub fn new(num_input_features: i64, num_output_features: i64) -> Transition {
        Transition {
            norm: BatchNorm2d::new(num_input_features),
            relu: ReLU::new().inplace(true),
            conv: Conv2d::new(num_input_features, num_output_features, 1)
                .stride(1)
                .bias(false),
            pool: AvgPool2d::new(2).stride(2),
        }
    }

    /// `pool(conv(relu(norm(x))))`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.norm, train)
            .apply_t(&self.relu, train)
            .apply_t(&self.conv, train)
            .apply_t(&self.pool, train)
    }
}

/// torchvision's `DenseNet`: `features` (a named [`Sequential`]: `conv0`,
/// `norm0`, `relu0`, `pool0`, `denseblock1`, `transition1`, …, `norm5`)
/// and a `classifier`. A new head is `model.classifier = Linear::new(1024, 2)`.
///
/// ```
/// use cnn_lab::*;
/// let mut model = models::densenet121(None)?;
/// model.classifier = Linear::new(1024, 2);
/// let x = Tensor::zeros([1, 3, 32, 32], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [1, 2]);
/// assert_eq!(model.state_dict()[0].0, "features.conv0.weight");
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Module)]
#[module(name = "DenseNet")]
pub struct DenseNet {
    /// The named feature layers.
    pub features: Sequential,
    /// `Linear(num_features, num_classes)`.
    pub classifier: Linear,
}

impl DenseNet {
    fn build(
        growth_rate: i64,
        block_config: &[i64],
        num_init_features: i64,
        num_classes: i64,
        memory_efficient: bool,
    ) -> DenseNet {
        let (bn_size, drop_rate) = (4, 0.0);
        let mut features = Sequential::new()
            .add_named(
                "conv0",
                Conv2d::new(3, num_init_features, 7)
                    .stride(2)
                    .padding(3)
                    .bias(false),
            )
            .add_named("norm0", BatchNorm2d::new(num_init_features))
            .add_named("relu0", ReLU::new().inplace(true))
            .add_named("pool0", MaxPool2d::new(3).stride(2).padding(1));
        let mut num_features = num_init_features;
        for (i, &num_layers) in block_config.iter().enumerate() {
            let mut block =
                DenseBlock::new(num_layers, num_features, bn_size, growth_rate, drop_rate);
            for layer in &mut block.layers {
                layer.memory_efficient = memory_efficient;
            }
            features.add_module(&format!("denseblock{}", i + 1), block);
            num_features += num_layers * growth_rate;
            if i != block_config.len() - 1 {
                features.add_module(
                    &format!("transition{}", i + 1),
                    Transition::new(num_features, num_features / 2),
                );
                num_features /= 2;
            }
        }
        features.add_module("norm5", BatchNorm2d::new(num_features));
        let model = DenseNet {
            features,
            classifier: Linear::new(num_features, num_classes),
        };
        init_each(&model, |_, m| match m.type_name().as_str() {
            "Conv2d" => init_weight_zero_bias(m, init::kaiming_normal_fan_in),
            "Linear" => {
                if let Some(b) = own(m, "bias") {
                    init::constant(&b, 0.0);
                }
            }
            _ => {}
        });
        model
    }

    /// `features`, ReLU, global average pooling, `flatten(1)`, `classifier`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.features, train)
            .relu()
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .apply_t(&self.classifier, train)
    }
}

/// torchvision's `_load_state_dict` renaming: the published DenseNet files
/// name `denselayerN.norm1.weight` as `denselayerN.norm.1.weight` (and
/// `conv.2`, `relu.1`); this gives the current names.
///
/// ```
/// use cnn_lab::models::densenet_key;
/// assert_eq!(
///     densenet_key("features.denseblock1.denselayer1.norm.1.running_mean"),
///     "features.denseblock1.denselayer1.norm1.running_mean"
/// );
/// assert_eq!(densenet_key("features.norm5.weight"), "features.norm5.weight");
/// ```
pub fn densenet_key(key: &str) -> String {
    // ^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$
    for part in ["norm", "relu", "conv"] {
        for digit in ['1', '2'] {
            for leaf in ["weight", "bias", "running_mean", "running_var"] {
                let tail = format!(".{part}.{digit}.{leaf}");
                if let Some(head) = key.strip_suffix(&tail) {
                    let last = head.rsplit('.').next().unwrap_or("");
                    let is_layer = last.rfind("denselayer").is_some_and(|at| {
                        let n = &last[at + "denselayer".len()..];
                        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
                    });
                    if is_layer {
                        return format!("{head}.{part}{digit}.{leaf}");
                    }
                }
            }
        }
    }
    key.to_string()
}

fn densenet(
    name: &str,
    growth_rate: i64,
    block_config: &[i64],
    num_init_features: i64,
    weights: Option<Weights>,
    options: ModelOptions,
) -> Result<DenseNet> {
    options.only(name, &["num_classes", "memory_efficient"])?;
    let num_classes = options.classes(weights.as_ref())?;
    let model = DenseNet::build(
        growth_rate,
        block_config,
        num_init_features,
        num_classes,
        options.memory_efficient.unwrap_or(false),
    );
    if let Some(w) = &weights {
        // Downloads when missing; renames the old keys (densenet_key).
        w.load_into(&model)?;
    }
    Ok(model)
}

/// torchvision's `densenet121(weights=None)`: growth rate 32, blocks
/// `(6, 12, 24, 16)`, 8.0 M parameters. With weights, they are loaded
/// (strictly, after [`densenet_key`]'s renaming) and set `num_classes`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(models::densenet121(None)?.num_parameters(), 7_978_856);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn densenet121(weights: Option<Weights>) -> Result<DenseNet> {
    densenet121_with(weights, ModelOptions::new())
}

/// [`densenet121`] with keyword arguments: `num_classes`, `memory_efficient`.
pub fn densenet121_with(weights: Option<Weights>, options: ModelOptions) -> Result<DenseNet> {
    densenet("densenet121", 32, &[6, 12, 24, 16], 64, weights, options)
}
