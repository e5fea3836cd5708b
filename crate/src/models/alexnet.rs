//! torchvision's AlexNet (`torchvision/models/alexnet.py`).

use tch::Tensor;

use super::options::{load_weights, pool_classify, pool_classify_stages, ModelOptions};
use super::weights::Weights;
use crate::error::Result;
use crate::nn::{
    AdaptiveAvgPool2d, Conv2d, Dropout, Linear, MaxPool2d, Module, ReLU, Sequential, Stage,
};

/// torchvision's `AlexNet`: five convolutions in `features`, `avgpool` to
/// 6×6 and a three-layer `classifier` (PyTorch's default initialisation).
///
/// ```
/// use cnn_lab::*;
/// let model = models::alexnet(None)?;
/// let x = Tensor::zeros([1, 3, 64, 64], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [1, 1000]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Module)]
#[module(name = "AlexNet", chain)]
pub struct AlexNet {
    /// The convolutional layers.
    pub features: Sequential,
    /// `AdaptiveAvgPool2d((6, 6))`.
    pub avgpool: AdaptiveAvgPool2d,
    /// Dropout, `Linear(9216, 4096)`, ReLU, Dropout, `Linear(4096, 4096)`,
    /// ReLU, `Linear(4096, num_classes)`.
    pub classifier: Sequential,
}

impl AlexNet {
    fn build(num_classes: i64, dropout: f64) -> AlexNet {
        let relu = || ReLU::new().inplace(true);
        AlexNet {
            features: Sequential::new()
                .add(Conv2d::new(3, 64, 11).stride(4).padding(2))
                .add(relu())
                .add(MaxPool2d::new(3).stride(2))
                .add(Conv2d::new(64, 192, 5).padding(2))
                .add(relu())
                .add(MaxPool2d::new(3).stride(2))
                .add(Conv2d::new(192, 384, 3).padding(1))
                .add(relu())
                .add(Conv2d::new(384, 256, 3).padding(1))
                .add(relu())
                .add(Conv2d::new(256, 256, 3).padding(1))
                .add(relu())
                .add(MaxPool2d::new(3).stride(2)),
            avgpool: AdaptiveAvgPool2d::new((6, 6)),
            classifier: Sequential::new()
                .add(Dropout::new(dropout))
                .add(Linear::new(256 * 6 * 6, 4096))
                .add(relu())
                .add(Dropout::new(dropout))
                .add(Linear::new(4096, 4096))
                .add(relu())
                .add(Linear::new(4096, num_classes)),
        }
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

/// torchvision's `alexnet(weights=None)`: 61.1 M parameters. With weights,
/// they are loaded (strictly) and set `num_classes`.
///
/// ```
/// use cnn_lab::*;
/// let model = models::alexnet(None)?;
/// assert_eq!(model.num_parameters(), 61_100_840);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn alexnet(weights: Option<Weights>) -> Result<AlexNet> {
    alexnet_with(weights, ModelOptions::new())
}

/// [`alexnet`] with keyword arguments: `num_classes`, `dropout` (0.5).
pub fn alexnet_with(weights: Option<Weights>, options: ModelOptions) -> Result<AlexNet> {
    options.only("alexnet", &["num_classes", "dropout"])?;
    let num_classes = options.classes(weights.as_ref())?;
    let model = AlexNet::build(num_classes, options.dropout.unwrap_or(0.5));
    load_weights(model, weights.as_ref())
}
