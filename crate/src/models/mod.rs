//! Library copies of the lecture's models, for notebooks that want to use a
//! model without writing it (a notebook may define its own struct of the
//! same name: these are not in the prelude).

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

pub mod weights;
pub use weights::*;
