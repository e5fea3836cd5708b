//! torchvision's RegNet (`torchvision/models/regnet.py`): `regnet_y_400mf`,
//! from the generic [`BlockParams::from_init_params`] and [`RegNet`].

use tch::{Device, Kind, Tensor};

use super::ops::{make_divisible, Conv2dNormActivation, SqueezeExcitation};
use super::options::{init, init_fan_out_convs, load_weights, ModelOptions};
use super::weights::Weights;
use crate::error::{Error, Result};
use crate::nn::{AdaptiveAvgPool2d, ForwardHooks, Linear, Module, ReLU, Sequential};

/// torchvision's `BlockParams`: each stage's depth, width, group width,
/// bottleneck multiplier and stride, and the squeeze-and-excitation ratio.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockParams {
    /// Blocks per stage.
    pub depths: Vec<i64>,
    /// Each stage's output channels.
    pub widths: Vec<i64>,
    /// Channels per group of each stage's 3×3 convolution.
    pub group_widths: Vec<i64>,
    /// Each stage's bottleneck width over its output width.
    pub bottleneck_multipliers: Vec<f64>,
    /// Each stage's stride (2).
    pub strides: Vec<i64>,
    /// The squeeze-and-excitation ratio (RegNetY), or none (RegNetX).
    pub se_ratio: Option<f64>,
}

impl BlockParams {
    /// `BlockParams.from_init_params(depth, w_0, w_a, w_m, group_width,
    /// bottleneck_multiplier=1.0, se_ratio=None)`: the stages of RegNet's
    /// quantised linear width rule, computed as torchvision computes them
    /// (in float32).
    ///
    /// ```
    /// use cnn_lab::models::BlockParams;
    /// // regnet_y_400mf
    /// let p = BlockParams::from_init_params(16, 48, 27.89, 2.09, 8, 1.0, Some(0.25))?;
    /// assert_eq!(p.depths, [1, 3, 6, 6]);
    /// assert_eq!(p.widths, [48, 104, 208, 440]);
    /// assert!(BlockParams::from_init_params(16, 50, 27.89, 2.09, 8, 1.0, None).is_err());
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn from_init_params(
        depth: i64,
        w_0: i64,
        w_a: f64,
        w_m: f64,
        group_width: i64,
        bottleneck_multiplier: f64,
        se_ratio: Option<f64>,
    ) -> Result<BlockParams> {
        const QUANT: i64 = 8;
        const STRIDE: i64 = 2;
        if w_a < 0.0 || w_0 <= 0 || w_m <= 1.0 || w_0 % 8 != 0 || depth <= 0 || group_width <= 0 {
            return Err(Error::InvalidArgument(format!(
                "Invalid RegNet settings: depth={depth}, w_0={w_0}, w_a={w_a}, w_m={w_m}, \
                 group_width={group_width} (torchvision wants w_a >= 0, w_m > 1, w_0 a \
                 positive multiple of 8)"
            )));
        }
        // torch.arange(depth) * w_a + w_0, and the rest in float32 as torchvision has it.
        let widths_cont = Tensor::arange(depth, (Kind::Int64, Device::Cpu)) * w_a + w_0;
        let block_capacity = ((widths_cont / w_0 as f64).log() / w_m.ln()).round();
        let block_widths =
            ((Tensor::pow_scalar(w_m, &block_capacity) * w_0) / QUANT).round() * QUANT;
        let block_widths: Vec<i64> = Vec::<i32>::try_from(&block_widths.to_kind(Kind::Int))
            .map_err(|e| Error::InvalidArgument(format!("RegNet block widths: {e}")))?
            .into_iter()
            .map(i64::from)
            .collect();
        // A stage starts wherever the width changes.
        let mut widths = Vec::new();
        let mut starts = Vec::new();
        for (i, &w) in block_widths.iter().enumerate() {
            if i == 0 || w != block_widths[i - 1] {
                widths.push(w);
                starts.push(i as i64);
            }
        }
        starts.push(depth);
        let depths: Vec<i64> = starts.windows(2).map(|s| s[1] - s[0]).collect();
        let num_stages = widths.len();
        let bottleneck_multipliers = vec![bottleneck_multiplier; num_stages];
        // _adjust_widths_groups_compatibilty: bottleneck widths a multiple of the group width.
        let mut group_widths = Vec::with_capacity(num_stages);
        for w in &mut widths {
            let w_bot = (*w as f64 * bottleneck_multiplier) as i64;
            let g = group_width.min(w_bot);
            let w_bot = make_divisible(w_bot as f64, g);
            *w = (w_bot as f64 / bottleneck_multiplier) as i64;
            group_widths.push(g);
        }
        Ok(BlockParams {
            depths,
            widths,
            group_widths,
            bottleneck_multipliers,
            strides: vec![STRIDE; num_stages],
            se_ratio,
        })
    }
}

