//! The building blocks torchvision keeps in `torchvision.ops`:
//! `Conv2dNormActivation`, `SqueezeExcitation` and `StochasticDepth`
//! (`torchvision/ops/misc.py`, `torchvision/ops/stochastic_depth.py`).

use tch::{Kind, Tensor};

use crate::nn::{
    record_forward, AdaptiveAvgPool2d, BatchNorm2d, Conv2d, ForwardHooks, Module, NamedTensor,
    ReLU, Sequential, Sigmoid,
};
use crate::pyfmt::py_float;

/// A norm layer for `num_features` channels (torchvision's `norm_layer`
/// callable, e.g. `nn.BatchNorm2d` or `partial(nn.BatchNorm2d, eps=0.001)`).
pub type NormLayer = fn(i64) -> Box<dyn Module + Send>;

/// An activation built with PyTorch's `inplace` flag (torchvision's
/// `activation_layer(inplace=True)`); what it does with the flag is its own
/// (`ReLU` prints it, `Hardswish` does not).
pub type ActivationLayer = fn(bool) -> Box<dyn Module + Send>;

/// `nn.BatchNorm2d` as a [`NormLayer`] (the default).
pub fn batch_norm(num_features: i64) -> Box<dyn Module + Send> {
    Box::new(BatchNorm2d::new(num_features))
}

/// `nn.ReLU` as an [`ActivationLayer`] (the default).
pub fn relu(inplace: bool) -> Box<dyn Module + Send> {
    Box::new(ReLU::new().inplace(inplace))
}

/// `nn.ReLU6` as an [`ActivationLayer`] (MobileNetV2).
pub fn relu6(inplace: bool) -> Box<dyn Module + Send> {
    Box::new(crate::nn::ReLU6::new().inplace(inplace))
}

/// `nn.Hardswish` as an [`ActivationLayer`] (MobileNetV3; prints no flag).
pub fn hardswish(_inplace: bool) -> Box<dyn Module + Send> {
    Box::new(crate::nn::Hardswish::new())
}

/// `nn.SiLU` as an [`ActivationLayer`] (EfficientNet).
pub fn silu(inplace: bool) -> Box<dyn Module + Send> {
    Box::new(crate::nn::SiLU::new().inplace(inplace))
}

/// `torchvision.ops.Conv2dNormActivation(in_channels, out_channels,
/// kernel_size=3, stride=1, padding=None, groups=1,
/// norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1,
/// inplace=True, bias=None)`: a `Sequential` subclass of `Conv2d` (padding
/// `(kernel_size - 1) // 2 * dilation` unless given, a bias only without a
/// norm layer), the norm layer and the activation, named `0`, `1`, `2`.
/// It dereferences to its [`Sequential`] (`block[0]`, `block.set(…)`).
///
/// ```
/// use cnn_lab::*;
/// use cnn_lab::models::ops::{self, Conv2dNormActivation};
/// let block = Conv2dNormActivation::new(3, 16).stride(2).activation_layer(Some(ops::hardswish));
/// assert_eq!(
///     block.to_string(),
///     "Conv2dNormActivation(\n  (0): Conv2d(3, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)\n  \
///      (1): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)\n  (2): Hardswish()\n)"
/// );
/// let x = Tensor::zeros([1, 3, 8, 8], (Kind::Float, Device::Cpu));
/// assert_eq!(block.forward_t(&x, false).size(), [1, 16, 4, 4]);
/// assert_eq!(block.state_dict()[0].0, "0.weight");
/// ```
pub struct Conv2dNormActivation {
    in_channels: i64,
    out_channels: i64,
    kernel_size: i64,
    stride: i64,
    padding: Option<i64>,
    groups: i64,
    dilation: i64,
    inplace: bool,
    bias: Option<bool>,
    norm_layer: Option<NormLayer>,
    activation_layer: Option<ActivationLayer>,
    name: &'static str,
    layers: Sequential,
    hooks: ForwardHooks,
}

impl Conv2dNormActivation {
    /// The block with torchvision's defaults (3×3, stride 1, `BatchNorm2d`, `ReLU(inplace=True)`).
    pub fn new(in_channels: i64, out_channels: i64) -> Conv2dNormActivation {
        Conv2dNormActivation {
            in_channels,
            out_channels,
            kernel_size: 3,
            stride: 1,
            padding: None,
            groups: 1,
            dilation: 1,
            inplace: true,
            bias: None,
            norm_layer: Some(batch_norm),
            activation_layer: Some(relu),
            name: "Conv2dNormActivation",
            layers: Sequential::new(),
            hooks: ForwardHooks::default(),
        }
        .rebuilt()
    }

