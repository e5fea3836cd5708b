//! Library copies of the lecture's models, for notebooks that want to use a
//! model without writing it (a notebook may define its own struct of the
//! same name: these are not in the prelude), and torchvision's
//! classification models built from cnn_lab's layers (`docs/models.md`).
//!
//! Each torchvision builder is a function of the same name taking the
//! weights, `models::resnet18(None)?`, with its keyword arguments in
//! [`ModelOptions`] for the `_with` form,
//! `models::resnet18_with(None, ModelOptions::new().num_classes(2))?`;
//! [`get_model`] and [`list_models`] are torchvision's registry. The models
//! print as torchvision prints them, have its `state_dict` keys and shapes
//! (its published files load into them) and its weight initialisation.
//!
//! ```
//! use cnn_lab::*;
//! use cnn_lab::models::{self, ModelOptions};
//! let model = models::get_model_with("vgg11", None, ModelOptions::new().num_classes(2))?;
//! assert!(model.to_string().starts_with("VGG(\n  (features): Sequential("));
//! assert!(models::list_models().contains(&"resnet50"));
//! # Ok::<(), cnn_lab::Error>(())
//! ```

use tch::Tensor;

use crate::nn::{
    BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential,
};

/// The lecture's MNIST CNN: three `Conv2d → BatchNorm2d → ReLU → Dropout →
/// MaxPool2d` blocks (32, 64, 128 channels; 28 → 14 → 7 → 4) and a classifier
/// `Flatten → Linear(2048, 256) → ReLU → Dropout → Linear(256, 10)`.
/// 620,234 parameters, named as PyTorch names them (`b1.0.weight`, …).
///
/// ```
/// use cnn_lab::*;
/// use cnn_lab::models::MnistCNNModel;
/// let model = MnistCNNModel::new(0.3);
/// let x = Tensor::zeros([2, 1, 28, 28], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [2, 10]);
/// assert_eq!(model.num_parameters(), 620_234);
/// ```
#[derive(Module)]
pub struct MnistCNNModel {
    /// `Conv2d(1, 32, 3, padding="same")` block, 28×28 → 14×14.
    pub b1: Sequential,
    /// `Conv2d(32, 64, 3, padding="same")` block, 14×14 → 7×7.
    pub b2: Sequential,
    /// `Conv2d(64, 128, 3, padding="same")` block, 7×7 → 4×4 (pool padding 1).
    pub b3: Sequential,
    /// `Flatten → Linear(2048, 256) → ReLU → Dropout → Linear(256, 10)`.
    pub classifier: Sequential,
}

fn conv_block(
    in_channels: i64,
    out_channels: i64,
    dropout_rate: f64,
    pool_padding: i64,
) -> Sequential {
    Sequential::new()
        .add(
            Conv2d::new(in_channels, out_channels, 3)
                .stride(1)
                .padding("same"),
        )
        .add(BatchNorm2d::new(out_channels))
        .add(ReLU::new())
        .add(Dropout::new(dropout_rate))
        .add(MaxPool2d::new(2).stride(2).padding(pool_padding))
}

impl MnistCNNModel {
    /// The model with freshly initialised parameters (on the CPU).
    pub fn new(dropout_rate: f64) -> MnistCNNModel {
        MnistCNNModel {
            b1: conv_block(1, 32, dropout_rate, 0),
            b2: conv_block(32, 64, dropout_rate, 0),
            b3: conv_block(64, 128, dropout_rate, 1),
            classifier: Sequential::new()
                .add(Flatten::new())
                .add(Linear::new(128 * 4 * 4, 256))
                .add(ReLU::new())
                .add(Dropout::new(dropout_rate))
                .add(Linear::new(256, 10)),
        }
    }
}

impl MnistCNNModel {
    /// The forward pass: the three blocks, then the classifier (logits).
    pub fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.apply_t(&self.b1, train)
            .apply_t(&self.b2, train)
            .apply_t(&self.b3, train)
            .apply_t(&self.classifier, train)
    }
}

/// `Display`/`Debug` as PyTorch's printout and tch's `ModuleT` for a
/// hand-written torchvision module (derived ones get them from the derive).
macro_rules! model_traits {
    ($($ty:ty),*) => {$(
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::nn::ModuleExt::repr(self).0)
            }
        }
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::nn::ModuleExt::repr(self).0)
            }
        }
        impl tch::nn::ModuleT for $ty {
            fn forward_t(&self, xs: &tch::Tensor, train: bool) -> tch::Tensor {
                $crate::nn::Module::forward_t(self, xs, train)
            }
        }
    )*};
}

