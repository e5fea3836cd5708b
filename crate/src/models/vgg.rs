//! torchvision's VGG (`torchvision/models/vgg.py`): `vgg11`, `vgg13`,
//! `vgg16`, `vgg19` and their `_bn` forms.

use tch::Tensor;

use super::options::{
    init, init_fan_out_convs, load_weights, pool_classify, pool_classify_stages, ModelOptions,
};
use super::weights::Weights;
use crate::error::Result;
use crate::nn::{
    AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, Module, ReLU, Sequential,
    Stage,
};

/// torchvision's `VGG`: `features` (3×3 convolutions, optionally with
/// BatchNorm, and 2×2 max-pools), `avgpool` to 7×7 and a three-layer
/// `classifier`. Replace the head with
/// `model.classifier.set(6, Linear::new(4096, 2))?`.
///
/// ```
/// use cnn_lab::*;
/// let mut model = models::vgg11(None)?;
/// model.classifier.set(6, Linear::new(4096, 2))?;
/// let x = Tensor::zeros([1, 3, 32, 32], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [1, 2]);
/// assert_eq!(model.state_dict().last().unwrap().1.size(), [2]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Module)]
#[module(name = "VGG", chain)]
pub struct VGG {
    /// The convolutional layers.
    pub features: Sequential,
    /// `AdaptiveAvgPool2d((7, 7))`.
    pub avgpool: AdaptiveAvgPool2d,
    /// `Linear(25088, 4096)`, ReLU, Dropout, `Linear(4096, 4096)`, ReLU,
    /// Dropout, `Linear(4096, num_classes)`.
    pub classifier: Sequential,
}

const A: &[i64] = &[64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];
const B: &[i64] = &[
    64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0,
];
const D: &[i64] = &[
    64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0,
];
const E: &[i64] = &[
    64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0,
];

/// torchvision's `make_layers(cfg, batch_norm)`; 0 stands for `"M"`.
fn make_layers(cfg: &[i64], batch_norm: bool) -> Sequential {
    let mut layers = Sequential::new();
    let mut in_channels = 3;
    for &v in cfg {
        if v == 0 {
            layers.push(MaxPool2d::new(2).stride(2));
        } else {
            layers.push(Conv2d::new(in_channels, v, 3).padding(1));
            if batch_norm {
                layers.push(BatchNorm2d::new(v));
            }
            layers.push(ReLU::new().inplace(true));
            in_channels = v;
        }
    }
    layers
}

impl VGG {
    fn build(features: Sequential, num_classes: i64, dropout: f64, init_weights: bool) -> VGG {
        let model = VGG {
            features,
            avgpool: AdaptiveAvgPool2d::new((7, 7)),
            classifier: Sequential::new()
                .add(Linear::new(512 * 7 * 7, 4096))
                .add(ReLU::new().inplace(true))
                .add(Dropout::new(dropout))
                .add(Linear::new(4096, 4096))
                .add(ReLU::new().inplace(true))
                .add(Dropout::new(dropout))
                .add(Linear::new(4096, num_classes)),
        };
        if init_weights {
            init_fan_out_convs(&model, true, Some(&|w| init::normal(w, 0.0, 0.01)));
        }
        model
    }

    /// `features`, `avgpool`, `flatten(1)`, `classifier`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        pool_classify(x, &self.features, &self.avgpool, &self.classifier, train)
    }

    /// The forward pass as a chain ([`Module::chain`]): `features`, `avgpool`, `flatten(1)`, `classifier`.
    pub fn stages(&self) -> Vec<Stage<'_>> {
        pool_classify_stages(&self.features, &self.avgpool, &self.classifier)
    }
}

fn vgg(
    name: &str,
    cfg: &[i64],
    batch_norm: bool,
    weights: Option<Weights>,
    options: ModelOptions,
) -> Result<VGG> {
    options.only(name, &["num_classes", "dropout", "init_weights"])?;
    let num_classes = options.classes(weights.as_ref())?;
    let init_weights = options.init_weights.unwrap_or(true) && weights.is_none();
    let model = VGG::build(
        make_layers(cfg, batch_norm),
        num_classes,
        options.dropout.unwrap_or(0.5),
        init_weights,
    );
    load_weights(model, weights.as_ref())
}

macro_rules! vgg_builders {
    ($($name:ident, $with:ident, $cfg:expr, $bn:expr, $doc:literal;)*) => {$(
        #[doc = concat!("torchvision's `", stringify!($name), "(weights=None)`: ", $doc,
            ". With weights, they are loaded (strictly) and set `num_classes`.")]
        ///
        /// ```no_run
        /// use cnn_lab::*;
        #[doc = concat!("let model = models::", stringify!($name), "(None)?;")]
        /// assert_eq!(model.classifier[6].to_string(), "Linear(in_features=4096, out_features=1000, bias=True)");
        /// # Ok::<(), cnn_lab::Error>(())
        /// ```
        pub fn $name(weights: Option<Weights>) -> Result<VGG> {
            $with(weights, ModelOptions::new())
        }

        #[doc = concat!("[`", stringify!($name), "`] with keyword arguments: `num_classes`, `dropout` (0.5), `init_weights`.")]
        pub fn $with(weights: Option<Weights>, options: ModelOptions) -> Result<VGG> {
            vgg(stringify!($name), $cfg, $bn, weights, options)
        }
    )*};
}

vgg_builders! {
    vgg11, vgg11_with, A, false, "VGG-11 (configuration A), 132.9 M parameters";
    vgg11_bn, vgg11_bn_with, A, true, "VGG-11 with BatchNorm";
    vgg13, vgg13_with, B, false, "VGG-13 (configuration B), 133.0 M parameters";
    vgg13_bn, vgg13_bn_with, B, true, "VGG-13 with BatchNorm";
    vgg16, vgg16_with, D, false, "VGG-16 (configuration D), 138.4 M parameters";
    vgg16_bn, vgg16_bn_with, D, true, "VGG-16 with BatchNorm";
    vgg19, vgg19_with, E, false, "VGG-19 (configuration E), 143.7 M parameters";
    vgg19_bn, vgg19_bn_with, E, true, "VGG-19 with BatchNorm";
}
