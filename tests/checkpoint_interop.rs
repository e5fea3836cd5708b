//! Weights crossing between cnn_lab and PyTorch, both ways, and the strict
//! loading rules, checked against PyTorch itself (tests/python/interop_*.py).

mod common;
mod train_support;

use cnn_lab::*;
use train_support::{
    check_cnn_lab_to_pytorch, check_pytorch_to_cnn_lab, mnist_loader, tensor, TinyCnn,
};

#[test]
fn weights_saved_by_cnn_lab_load_strictly_in_pytorch_with_same_logits() {
    let _rng = train_support::rng_lock();
    manual_seed(0);
    check_cnn_lab_to_pytorch(&TinyCnn::new(10, 0.0), "tiny");
}

#[test]
fn pytorch_state_dict_from_save_file_loads_with_same_logits() {
    let model = TinyCnn::new(10, 0.0);
    check_pytorch_to_cnn_lab(&model, "tiny");
    // The int64 buffer crossed too: PyTorch trained 4 batches.
    assert_eq!(tensor(&model, "bn.num_batches_tracked").kind(), Kind::Int64);
    assert_eq!(model.bn.num_batches_tracked(), 4);
}

#[test]
fn strict_load_error_lists_everything_as_pytorch_does() {
    let model = TinyCnn::new(10, 0.0);
    let mut sd: Vec<(String, Tensor)> = model
        .state_dict()
        .into_iter()
        .filter(|(k, _)| k != "fc.bias")
        .collect();
    sd.push((
        "extra.weight".into(),
        Tensor::zeros([2], (Kind::Float, Device::Cpu)),
    ));
    for (k, t) in sd.iter_mut() {
        if k == "conv.weight" {
            *t = Tensor::zeros([8, 1, 3, 3], (Kind::Float, Device::Cpu));
        }
    }
    let before = model.conv.bias_tensor().unwrap().copy();
    let err = load_state_dict(&model, &sd).unwrap_err();
    let pytorch = common::run_python("interop_strict_message.py", &[]);
    assert_eq!(err.to_string(), pytorch);
    // Nothing is copied when the check fails.
    assert!(model.conv.bias_tensor().unwrap().equal(&before));
}

#[test]
fn loading_a_file_of_another_shape_names_file_tensor_and_both_shapes() {
    let dir = common::scratch_dir("checkpoint_shape_mismatch");
    let path = dir.join("ten_classes.safetensors");
    save_model(&TinyCnn::new(10, 0.0), &path).unwrap();
    let two = TinyCnn::new(2, 0.0);
    let text = load_model(&two, &path).unwrap_err().to_string();
    assert!(text.starts_with(&path.display().to_string()), "{text}");
    assert!(
        text.contains(
            "size mismatch for fc.weight: copying a param with shape torch.Size([10, 784]) \
             from checkpoint, the shape in current model is torch.Size([2, 784])."
        ),
        "{text}"
    );
    assert!(text.contains("size mismatch for fc.bias"), "{text}");
}

#[test]
fn leftover_truncated_temp_file_does_not_affect_the_checkpoint() {
    let dir = common::scratch_dir("checkpoint_leftover_temp");
    let path = dir.join("best.safetensors");
    let model = TinyCnn::new(10, 0.0);
    save_model(&model, &path).unwrap();
    // What a process killed mid-write leaves behind: half a temp file.
    let bytes = std::fs::read(&path).unwrap();
    let leftover = dir.join(".best.safetensors.999999.tmp");
    std::fs::write(&leftover, &bytes[..bytes.len() / 2]).unwrap();

    let other = TinyCnn::new(10, 0.0);
    load_model(&other, &path).unwrap();
    assert!(other.fc.weight().equal(model.fc.weight()));
    // A truncated file itself is reported, not loaded.
    let err = load_model(&other, &leftover).unwrap_err().to_string();
    assert!(err.contains("not a safetensors file"), "{err}");
    // And the next save still replaces the checkpoint cleanly.
    save_model(&TinyCnn::new(10, 0.0), &path).unwrap();
    load_model(&other, &path).unwrap();
}

#[test]
fn load_copies_into_existing_tensors_so_optimizer_keeps_working() {
    let dir = common::scratch_dir("checkpoint_keeps_identity");
    let path = dir.join("m.safetensors");
    let source = TinyCnn::new(10, 0.0);
    save_model(&source, &path).unwrap();
    let model = TinyCnn::new(10, 0.0);
    let mut optimizer = Sgd::new(model.parameters(), 0.1);
    load_model(&model, &path).unwrap();
    assert!(tensor(&model, "fc.bias").equal(&tensor(&source, "fc.bias")));
    assert!(tensor(&model, "fc.bias").requires_grad());
    let loader = mnist_loader(true, 256, 256);
    train_one_epoch(
        &loader,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        Device::Cpu,
    )
    .unwrap();
    // The optimizer updated the very tensors the checkpoint was loaded into.
    assert!(!tensor(&model, "fc.bias").equal(&tensor(&source, "fc.bias")));
}