/// The `Deref`/`DerefMut` to a [`Sequential`] field `layers`, the `Module`
/// (`forward` through `layers`, PyTorch's name `$name`, `layers`' children)
/// and [`model_traits!`] of a torchvision `nn.Sequential` subclass
/// (`Conv2dNormActivation`, RegNet's `AnyStage`): a struct with fields
/// `layers: Sequential` and `hooks: ForwardHooks`.
macro_rules! sequential_subclass {
    ($ty:ty, |$s:ident| $name:expr) => {
        impl std::ops::Deref for $ty {
            type Target = $crate::nn::Sequential;

            fn deref(&self) -> &$crate::nn::Sequential {
                &self.layers
            }
        }

        impl std::ops::DerefMut for $ty {
            fn deref_mut(&mut self) -> &mut $crate::nn::Sequential {
                &mut self.layers
            }
        }

        impl $crate::nn::Module for $ty {
            fn forward_t(&self, xs: &tch::Tensor, train: bool) -> tch::Tensor {
                $crate::nn::record_forward(self, || {
                    let mut x = xs.shallow_clone();
                    for layer in &self.layers {
                        x = layer.forward_t(&x, train);
                    }
                    x
                })
            }

            fn type_name(&self) -> String {
                let $s = self;
                $name.into()
            }

            fn children(&self) -> Vec<(String, &dyn $crate::nn::Module)> {
                self.layers.children()
            }

            fn config_error(&self) -> Option<String> {
                self.layers.config_error()
            }

            fn forward_hooks(&self) -> Option<&$crate::nn::ForwardHooks> {
                Some(&self.hooks)
            }
        }

        model_traits!($ty);
    };
}

mod alexnet;
mod convnext;
mod densenet;
mod efficientnet;
mod googlenet;
mod mobilenetv2;
mod mobilenetv3;
pub mod ops;
mod options;
mod regnet;
mod resnet;
mod squeezenet;
mod vgg;
pub mod weights;

pub use alexnet::*;
pub use convnext::*;
pub use densenet::*;
pub use efficientnet::*;
pub use googlenet::*;
pub use mobilenetv2::*;
pub use mobilenetv3::*;
pub use options::ModelOptions;
pub use regnet::*;
pub use resnet::*;
pub use squeezenet::*;
pub use vgg::*;
pub use weights::*;

use crate::error::{Error, Result};

type Builder = fn(Option<Weights>, ModelOptions) -> Result<Box<dyn Module + Send>>;

macro_rules! registry {
    ($($name:literal => $with:path;)*) => {
        const REGISTRY: &[(&str, Builder)] = &[$(
            ($name, |w, o| Ok(Box::new($with(w, o)?))),
        )*];
    };
}

// One line per model: torchvision's name and its builder.
registry! {
    "resnet18" => resnet18_with;
    "resnet34" => resnet34_with;
    "resnet50" => resnet50_with;
    "resnet101" => resnet101_with;
    "vgg11" => vgg11_with;
    "vgg11_bn" => vgg11_bn_with;
    "vgg13" => vgg13_with;
    "vgg13_bn" => vgg13_bn_with;
    "vgg16" => vgg16_with;
    "vgg16_bn" => vgg16_bn_with;
    "vgg19" => vgg19_with;
    "vgg19_bn" => vgg19_bn_with;
    "alexnet" => alexnet_with;
    "squeezenet1_0" => squeezenet1_0_with;
    "squeezenet1_1" => squeezenet1_1_with;
    "densenet121" => densenet121_with;
    "mobilenet_v2" => mobilenet_v2_with;
    "mobilenet_v3_large" => mobilenet_v3_large_with;
    "mobilenet_v3_small" => mobilenet_v3_small_with;
    "efficientnet_b0" => efficientnet_b0_with;
    "googlenet" => googlenet_with;
    "convnext_tiny" => convnext_tiny_with;
    "regnet_y_400mf" => regnet_y_400mf_with;
}

/// torchvision's `get_model(name, weights=None)`: the model called `name`
/// (one of [`list_models`]), boxed.
///
/// ```
/// use cnn_lab::*;
/// let model = models::get_model("resnet18", None)?;
/// assert_eq!(model.type_name(), "ResNet");
/// assert!(models::get_model("resnet7", None).is_err());
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn get_model(name: &str, weights: Option<Weights>) -> Result<Box<dyn Module + Send>> {
    get_model_with(name, weights, ModelOptions::new())
}

/// [`get_model`] with keyword arguments (`get_model("vgg16", num_classes=2)`).
pub fn get_model_with(
    name: &str,
    weights: Option<Weights>,
    options: ModelOptions,
) -> Result<Box<dyn Module + Send>> {
    match REGISTRY.iter().find(|(n, _)| *n == name.to_lowercase()) {
        Some((_, build)) => build(weights, options),
        None => Err(Error::InvalidArgument(format!(
            "Unknown model {name}: the models are {}",
            list_models().join(", ")
        ))),
    }
}

/// torchvision's `list_models()`: the names [`get_model`] knows, sorted.
pub fn list_models() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = REGISTRY.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names
}