/// What every block of a RegNet shares (torchvision passes them down
/// `AnyStage` → `ResBottleneckBlock` → `BottleneckTransform` one by one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BottleneckConfig {
    /// Channels per group of the 3×3 convolution.
    pub group_width: i64,
    /// The bottleneck width over the output width.
    pub bottleneck_multiplier: f64,
    /// The squeeze-and-excitation ratio (to the block's input width), or none.
    pub se_ratio: Option<f64>,
}

/// torchvision's `BottleneckTransform` (an `nn.Sequential`): `a` (1×1),
/// `b` (3×3, grouped, `stride`), `se` (a [`SqueezeExcitation`], RegNetY)
/// and `c` (1×1, no activation). It dereferences to its [`Sequential`].
pub struct BottleneckTransform {
    layers: Sequential,
    hooks: ForwardHooks,
}

impl BottleneckTransform {
    /// `BottleneckTransform(width_in, width_out, stride, nn.BatchNorm2d,
    /// nn.ReLU, group_width, bottleneck_multiplier, se_ratio)`.
    pub fn new(width_in: i64, width_out: i64, stride: i64, cfg: BottleneckConfig) -> Self {
        let w_b = (width_out as f64 * cfg.bottleneck_multiplier).round_ties_even() as i64;
        let g = w_b / cfg.group_width;
        let mut layers = Sequential::new();
        layers.add_module("a", Conv2dNormActivation::new(width_in, w_b).kernel_size(1));
        layers.add_module(
            "b",
            Conv2dNormActivation::new(w_b, w_b).stride(stride).groups(g),
        );
        if let Some(ratio) = cfg.se_ratio.filter(|r| *r != 0.0) {
            let width_se_out = (ratio * width_in as f64).round_ties_even() as i64;
            layers.add_module("se", SqueezeExcitation::new(w_b, width_se_out));
        }
        layers.add_module(
            "c",
            Conv2dNormActivation::new(w_b, width_out)
                .kernel_size(1)
                .activation_layer(None),
        );
        BottleneckTransform {
            layers,
            hooks: ForwardHooks::default(),
        }
    }
}

sequential_subclass!(BottleneckTransform, |_s| "BottleneckTransform");

/// torchvision's `ResBottleneckBlock`: `activation(x + f(x))`, the input
/// projected (`proj`, a 1×1 convolution and BatchNorm) where the shape changes.
#[derive(Module)]
#[module(name = "ResBottleneckBlock")]
pub struct ResBottleneckBlock {
    /// The shortcut's projection, where the width or the stride changes.
    pub proj: Option<Conv2dNormActivation>,
    /// The residual branch.
    pub f: BottleneckTransform,
    /// `ReLU(inplace=True)`.
    pub activation: ReLU,
}

impl ResBottleneckBlock {
    /// `ResBottleneckBlock(width_in, width_out, stride, nn.BatchNorm2d,
    /// nn.ReLU, group_width, bottleneck_multiplier, se_ratio)`.
    pub fn new(width_in: i64, width_out: i64, stride: i64, cfg: BottleneckConfig) -> Self {
        let proj = (width_in != width_out || stride != 1).then(|| {
            Conv2dNormActivation::new(width_in, width_out)
                .kernel_size(1)
                .stride(stride)
                .activation_layer(None)
        });
        ResBottleneckBlock {
            proj,
            f: BottleneckTransform::new(width_in, width_out, stride, cfg),
            activation: ReLU::new().inplace(true),
        }
    }

    /// `activation(proj(x) + f(x))` (or `x + f(x)`).
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let shortcut = match &self.proj {
            Some(proj) => x.apply_t(proj, train),
            None => x.shallow_clone(),
        };
        (shortcut + x.apply_t(&self.f, train)).apply_t(&self.activation, train)
    }
}

/// torchvision's `AnyStage` (an `nn.Sequential`): `depth`
/// [`ResBottleneckBlock`]s named `block{stage}-{i}`, the first with the
/// stage's stride. It dereferences to its [`Sequential`].
pub struct AnyStage {
    layers: Sequential,
    hooks: ForwardHooks,
}