    fn rebuilt(mut self) -> Self {
        let padding = self
            .padding
            .unwrap_or((self.kernel_size - 1) / 2 * self.dilation);
        let bias = self.bias.unwrap_or(self.norm_layer.is_none());
        let mut layers = Sequential::new().add(
            Conv2d::new(self.in_channels, self.out_channels, self.kernel_size)
                .stride(self.stride)
                .padding(padding)
                .dilation(self.dilation)
                .groups(self.groups)
                .bias(bias),
        );
        if let Some(norm) = self.norm_layer {
            layers.push_boxed(norm(self.out_channels));
        }
        if let Some(activation) = self.activation_layer {
            layers.push_boxed(activation(self.inplace));
        }
        self.layers = layers;
        self
    }

    /// `kernel_size` (default 3).
    pub fn kernel_size(mut self, kernel_size: i64) -> Self {
        self.kernel_size = kernel_size;
        self.rebuilt()
    }

    /// `stride` (default 1).
    pub fn stride(mut self, stride: i64) -> Self {
        self.stride = stride;
        self.rebuilt()
    }

    /// `padding` (default `(kernel_size - 1) // 2 * dilation`).
    pub fn padding(mut self, padding: i64) -> Self {
        self.padding = Some(padding);
        self.rebuilt()
    }

    /// `groups` (default 1; `in_channels` for a depthwise convolution).
    pub fn groups(mut self, groups: i64) -> Self {
        self.groups = groups;
        self.rebuilt()
    }

    /// `dilation` (default 1).
    pub fn dilation(mut self, dilation: i64) -> Self {
        self.dilation = dilation;
        self.rebuilt()
    }

    /// `inplace` (default `true`), passed to the activation.
    pub fn inplace(mut self, inplace: bool) -> Self {
        self.inplace = inplace;
        self.rebuilt()
    }

    /// `bias` of the convolution (default: only without a norm layer).
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = Some(bias);
        self.rebuilt()
    }

    /// `norm_layer` (default [`batch_norm`]); `None` for no norm layer.
    pub fn norm_layer(mut self, norm_layer: Option<NormLayer>) -> Self {
        self.norm_layer = norm_layer;
        self.rebuilt()
    }

    /// `activation_layer` (default [`relu`]); `None` for no activation.
    pub fn activation_layer(mut self, activation_layer: Option<ActivationLayer>) -> Self {
        self.activation_layer = activation_layer;
        self.rebuilt()
    }

    /// The block as a subclass named `name` prints it (RegNet's `SimpleStemIN`).
    pub(crate) fn subclass(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// `out_channels`, as torchvision keeps it on the block.
    pub fn out_channels(&self) -> i64 {
        self.out_channels
    }
}

sequential_subclass!(Conv2dNormActivation, |block| block.name);

/// `torchvision.ops.SqueezeExcitation(input_channels, squeeze_channels,
/// activation=nn.ReLU, scale_activation=nn.Sigmoid)`: each channel scaled by
/// a gate computed from the channel means (`avgpool`, `fc1`, `activation`,
/// `fc2`, `scale_activation`), as in MobileNetV3 and EfficientNet.
///
/// ```
/// use cnn_lab::*;
/// use cnn_lab::models::ops::SqueezeExcitation;
/// let se = SqueezeExcitation::new(16, 4).activation(SiLU::new());
/// assert_eq!(
///     se.to_string(),
///     "SqueezeExcitation(\n  (avgpool): AdaptiveAvgPool2d(output_size=1)\n  \
///      (fc1): Conv2d(16, 4, kernel_size=(1, 1), stride=(1, 1))\n  \
///      (fc2): Conv2d(4, 16, kernel_size=(1, 1), stride=(1, 1))\n  (activation): SiLU()\n  (scale_activation): Sigmoid()\n)"
/// );
/// let x = Tensor::ones([2, 16, 5, 5], (Kind::Float, Device::Cpu));
/// assert_eq!(se.forward_t(&x, false).size(), [2, 16, 5, 5]);
/// ```
#[derive(Module)]
#[module(name = "SqueezeExcitation")]
pub struct SqueezeExcitation {
    /// `AdaptiveAvgPool2d(1)`.
    pub avgpool: AdaptiveAvgPool2d,
    /// `Conv2d(input_channels, squeeze_channels, 1)`.
    pub fc1: Conv2d,
    /// `Conv2d(squeeze_channels, input_channels, 1)`.
    pub fc2: Conv2d,
    /// Between `fc1` and `fc2` (default `ReLU()`).
    pub activation: Box<dyn Module + Send>,
    /// The gate (default `Sigmoid()`).
    pub scale_activation: Box<dyn Module + Send>,
}

impl SqueezeExcitation {
    /// The block with `ReLU` and `Sigmoid`.
    pub fn new(input_channels: i64, squeeze_channels: i64) -> SqueezeExcitation {
        SqueezeExcitation {
            avgpool: AdaptiveAvgPool2d::new(1),
            fc1: Conv2d::new(input_channels, squeeze_channels, 1),
            fc2: Conv2d::new(squeeze_channels, input_channels, 1),
            activation: Box::new(ReLU::new()),
            scale_activation: Box::new(Sigmoid::new()),
        }
    }

