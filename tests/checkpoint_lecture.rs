//! The lecture's `MnistCNNModel` crossing between cnn_lab and PyTorch, both
//! ways: same logits (within 1e-4) and the same accuracy on 1,000 MNIST test
//! images in eval mode (PyTorch side: tests/python/interop_check.py).

mod common;
mod train_support;

use cnn_lab::models::MnistCNNModel;
use cnn_lab::*;
use train_support::{check_cnn_lab_to_pytorch, check_pytorch_to_cnn_lab};

#[test]
fn lecture_model_trained_in_cnn_lab_loads_in_pytorch() {
    let _rng = train_support::rng_lock();
    manual_seed(0);
    check_cnn_lab_to_pytorch(&MnistCNNModel::new(0.3), "mnist_cnn");
}

#[test]
fn lecture_model_trained_in_pytorch_loads_in_cnn_lab() {
    check_pytorch_to_cnn_lab(&MnistCNNModel::new(0.3), "mnist_cnn");
}