impl AnyStage {
    /// `AnyStage(width_in, width_out, stride, depth, ResBottleneckBlock,
    /// nn.BatchNorm2d, nn.ReLU, group_width, bottleneck_multiplier,
    /// se_ratio, stage_index)`.
    pub fn new(
        width_in: i64,
        width_out: i64,
        stride: i64,
        depth: i64,
        cfg: BottleneckConfig,
        stage_index: i64,
    ) -> AnyStage {
        let mut layers = Sequential::new();
        for i in 0..depth {
            let (width_in, stride) = if i == 0 {
                (width_in, stride)
            } else {
                (width_out, 1)
            };
            layers.add_module(
                &format!("block{stage_index}-{i}"),
                ResBottleneckBlock::new(width_in, width_out, stride, cfg),
            );
        }
        AnyStage {
            layers,
            hooks: ForwardHooks::default(),
        }
    }
}

sequential_subclass!(AnyStage, |_s| "AnyStage");

/// torchvision's `RegNet`: `stem` (`SimpleStemIN`: a 3×3 stride-2
/// convolution, BatchNorm, ReLU), `trunk_output` (a named [`Sequential`] of
/// [`AnyStage`]s, `block1` …), `avgpool` and `fc`. A new head is
/// `model.fc = Linear::new(440, 2)` (regnet_y_400mf).
///
/// ```
/// use cnn_lab::*;
/// let mut model = models::regnet_y_400mf(None)?;
/// model.fc = Linear::new(440, 2);
/// let x = Tensor::zeros([1, 3, 32, 32], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [1, 2]);
/// assert!(model.to_string().starts_with("RegNet(\n  (stem): SimpleStemIN("));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Module)]
#[module(name = "RegNet")]
pub struct RegNet {
    /// `SimpleStemIN(3, stem_width)`.
    pub stem: Conv2dNormActivation,
    /// The stages, `block1` … `block4`.
    pub trunk_output: Sequential,
    /// `AdaptiveAvgPool2d((1, 1))`.
    pub avgpool: AdaptiveAvgPool2d,
    /// `Linear(last width, num_classes)`.
    pub fc: Linear,
}

impl RegNet {
    /// `RegNet(block_params, num_classes=1000, stem_width=32)` with
    /// torchvision's defaults (`SimpleStemIN`, `ResBottleneckBlock`,
    /// `BatchNorm2d`, `ReLU`) and its ResNet-style initialisation.
    pub fn new(block_params: &BlockParams, num_classes: i64, stem_width: i64) -> RegNet {
        let stem = Conv2dNormActivation::new(3, stem_width)
            .stride(2)
            .subclass("SimpleStemIN");
        let mut trunk_output = Sequential::new();
        let mut current_width = stem_width;
        let p = block_params;
        for i in 0..p.widths.len() {
            trunk_output.add_module(
                &format!("block{}", i + 1),
                AnyStage::new(
                    current_width,
                    p.widths[i],
                    p.strides[i],
                    p.depths[i],
                    BottleneckConfig {
                        group_width: p.group_widths[i],
                        bottleneck_multiplier: p.bottleneck_multipliers[i],
                        se_ratio: p.se_ratio,
                    },
                    i as i64 + 1,
                ),
            );
            current_width = p.widths[i];
        }
        let model = RegNet {
            stem,
            trunk_output,
            avgpool: AdaptiveAvgPool2d::new((1, 1)),
            fc: Linear::new(current_width, num_classes),
        };
        // normal_(std=sqrt(2 / fan_out)) on the convolutions' weights only:
        // the squeeze-and-excitation convolutions keep PyTorch's bias
        // (BatchNorm's ones and zeros are its defaults).
        init_fan_out_convs(&model, false, Some(&|w| init::normal(w, 0.0, 0.01)));
        model
    }

    /// `stem`, `trunk_output`, `avgpool`, `flatten(1)`, `fc`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.stem, train)
            .apply_t(&self.trunk_output, train)
            .apply_t(&self.avgpool, train)
            .flatten(1, -1)
            .apply_t(&self.fc, train)
    }
}

/// torchvision's `regnet_y_400mf(weights=None)`: 4.3 M parameters. With
/// weights, they are loaded (strictly) and set `num_classes`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(models::regnet_y_400mf(None)?.num_parameters(), 4_344_144);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn regnet_y_400mf(weights: Option<Weights>) -> Result<RegNet> {
    regnet_y_400mf_with(weights, ModelOptions::new())
}

/// [`regnet_y_400mf`] with keyword arguments: `num_classes`.
pub fn regnet_y_400mf_with(weights: Option<Weights>, options: ModelOptions) -> Result<RegNet> {
    options.only("regnet_y_400mf", &["num_classes"])?;
    let num_classes = options.classes(weights.as_ref())?;
    let params = BlockParams::from_init_params(16, 48, 27.89, 2.09, 8, 1.0, Some(0.25))?;
    load_weights(RegNet::new(&params, num_classes, 32), weights.as_ref())
}