    /// `activation` between the two 1×1 convolutions.
    pub fn activation<M: Module + Send + 'static>(mut self, activation: M) -> Self {
        self.activation = Box::new(activation);
        self
    }

    /// `scale_activation`, the gate.
    pub fn scale_activation<M: Module + Send + 'static>(mut self, scale_activation: M) -> Self {
        self.scale_activation = Box::new(scale_activation);
        self
    }

    /// `forward`: `input * scale(input)`.
    pub fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        let scale = xs.apply_t(&self.avgpool, train).apply_t(&self.fc1, train);
        let scale = self.activation.forward_t(&scale, train);
        let scale = scale.apply_t(&self.fc2, train);
        let scale = self.scale_activation.forward_t(&scale, train);
        scale * xs
    }
}

/// `torchvision.ops.StochasticDepth(p, mode)`: in training, drops the whole
/// input (`mode="batch"`) or each sample (`mode="row"`) with probability
/// `p` and scales the survivors by `1 / (1 - p)`; the identity in eval mode.
///
/// ```
/// use cnn_lab::*;
/// use cnn_lab::models::ops::StochasticDepth;
/// let sd = StochasticDepth::new(0.2, "row");
/// assert_eq!(sd.to_string(), "StochasticDepth(p=0.2, mode=row)");
/// let x = Tensor::ones([64, 3], (Kind::Float, Device::Cpu));
/// assert_eq!(sd.forward_t(&x, false).sum(Kind::Float).double_value(&[]), 192.0);
/// let kept = sd.forward_t(&x, true).select(1, 0);
/// assert!(kept.eq(0.0).logical_or(&kept.eq(1.25)).all().int64_value(&[]) == 1);
/// assert!(StochasticDepth::new(0.2, "col").validate().is_err());
/// ```
pub struct StochasticDepth {
    p: f64,
    mode: String,
    hooks: ForwardHooks,
}

impl StochasticDepth {
    /// Stochastic depth with drop probability `p`, `mode` `"row"` or `"batch"`.
    pub fn new(p: f64, mode: &str) -> StochasticDepth {
        StochasticDepth {
            p,
            mode: mode.to_string(),
            hooks: ForwardHooks::default(),
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl Module for StochasticDepth {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || {
            if let Some(problem) = self.config_error() {
                panic!("StochasticDepth({}): {problem}", self.extra_repr());
            }
            if !train || self.p == 0.0 {
                return xs.shallow_clone();
            }
            let survival = 1.0 - self.p;
            let mut shape = vec![1i64; xs.dim()];
            if self.mode == "row" && !shape.is_empty() {
                shape[0] = xs.size()[0];
            }
            let mut noise = Tensor::empty(&shape, (Kind::Float, xs.device())).to_kind(xs.kind());
            let _ = noise.bernoulli_float_(survival);
            if survival > 0.0 {
                noise /= survival;
            }
            xs * noise
        })
    }

    fn type_name(&self) -> String {
        "StochasticDepth".into()
    }

    fn extra_repr(&self) -> String {
        format!("p={}, mode={}", py_float(self.p), self.mode)
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        Vec::new()
    }

    fn config_error(&self) -> Option<String> {
        if !(0.0..=1.0).contains(&self.p) {
            Some(format!(
                "drop probability has to be between 0 and 1, but got {}",
                py_float(self.p)
            ))
        } else if self.mode != "row" && self.mode != "batch" {
            Some(format!(
                "mode has to be either 'batch' or 'row', but got {}",
                self.mode
            ))
        } else {
            None
        }
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }
}

model_traits!(StochasticDepth);

/// torchvision's `_make_divisible(v, divisor, min_value=None)`: `v` rounded
/// to the nearest multiple of `divisor`, never below 90 % of `v`.
pub(crate) fn make_divisible(v: f64, divisor: i64) -> i64 {
    let min_value = divisor;
    let mut new_v = min_value.max((v + divisor as f64 / 2.0) as i64 / divisor * divisor);
    if (new_v as f64) < 0.9 * v {
        new_v += divisor;
    }
    new_v
}

/// `torchvision.ops.Permute(dims)`: `x.permute(dims)` as a layer (ConvNeXt
/// moves the channels last around its `LayerNorm` and `Linear` layers).
///
/// ```
/// use cnn_lab::*;
/// use cnn_lab::models::ops::Permute;
/// let p = Permute::new(&[0, 2, 3, 1]);
/// assert_eq!(p.to_string(), "Permute()");
/// let x = Tensor::zeros([1, 3, 4, 5], (Kind::Float, Device::Cpu));
/// assert_eq!(p.forward_t(&x, false).size(), [1, 4, 5, 3]);
/// ```
pub struct Permute {
    dims: Vec<i64>,
    hooks: ForwardHooks,
}

impl Permute {
    /// The permutation `dims`.
    pub fn new(dims: &[i64]) -> Permute {
        Permute {
            dims: dims.to_vec(),
            hooks: ForwardHooks::default(),
        }
    }
}

impl Module for Permute {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || xs.permute(self.dims.as_slice()))
    }

    fn type_name(&self) -> String {
        "Permute".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }
}

model_traits!(Permute);
