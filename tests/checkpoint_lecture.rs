//! The lecture's `MnistCNNModel` crossing between cnn_lab and PyTorch, both
//! ways: same logits (within 1e-4) and the same accuracy on 1,000 MNIST test
//! images in eval mode (PyTorch side: tests/python/interop_check.py).

mod common;
mod train_support;

use cnn_lab::models::MnistCNNModel;
use cnn_lab::*;
use train_support::{assert_same_outputs, interop_python, mnist_loader};

#[test]
fn lecture_model_trained_in_cnn_lab_loads_in_pytorch() {
    let dir = common::scratch_dir("lecture_rust_to_torch");
    manual_seed(0);
    let model = MnistCNNModel::new(0.3);
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    let loader = mnist_loader(true, 1024, 256);
    train_one_epoch(
        &loader,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        Device::Cpu,
    )
    .unwrap();
    let weights = dir.join("rust.safetensors");
    save_model(&model, &weights).unwrap();
    let logits = dir.join("torch_logits.safetensors");
    let out = interop_python("load", "mnist_cnn", &weights, &logits);
    assert_same_outputs(&model, &out, &logits);
}

#[test]
fn lecture_model_trained_in_pytorch_loads_in_cnn_lab() {
    let dir = common::scratch_dir("lecture_torch_to_rust");
    let weights = dir.join("torch.safetensors");
    let logits = dir.join("torch_logits.safetensors");
    let out = interop_python("train", "mnist_cnn", &weights, &logits);
    let model = MnistCNNModel::new(0.3);
    load_model(&model, &weights).unwrap();
    assert_same_outputs(&model, &out, &logits);
}
