//! `fit` computes a frozen, mode-independent body's output once per sample
//! (`FitOptions::cache_frozen_features`): the same histories and head
//! weights as the whole model's passes and as PyTorch's course-style `fit`
//! (tests/python/frozen_features_reference.py), the frozen parameters bit
//! for bit unchanged; nothing kept for a BatchNorm body (train mode) or a
//! random transform; over the memory limit the rest is recomputed with the
//! same result.

mod common;

use cnn_lab::data::transforms::{CenterCrop, Compose, RandomHorizontalFlip};
use cnn_lab::data::TensorDataset;
use cnn_lab::{
    fit, Adam, AdaptiveAvgPool2d, BatchNorm2d, Conv2d, CrossEntropyLoss, DataLoader, Dropout,
    FitOptions, FitResult, Kind, Linear, MaxPool2d, Module, ModuleExt, Progress, ReLU, Sequential,
    Stage, Tensor,
};
use serde_json::Value;

/// `manual_seed` is process-wide and tests run on parallel threads.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// A VGG in miniature, as tests/python/frozen_features_reference.py's `Net`.
#[derive(Module)]
#[module(name = "Net", chain)]
struct Net {
    features: Sequential,
    avgpool: AdaptiveAvgPool2d,
    classifier: Sequential,
}

impl Net {
    fn new(batch_norm: bool) -> Net {
        let mut features = Sequential::new().add(Conv2d::new(3, 8, 3).padding(1));
        if batch_norm {
            features.push(BatchNorm2d::new(8));
        }
        let features = features
            .add(ReLU::new().inplace(true))
            .add(MaxPool2d::new(2))
            .add(Conv2d::new(8, 8, 3).padding(1))
            .add(ReLU::new().inplace(true))
            .add(MaxPool2d::new(2));
        Net {
            features,
            avgpool: AdaptiveAvgPool2d::new((2, 2)),
            classifier: Sequential::new()
                .add(Linear::new(32, 16))
                .add(ReLU::new().inplace(true))
                .add(Dropout::new(0.0))
                .add(Linear::new(16, 3)),
        }
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.features, train)
            .apply_t(&self.avgpool, train)
            .flatten(1, -1)
            .apply_t(&self.classifier, train)
    }

    fn stages(&self) -> Vec<Stage<'_>> {
        vec![
            Stage::Module("features", &self.features),
            Stage::Module("avgpool", &self.avgpool),
            Stage::FLATTEN,
            Stage::Module("classifier", &self.classifier),
        ]
    }
}

/// The model with seed 0's weights, its body frozen.
fn frozen_net(batch_norm: bool) -> Net {
    cnn_lab::manual_seed(0);
    let net = Net::new(batch_norm);
    net.features.requires_grad_(false);
    net
}

/// 44 training and 20 validation images, 3 × 16 × 16, three classes.
fn data() -> (Tensor, Tensor, Tensor, Tensor) {
    cnn_lab::manual_seed(1);
    let cpu = cnn_lab::FLOAT_CPU;
    let x = Tensor::rand([64, 3, 16, 16], cpu);
    let y = Tensor::randint(3, [64], (Kind::Int64, cnn_lab::Device::Cpu));
    (
        x.narrow(0, 0, 44),
        y.narrow(0, 0, 44),
        x.narrow(0, 44, 20),
        y.narrow(0, 44, 20),
    )
}

fn quiet() -> FitOptions {
    FitOptions::default()
        .progress(Progress::Off)
        .live_plot(false)
}

/// `fit` for 3 epochs with Adam(1e-3), as the reference does.
fn run(net: &Net, train: &DataLoader, val: &DataLoader, options: FitOptions) -> FitResult {
    let mut optimizer = Adam::new(net.parameters(), 1e-3);
    fit(
        train,
        val,
        net,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        3,
        options,
    )
    .unwrap()
}

fn loaders(shuffle: bool) -> (DataLoader, DataLoader) {
    let (tx, ty, vx, vy) = data();
    let train = DataLoader::new(tx, ty, 8).unwrap().shuffle(shuffle).seed(5);
    (train, DataLoader::new(vx, vy, 8).unwrap())
}

