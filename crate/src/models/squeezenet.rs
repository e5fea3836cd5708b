//! torchvision's SqueezeNet (`torchvision/models/squeezenet.py`):
//! `squeezenet1_0`, `squeezenet1_1`.

use tch::Tensor;

use super::options::{init, init_each, init_weight_zero_bias, load_weights, ModelOptions};
use super::weights::Weights;
use crate::error::Result;
use crate::nn::{AdaptiveAvgPool2d, Conv2d, Dropout, MaxPool2d, Module, ReLU, Sequential};

/// torchvision's `Fire` module: a 1×1 `squeeze`, then 1×1 and 3×3
/// `expand` convolutions whose outputs are concatenated.
#[derive(Module)]
#[module(name = "Fire")]
pub struct Fire {
    /// `Conv2d(inplanes, squeeze_planes, 1)`.
    pub squeeze: Conv2d,
    /// `ReLU(inplace=True)`.
    pub squeeze_activation: ReLU,
    /// `Conv2d(squeeze_planes, expand1x1_planes, 1)`.
    pub expand1x1: Conv2d,
    /// `ReLU(inplace=True)`.
    pub expand1x1_activation: ReLU,
    /// `Conv2d(squeeze_planes, expand3x3_planes, 3, padding=1)`.
    pub expand3x3: Conv2d,
    /// `ReLU(inplace=True)`.
    pub expand3x3_activation: ReLU,
}

impl Fire {
    /// `Fire(inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes)`.
    pub fn new(inplanes: i64, squeeze_planes: i64, expand1x1: i64, expand3x3: i64) -> Fire {
        Fire {
            squeeze: Conv2d::new(inplanes, squeeze_planes, 1),
            squeeze_activation: ReLU::new().inplace(true),
            expand1x1: Conv2d::new(squeeze_planes, expand1x1, 1),
            expand1x1_activation: ReLU::new().inplace(true),
            expand3x3: Conv2d::new(squeeze_planes, expand3x3, 3).padding(1),
            expand3x3_activation: ReLU::new().inplace(true),
        }
    }

    /// `cat([relu(expand1x1(s)), relu(expand3x3(s))], 1)` with `s = relu(squeeze(x))`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let s = x
            .apply_t(&self.squeeze, train)
            .apply_t(&self.squeeze_activation, train);
        let a = s
            .apply_t(&self.expand1x1, train)
            .apply_t(&self.expand1x1_activation, train);
        let b = s
            .apply_t(&self.expand3x3, train)
            .apply_t(&self.expand3x3_activation, train);
        Tensor::cat(&[a, b], 1)
    }
}

/// torchvision's `SqueezeNet`: `features` (a stem and [`Fire`] modules)
/// and a convolutional `classifier` (Dropout, `final_conv` 1×1 to
/// `num_classes`, ReLU, global average pooling).
///
/// ```
/// use cnn_lab::*;
/// let model = models::squeezenet1_1(None)?;
/// let x = Tensor::zeros([1, 3, 64, 64], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [1, 1000]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Module)]
#[module(name = "SqueezeNet")]
pub struct SqueezeNet {
    /// The stem and the Fire modules.
    pub features: Sequential,
    /// Dropout, `final_conv`, ReLU, `AdaptiveAvgPool2d((1, 1))`.
    pub classifier: Sequential,
}

impl SqueezeNet {
    fn build(version: &str, num_classes: i64, dropout: f64) -> SqueezeNet {
        let pool = || MaxPool2d::new(3).stride(2).ceil_mode(true);
        let relu = || ReLU::new().inplace(true);
        let features = if version == "1_0" {
            Sequential::new()
                .add(Conv2d::new(3, 96, 7).stride(2))
                .add(relu())
                .add(pool())
                .add(Fire::new(96, 16, 64, 64))
                .add(Fire::new(128, 16, 64, 64))
                .add(Fire::new(128, 32, 128, 128))
                .add(pool())
                .add(Fire::new(256, 32, 128, 128))
                .add(Fire::new(256, 48, 192, 192))
                .add(Fire::new(384, 48, 192, 192))
                .add(Fire::new(384, 64, 256, 256))
                .add(pool())
                .add(Fire::new(512, 64, 256, 256))
        } else {
            Sequential::new()
                .add(Conv2d::new(3, 64, 3).stride(2))
                .add(relu())
                .add(pool())
                .add(Fire::new(64, 16, 64, 64))
                .add(Fire::new(128, 16, 64, 64))
                .add(pool())
                .add(Fire::new(128, 32, 128, 128))
                .add(Fire::new(256, 32, 128, 128))
                .add(pool())
                .add(Fire::new(256, 48, 192, 192))
                .add(Fire::new(384, 48, 192, 192))
                .add(Fire::new(384, 64, 256, 256))
                .add(Fire::new(512, 64, 256, 256))
        };
        let model = SqueezeNet {
            features,
            classifier: Sequential::new()
                .add(Dropout::new(dropout))
                .add(Conv2d::new(512, num_classes, 1))
                .add(relu())
                .add(AdaptiveAvgPool2d::new((1, 1))),
        };
        init_each(&model, |path, m| {
            if m.type_name() == "Conv2d" {
                if path == "classifier.1" {
                    init_weight_zero_bias(m, |w| init::normal(w, 0.0, 0.01));
                } else {
                    init_weight_zero_bias(m, init::kaiming_uniform);
                }
            }
        });
        model
    }

    /// `features`, `classifier`, `flatten(1)`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.features, train)
            .apply_t(&self.classifier, train)
            .flatten(1, -1)
    }
}

fn squeezenet(
    version: &str,
    weights: Option<Weights>,
    options: ModelOptions,
) -> Result<SqueezeNet> {
    options.only(&format!("squeezenet{version}"), &["num_classes", "dropout"])?;
    let num_classes = options.classes(weights.as_ref())?;
    let model = SqueezeNet::build(version, num_classes, options.dropout.unwrap_or(0.5));
    load_weights(model, weights.as_ref())
}

/// torchvision's `squeezenet1_0(weights=None)`: 1.25 M parameters. With
/// weights, they are loaded (strictly) and set `num_classes`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(models::squeezenet1_0(None)?.num_parameters(), 1_248_424);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn squeezenet1_0(weights: Option<Weights>) -> Result<SqueezeNet> {
    squeezenet1_0_with(weights, ModelOptions::new())
}

/// [`squeezenet1_0`] with keyword arguments: `num_classes`, `dropout` (0.5).
pub fn squeezenet1_0_with(weights: Option<Weights>, options: ModelOptions) -> Result<SqueezeNet> {
    squeezenet("1_0", weights, options)
}

/// torchvision's `squeezenet1_1(weights=None)`: 1.24 M parameters, 2.4×
/// less computation than 1.0. With weights, they are loaded (strictly) and
/// set `num_classes`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(models::squeezenet1_1(None)?.num_parameters(), 1_235_496);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn squeezenet1_1(weights: Option<Weights>) -> Result<SqueezeNet> {
    squeezenet1_1_with(weights, ModelOptions::new())
}

/// [`squeezenet1_1`] with keyword arguments: `num_classes`, `dropout` (0.5).
pub fn squeezenet1_1_with(weights: Option<Weights>, options: ModelOptions) -> Result<SqueezeNet> {
    squeezenet("1_1", weights, options)
}
