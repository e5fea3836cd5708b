//! The lecture's run, one epoch: `MnistCNNModel` (dropout 0.3), Adam 1e-3,
//! batch 256, on the full MNIST via `load_mnist_dataset`. Minutes on a
//! 2-core CPU (8 min measured with other jobs sharing the cores; validation
//! accuracy 0.9829), so ignored by default; run it with
//! `cargo test --test train_lecture_mnist -- --ignored --nocapture`.

mod common;

use cnn_lab::models::MnistCNNModel;
use cnn_lab::*;

#[test]
#[ignore = "trains one full MNIST epoch (minutes on a CPU)"]
fn one_epoch_of_the_lecture_reaches_97_percent() {
    let dir = common::scratch_dir("lecture_one_epoch");
    let save_path = dir.join("mnist_cnn.safetensors");
    let device = cuda_if_available();
    manual_seed(0);
    let train_loader = load_mnist_dataset(common::datasets_root(), 256, true)
        .unwrap()
        .device(device);
    let test_loader = load_mnist_dataset(common::datasets_root(), 256, false)
        .unwrap()
        .device(device);
    let model = MnistCNNModel::new(0.3);
    model.to_device(device);
    let loss_fn = CrossEntropyLoss::new();
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    let result = fit(
        &train_loader,
        &test_loader,
        &model,
        &loss_fn,
        &mut optimizer,
        1,
        FitOptions::default()
            .save_model_path(&save_path)
            .device(device)
            .mode(Mode::Multi),
    )
    .unwrap();
    assert!(
        result.val_accuracy[0] >= 0.97,
        "validation accuracy {:?}",
        result.val_accuracy
    );

    // The lecture's second half: reload the saved model and evaluate on the CPU.
    let cnn_model = MnistCNNModel::new(0.3);
    load_model(&cnn_model, &save_path).unwrap();
    let cpu_test_loader = load_mnist_dataset(common::datasets_root(), 256, false).unwrap();
    let (loss, acc) =
        test_multi_classification(&cpu_test_loader, &cnn_model, &loss_fn, Device::Cpu).unwrap();
    assert!(
        (loss - result.val_loss[0]).abs() < 1e-4,
        "{loss} vs {:?}",
        result.val_loss
    );
    assert!((acc - result.val_accuracy[0]).abs() < 1e-9);
}