fn snapshot(net: &Net) -> Vec<(String, Tensor)> {
    net.state_dict()
        .into_iter()
        .map(|(k, t)| (k, t.detach().copy()))
        .collect()
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

/// Histories within `tol`, accuracies equal.
fn same_history(a: &FitResult, b: &FitResult, tol: f64, what: &str) {
    for (name, x, y) in [
        ("train_loss", &a.train_loss, &b.train_loss),
        ("val_loss", &a.val_loss, &b.val_loss),
    ] {
        assert_eq!(x.len(), y.len(), "{what}: {name}");
        for (p, q) in x.iter().zip(y) {
            assert!((p - q).abs() <= tol, "{what}: {name} {x:?} vs {y:?}");
        }
    }
    // Equal counts of correct predictions (the JSON reader may round the
    // last bit of PyTorch's quotient).
    for (name, x, y) in [
        ("train_accuracy", &a.train_accuracy, &b.train_accuracy),
        ("val_accuracy", &a.val_accuracy, &b.val_accuracy),
    ] {
        assert_eq!(x.len(), y.len(), "{what}: {name}");
        for (p, q) in x.iter().zip(y) {
            assert!((p - q).abs() <= 1e-12, "{what}: {name} {x:?} vs {y:?}");
        }
    }
}

fn same_weights(a: &Net, b: &[(String, Tensor)], tol: f64, what: &str) {
    for ((name, x), (_, y)) in a.state_dict().iter().zip(b) {
        let d = max_diff(x, y);
        assert!(d <= tol, "{what}: {name} differs by {d}");
    }
}

/// Runs `fit` on a fresh frozen model with `options` and again without the
/// cache, on loaders from `make`; checks both agree and returns the first
/// run's result and model.
fn against_the_whole_model(
    make: impl Fn() -> (DataLoader, DataLoader),
    options: FitOptions,
    what: &str,
) -> (FitResult, Net) {
    let (train, val) = make();
    let cached_net = frozen_net(false);
    let cached = run(&cached_net, &train, &val, options);
    let (train, val) = make();
    let whole_net = frozen_net(false);
    let whole = run(
        &whole_net,
        &train,
        &val,
        quiet().cache_frozen_features(false),
    );
    assert_eq!(whole.frozen_features, None);
    assert!(whole.frozen_stages_in_eval_mode.is_empty());
    assert_eq!(
        whole.frozen_features_skipped.as_deref(),
        Some("FitOptions::cache_frozen_features(false)")
    );
    same_history(&cached, &whole, 1e-6, what);
    same_weights(&cached_net, &snapshot(&whole_net), 1e-6, what);
    (cached, cached_net)
}

#[test]
fn the_kept_features_give_the_whole_models_result_and_pytorchs() {
    let _lock = rng_lock();
    let initial = snapshot(&frozen_net(false));

    // PyTorch's course-style fit from the same weights and data.
    let dir = common::scratch_dir("train_frozen_features");
    let (tx, ty, vx, vy) = data();
    let mut input: Vec<(String, Tensor)> = snapshot(&frozen_net(false));
    input.extend([
        ("train_x".to_string(), tx),
        ("train_y".to_string(), ty),
        ("val_x".to_string(), vx),
        ("val_y".to_string(), vy),
    ]);
    Tensor::write_safetensors(&input, dir.join("input.safetensors")).unwrap();
    common::run_python("frozen_features_reference.py", &[dir.to_str().unwrap()]);

    let (cached, cached_net) = against_the_whole_model(|| loaders(false), quiet(), "cached");
    let kept = cached.frozen_features.clone().expect("features kept");
    assert_eq!(kept.stages, ["features", "avgpool", "flatten"]);
    assert_eq!((kept.samples, kept.recomputed), (64, 0));
    assert_eq!(kept.bytes, 64 * (32 * 4 + 8));
    assert_eq!(cached.frozen_features_skipped, None);
    // The frozen body: bit for bit as it was; the head trained.
    for ((name, now), (_, before)) in cached_net.state_dict().iter().zip(&initial) {
        if name.starts_with("features.") {
            assert!(now.equal(before), "{name} changed");
        } else {
            assert!(!now.equal(before), "{name} did not train");
        }
    }

    // PyTorch's lecture fit.
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap())
            .unwrap();
    let floats = |k: &str| -> Vec<f64> {
        reference[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let torch = FitResult {
        train_loss: floats("train_loss"),
        train_accuracy: floats("train_accuracy"),
        val_loss: floats("val_loss"),
        val_accuracy: floats("val_accuracy"),
        ..FitResult::default()
    };
    same_history(&cached, &torch, 1e-5, "cnn_lab cached vs PyTorch");
    let trained = Tensor::read_safetensors(dir.join("trained.safetensors")).unwrap();
    let mut trained: Vec<(String, Tensor)> = trained;
    let order: Vec<String> = cached_net
        .state_dict()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    trained.sort_by_key(|(k, _)| order.iter().position(|o| o == k));
    same_weights(&cached_net, &trained, 1e-5, "cnn_lab cached vs PyTorch");
}

#[test]
fn shuffled_batches_take_each_samples_own_features() {
    let _lock = rng_lock();
    let (cached, _) = against_the_whole_model(|| loaders(true), quiet(), "shuffled");
    assert!(cached.frozen_features.is_some());
}

#[test]
fn a_batchnorm_body_in_train_mode_is_not_kept() {
    let _lock = rng_lock();
    let (train, val) = loaders(false);
    let net = frozen_net(true);
    let result = run(&net, &train, &val, quiet());
    assert_eq!(result.frozen_features, None);
    let why = result.frozen_features_skipped.unwrap();
    assert!(
        why.contains("features.1 (BatchNorm2d) normalises by the batch's statistics"),
        "{why}"
    );
    assert!(
        why.contains("(features.0: 2048 values per sample) is larger than the input (768)"),
        "{why}"
    );
    // The frozen BatchNorm's running statistics moved, as in PyTorch.
    let bn = &net.features[1];
    let mean = bn
        .state_dict()
        .into_iter()
        .find(|(k, _)| k == "running_mean")
        .unwrap()
        .1;
    assert!(mean.abs().sum(Kind::Float).double_value(&[]) > 0.0);
}

#[test]
fn a_random_transform_is_not_kept_and_a_fixed_one_is() {
    let _lock = rng_lock();
    // Not kept, but the frozen part runs in eval mode without gradients in
    // every training pass: the whole model's result, flip for flip.
    let flipped = || {
        let (train, val) = loaders(true);
        (train.transform(RandomHorizontalFlip::new()).unwrap(), val)
    };
    let (result, _) = against_the_whole_model(flipped, quiet(), "a random transform");
    assert_eq!(result.frozen_features, None);
    let why = result.frozen_features_skipped.unwrap();
    assert!(
        why.contains("the training loader's samples change"),
        "{why}"
    );
    assert_eq!(
        result.frozen_stages_in_eval_mode,
        ["features", "avgpool", "flatten"]
    );

    // A dataset read sample by sample with a deterministic transform.
    let over_dataset = || {
        let (tx, ty, vx, vy) = data();
        let fixed = || Compose::new().add(CenterCrop::new(12));
        let train = DataLoader::from_dataset(TensorDataset::new(tx, ty).unwrap(), 8)
            .unwrap()
            .shuffle(true)
            .num_workers(2)
            .transform(fixed())
            .unwrap();
        let val = DataLoader::from_dataset(TensorDataset::new(vx, vy).unwrap(), 8)
            .unwrap()
            .transform(fixed())
            .unwrap();
        (train, val)
    };
    let (cached, _) = against_the_whole_model(over_dataset, quiet(), "over a dataset");
    assert_eq!(cached.frozen_features.map(|k| k.samples), Some(64));
}

#[test]
fn over_the_limit_the_other_samples_are_recomputed() {
    let _lock = rng_lock();
    // 32 floats and an int64 label per sample: room for 10 samples.
    let limit = 10 * (32 * 4 + 8);
    let options = quiet().cache_frozen_features_limit(limit);
    let (cached, _) = against_the_whole_model(|| loaders(true), options, "over the limit");
    let kept = cached.frozen_features.unwrap();
    assert_eq!(
        (kept.samples, kept.recomputed, kept.bytes),
        (10, 34 + 20, limit)
    );
}

#[test]
fn pooling_that_enlarges_small_features_runs_with_the_head() {
    // 4 × 4 images: `features` gives 8 × 1 × 1, and AdaptiveAvgPool2d((2, 2))
    // would enlarge it to 8 × 2 × 2 (as VGG's (7, 7) pool does with a 64 × 64
    // photo): only `features`' output is kept, the pool runs with the head.
    let _lock = rng_lock();
    let small = || {
        cnn_lab::manual_seed(2);
        let x = Tensor::rand([30, 3, 4, 4], cnn_lab::FLOAT_CPU);
        let y = Tensor::randint(3, [30], (Kind::Int64, cnn_lab::Device::Cpu));
        let train = DataLoader::new(x.narrow(0, 0, 20), y.narrow(0, 0, 20), 8)
            .unwrap()
            .shuffle(true)
            .seed(3);
        let val = DataLoader::new(x.narrow(0, 20, 10), y.narrow(0, 20, 10), 8).unwrap();
        (train, val)
    };
    let (cached, _) = against_the_whole_model(small, quiet(), "4 × 4 images");
    let kept = cached.frozen_features.expect("features kept");
    assert_eq!(kept.stages, ["features"]);
    assert_eq!(kept.samples, 30);
    // 8 floats and one int64 label per sample.
    assert_eq!(kept.bytes, 30 * (8 * 4 + 8));
}
