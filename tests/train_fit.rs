//! `fit` and the evaluation functions on small models (tests/train_support)
//! and MNIST subsets: histories and checkpoints, determinism, NaN stop,
//! early stopping, binary mode, errors instead of panics.

mod common;
mod train_support;

use std::cell::Cell;

use cnn_lab::*;
use train_support::{mnist, mnist_loader, rng_lock, Lin, TinyCnn};

fn quiet() -> FitOptions {
    FitOptions::default().progress(Progress::Off)
}

#[test]
fn fit_returns_histories_and_saves_the_best_model() {
    let dir = common::scratch_dir("fit_best");
    let path = dir.join("best.safetensors");
    let _rng = rng_lock();
    manual_seed(0);
    let model = TinyCnn::new(10, 0.3);
    let train = mnist_loader(true, 2048, 256).shuffle(true).seed(1);
    let val = mnist_loader(false, 1000, 256);
    let mut optimizer = Adam::new(model.parameters(), 1e-2);
    let result = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        3,
        quiet().save_model_path(&path).mode(Mode::Multi),
    )
    .unwrap();
    let best = result.best_epoch.expect("some epoch improved");
    let best_val_loss = result.val_loss[best - 1];
    assert!(!result.stopped_early);
    // Per-epoch timings: the training pass is part of its epoch.
    assert_eq!([result.train_pass_s.len(), result.epoch_s.len()], [3, 3]);
    for (pass, epoch) in result.train_pass_s.iter().zip(&result.epoch_s) {
        assert!(0.0 < *pass && pass < epoch, "{pass} {epoch}");
    }
    let (train_loss, train_acc, val_loss, val_acc) = result.into();
    assert_eq!(
        [
            train_loss.len(),
            train_acc.len(),
            val_loss.len(),
            val_acc.len()
        ],
        [3; 4]
    );
    assert!(val_loss[2] < val_loss[0], "learning: {val_loss:?}");
    assert!(val_acc[2] > 0.7, "{val_acc:?}");
    // The histories go straight to the lecture's picture.
    let png = plot_fit_result(&(&train_loss, &train_acc, &val_loss, &val_acc)).unwrap();
    assert!(png.width() > 0);

    // The file holds the best epoch's weights: reloaded, the validation loss is that epoch's.
    let reloaded = TinyCnn::new(10, 0.3);
    load_model(&reloaded, &path).unwrap();
    let (loss, _) =
        test_multi_classification(&val, &reloaded, &CrossEntropyLoss::new(), Device::Cpu).unwrap();
    assert!(
        (loss - best_val_loss).abs() < 1e-9,
        "{loss} vs {best_val_loss}"
    );
}

#[test]
fn fit_histories_match_the_lectures_pytorch_loop() {
    let dir = common::scratch_dir("fit_vs_pytorch");
    let init = dir.join("init.safetensors");
    let model = {
        let _rng = rng_lock();
        manual_seed(11);
        TinyCnn::new(10, 0.0)
    };
    save_model(&model, &init).unwrap();
    let train = mnist_loader(true, 1024, 256);
    let val = mnist_loader(false, 600, 256);
    let mut optimizer = Sgd::new(model.parameters(), 0.05);
    let ours = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        2,
        quiet(),
    )
    .unwrap();

    let root = common::datasets_root();
    let out = common::run_python(
        "train_reference.py",
        &[root.to_str().unwrap(), init.to_str().unwrap(), "2"],
    );
    let theirs: Vec<Vec<f64>> = out
        .lines()
        .map(|l| l.split(' ').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(theirs.len(), 2, "{out}");
    for (e, row) in theirs.iter().enumerate() {
        let mine = [
            ours.train_loss[e],
            ours.train_accuracy[e],
            ours.val_loss[e],
            ours.val_accuracy[e],
        ];
        for (a, b) in mine.iter().zip(row) {
            assert!((a - b).abs() < 1e-5, "epoch {}: {mine:?} vs {row:?}", e + 1);
        }
    }
}

fn seeded_run(seed: i64) -> FitResult {
    let _rng = rng_lock();
    manual_seed(seed);
    let model = TinyCnn::new(10, 0.3);
    let train = mnist_loader(true, 1024, 128).shuffle(true).seed(5);
    let val = mnist_loader(false, 512, 256);
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    let mut r = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        2,
        quiet(),
    )
    .unwrap();
    // fit's default on the CPU: no CUDA graph, and no error for lacking one.
    assert!(!r.cuda_graph);
    // Timings differ from run to run.
    r.elapsed = Default::default();
    r.train_pass_s.clear();
    r.epoch_s.clear();
    r
}

#[test]
fn same_seed_gives_the_same_losses() {
    let a = seeded_run(7);
    let b = seeded_run(7);
    assert_eq!(a, b);
    let c = seeded_run(8);
    assert_ne!(a.train_loss, c.train_loss, "the seed matters at all");
}

#[test]
fn nan_loss_stops_fit_and_keeps_the_best_checkpoint() {
    let dir = common::scratch_dir("fit_nan");
    let run = |epochs: usize, poison_after: usize, path: &std::path::Path| {
        let _rng = rng_lock();
        manual_seed(3);
        let model = TinyCnn::new(10, 0.0);
        let train = mnist_loader(true, 512, 256);
        let val = mnist_loader(false, 256, 256);
        let mut optimizer = Adam::new(model.parameters(), 1e-3);
        let calls = Cell::new(0usize);
        // Epoch 1 calls the loss 2 (train) + 2 (train eval) + 1 (val eval) times.
        let loss = |out: &Tensor, y: &Tensor| {
            calls.set(calls.get() + 1);
            let l = CrossEntropyLoss::new().forward(out, y);
            if calls.get() > poison_after {
                l * f64::NAN
            } else {
                l
            }
        };
        fit(
            &train,
            &val,
            &model,
            &loss,
            &mut optimizer,
            epochs,
            quiet().save_model_path(path),
        )
    };
    let clean = dir.join("clean.safetensors");
    run(1, usize::MAX, &clean).unwrap();
    let poisoned = dir.join("poisoned.safetensors");
    let err = run(3, 5, &poisoned).unwrap_err();
    assert!(matches!(err, Error::Training(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("training loss became nan in epoch 2/3") && text.contains("epoch 1"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&poisoned).unwrap(),
        std::fs::read(&clean).unwrap(),
        "the checkpoint is epoch 1's"
    );
}

/// A linear classifier over flattened images: no batch-norm statistics, so
/// with a zero learning rate nothing at all changes between epochs.
struct Flat(Lin);

impl Module for Flat {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.0.forward_t(&xs.flatten(1, -1), train)
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![("fc".into(), &self.0 as &dyn Module)]
    }
}

#[test]
fn early_stopping_stops_after_patience_epochs_without_improvement() {
    // Initialising a layer draws from the process-wide generator: a test
    // that seeds must not see these draws in between (see rng_lock).
    let _rng = rng_lock();
    let model = Flat(Lin::new(784, 10));
    let train = mnist_loader(true, 256, 128);
    let val = mnist_loader(false, 256, 128);
    let mut optimizer = Sgd::new(model.parameters(), 0.0);
    let result = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        10,
        quiet().early_stopping(2),
    )
    .unwrap();
    // Epoch 1 improves on inf; epochs 2 and 3 do not; stop after epoch 3.
    assert_eq!(result.val_loss.len(), 3);
    assert!(result.stopped_early);
    assert_eq!(result.best_epoch, Some(1));
}

/// The 0s and 1s among the first `n` images of a split, labels as float.
fn zeros_and_ones(train: bool, n: usize) -> DataLoader {
    let (x, y) = mnist(train, n);
    let keep = y.le(1).nonzero().squeeze_dim(1);
    let x = x.index_select(0, &keep);
    let y = y.index_select(0, &keep).to_kind(Kind::Float);
    DataLoader::new(x, y, 128).unwrap()
}

#[test]
fn binary_mode_learns_zero_versus_one() {
    let _rng = rng_lock();
    manual_seed(0);
    let model = TinyCnn::new(1, 0.0);
    let train = zeros_and_ones(true, 3000);
    let val = zeros_and_ones(false, 1000);
    let mut optimizer = Adam::new(model.parameters(), 1e-2);
    let loss_fn = BCEWithLogitsLoss::new();
    let result = fit(
        &train,
        &val,
        &model,
        &loss_fn,
        &mut optimizer,
        1,
        quiet().mode(Mode::Binary),
    )
    .unwrap();
    assert!(result.val_accuracy[0] > 0.97, "{:?}", result.val_accuracy);

    // test_binary_classification is the same pass, and counts like the lecture:
    // sigmoid(logit) >= 0.5 against the label, over all samples.
    let (loss, acc) = test_binary_classification(&val, &model, &loss_fn, Device::Cpu).unwrap();
    assert_eq!((loss, acc), (result.val_loss[0], result.val_accuracy[0]));
    let logits = tch::no_grad(|| model.forward_t(val.images(), false)).view([-1]);
    let by_hand = logits
        .ge(0.0)
        .eq_tensor(&val.labels().ge(0.5))
        .sum(Kind::Int64)
        .int64_value(&[]) as f64
        / val.num_samples() as f64;
    assert_eq!(acc, by_hand);
}

#[test]
fn forward_shape_mismatch_is_an_error_not_a_panic() {
    let _rng = rng_lock();
    let model = Lin::new(10, 2); // expects [N, 10], gets images
    let train = mnist_loader(true, 64, 32);
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    let err = fit(
        &train,
        &train,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        1,
        quiet(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err:?}");
    assert!(err.to_string().starts_with("training pass: "), "{err}");
}

#[test]
fn evaluation_averages_batch_means_and_counts_over_samples() {
    // 3 batches of sizes 2, 2, 1 with known logits: the loss is the mean of
    // the three batch means (the lecture's test_*), not the sample mean.
    let logits =
        Tensor::from_slice(&[2.0f32, 0.0, 0.0, 2.0, 2.0, 0.0, 2.0, 0.0, 0.0, 2.0]).view([5, 2]);
    let labels = Tensor::from_slice(&[0i64, 1, 1, 1, 0]);
    let loader = DataLoader::new(logits, labels, 2).unwrap();
    struct Identity;
    impl Module for Identity {
        fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
            xs.shallow_clone()
        }
    }
    let (loss, acc) =
        test_multi_classification(&loader, &Identity, &CrossEntropyLoss::new(), Device::Cpu)
            .unwrap();
    let (good, bad) = ((1.0 + (-2.0f64).exp()).ln(), (1.0 + 2.0f64.exp()).ln());
    // Rows: good, good | bad, bad | bad. The sample mean would be (2g + 3b) / 5.
    let expected = (good + bad + bad) / 3.0;
    assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
    assert_eq!(acc, 2.0 / 5.0);
}

/// The device is said once, on the model: without a device argument the
/// evaluation runs where the model is, with the same figures as when the
/// device is named.
#[test]
fn evaluation_takes_the_device_from_the_model() {
    let _rng = rng_lock();
    manual_seed(0);
    let model = TinyCnn::new(10, 0.3);
    let val = mnist_loader(false, 512, 256);
    let loss_fn = CrossEntropyLoss::new();
    let named = test_multi_classification(&val, &model, &loss_fn, Device::Cpu).unwrap();
    let inferred = test_multi_classification(&val, &model, &loss_fn, None).unwrap();
    assert_eq!(named, inferred);
    let cm = confusion_matrix_of(&model, &val, 10).unwrap();
    assert!((cm.accuracy() - inferred.1).abs() < 1e-12);
}

#[test]
fn cuda_graph_on_the_cpu_is_an_error_that_says_why() {
    // Building the model draws from the generator that seeded tests share.
    let _rng = rng_lock();
    let model = TinyCnn::new(10, 0.3);
    let train = mnist_loader(true, 512, 256);
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    let err = fit(
        &train,
        &train,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        1,
        quiet().cuda_graph(true),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "FitOptions::cuda_graph(true) needs training on a GPU, but it runs on Cpu"
    );
    // Nothing was trained: the error comes before the first batch.
    assert!(!optimizer.is_fused());
}
