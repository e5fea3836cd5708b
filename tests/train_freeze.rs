//! Freezing and fine-tuning through `fit`: frozen parameters come out of
//! `fit` bit for bit as they went in (Adam, SGD with momentum and weight
//! decay); a resumed run with a frozen layer, parameter groups and SGD's
//! momentum equals an uninterrupted one bit for bit, and torch loads its
//! checkpoint into `torch.optim.SGD` with the same groups; `summary` of a
//! partially frozen model is torchinfo's; `fine_tune` trains the head on a
//! frozen body, then everything.

mod common;
mod train_support;

use std::path::Path;

use cnn_lab::{
    fine_tune, fit, summary, Adam, CrossEntropyLoss, DataLoader, FineTune, FitOptions, FitResult,
    ModuleExt, Optimizer, ParamGroup, Progress, StepLR, Tensor, SGD,
};
use serde_json::Value;
use train_support::{mnist, rng_lock, TinyCnn};

fn quiet() -> FitOptions {
    FitOptions::default()
        .progress(Progress::Off)
        .live_plot(false)
}

fn loaders() -> (DataLoader, DataLoader) {
    let (x, y) = mnist(true, 512);
    let train = DataLoader::new(x, y, 64).unwrap().shuffle(true).seed(7);
    let (vx, vy) = mnist(false, 128);
    (train, DataLoader::new(vx, vy, 128).unwrap())
}

fn snapshot(model: &TinyCnn) -> Vec<(String, Tensor)> {
    model
        .state_dict()
        .into_iter()
        .map(|(k, t)| (k, t.detach().copy()))
        .collect()
}

fn shallow(tensors: &[Tensor]) -> Vec<Tensor> {
    tensors.iter().map(Tensor::shallow_clone).collect()
}

#[test]
fn fit_leaves_frozen_parameters_bit_for_bit_and_trains_the_rest() {
    let _lock = rng_lock();
    let (train, val) = loaders();
    type Make = fn(&TinyCnn) -> Box<dyn Optimizer>;
    let optimizers: [(&str, Make); 3] = [
        ("Adam", |m| {
            Box::new(Adam::new(m.parameters(), 1e-3).weight_decay(1e-2))
        }),
        ("Adam fused", |m| {
            Box::new(
                Adam::new(m.parameters(), 1e-3)
                    .weight_decay(1e-2)
                    .fused(true),
            )
        }),
        ("SGD", |m| {
            Box::new(
                SGD::new(m.parameters(), 0.05)
                    .momentum(0.9)
                    .nesterov(true)
                    .weight_decay(1e-2),
            )
        }),
    ];
    for (name, make) in optimizers {
        cnn_lab::manual_seed(1);
        let model = TinyCnn::new(10, 0.0);
        model.conv.requires_grad_(false);
        let before = snapshot(&model);
        let mut optimizer = make(&model);
        fit(
            &train,
            &val,
            &model,
            &CrossEntropyLoss::new(),
            optimizer.as_mut(),
            1,
            quiet(),
        )
        .unwrap();
        for ((k, was), (_, now)) in before.iter().zip(&model.state_dict()) {
            if k.starts_with("conv.") {
                assert!(was.equal(now), "{name}: frozen {k} changed");
            } else if !k.ends_with("num_batches_tracked") {
                assert!(!was.equal(now), "{name}: {k} did not train");
            }
        }
    }
    // lr_find on a partly frozen model: the frozen layer stays frozen.
    let model = TinyCnn::new(10, 0.0);
    model.conv.requires_grad_(false);
    let found = cnn_lab::lr_find(
        &train,
        &model,
        &CrossEntropyLoss::new(),
        cnn_lab::LrFindOptions::default()
            .num_it(20)
            .progress(Progress::Off),
    )
    .unwrap();
    assert!(found.suggestion.is_finite());
    assert!(model.conv.parameters().iter().all(|p| !p.requires_grad()));
    assert!(model.fc.parameters().iter().all(Tensor::requires_grad));
    // Everything frozen: nothing to train, said before any work.
    let model = TinyCnn::new(10, 0.0);
    model.requires_grad_(false);
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    let err = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        1,
        quiet(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("every parameter of the model (TinyCnn) is frozen"),
        "{err}"
    );
}

const EPOCHS: usize = 4;

type Weights = Vec<(String, Tensor)>;

/// One run with a frozen conv, two groups and SGD's Nesterov momentum,
/// keeping a training checkpoint at `path`, `epochs` long.
fn run(path: &Path, epochs: usize) -> (FitResult, Weights, Weights) {
    cnn_lab::manual_seed(42);
    let model = TinyCnn::new(10, 0.3);
    let init = snapshot(&model);
    model.conv.requires_grad_(false);
    let (train, val) = loaders();
    let body: Vec<Tensor> = model
        .conv
        .parameters()
        .into_iter()
        .chain(model.bn.parameters())
        .collect();
    let mut optimizer = SGD::new(
        vec![
            ParamGroup::new(shallow(&body)).lr(0.01).momentum(0.5),
            ParamGroup::new(model.fc.parameters()),
        ],
        0.05,
    )
    .momentum(0.9)
    .nesterov(true);
    let result = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        epochs,
        quiet()
            .scheduler(StepLR::new(1).gamma(0.5))
            .resume_from(path),
    )
    .unwrap();
    (result, snapshot(&model), init)
}

#[test]
fn a_resumed_run_with_frozen_layers_groups_and_sgd_momentum_equals_an_uninterrupted_one() {
    let _lock = rng_lock();
    let dir = common::scratch_dir("train_freeze_resume");
    let (plain, plain_weights, init) = run(&dir.join("plain.pth"), EPOCHS);
    let split = dir.join("split.pth");
    let (first, _, _) = run(&split, 2);
    assert_eq!(first.val_loss.len(), 2);
    let (resumed, resumed_weights, _) = run(&split, EPOCHS);
    assert_eq!(resumed.resumed_from, Some(2));
    assert_eq!(resumed.train_loss, plain.train_loss);
    assert_eq!(resumed.val_loss, plain.val_loss);
    assert_eq!(resumed.val_accuracy, plain.val_accuracy);
    assert_eq!(resumed.lr, plain.lr);
    assert_eq!(plain.lr, [0.01, 0.005, 0.0025, 0.00125]);
    for ((name, a), (_, b)) in resumed_weights.iter().zip(&plain_weights) {
        assert!(a.equal(b), "{name} differs after resuming");
    }
    for ((name, a), (_, b)) in init.iter().zip(&plain_weights) {
        assert_eq!(a.equal(b), name.starts_with("conv."), "{name}");
    }
    // torch.optim.SGD with the same groups loads the checkpoint: each
    // group's rate after four halvings, momentum buffers for bn and fc only.
    let out = common::run_python(
        "freeze_reference.py",
        &["checkpoint", split.to_str().unwrap()],
    );
    let line = |key: &str| -> Value {
        let text = out
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} in {out}"));
        serde_json::from_str(text).unwrap_or(Value::String(text.into()))
    };
    assert_eq!(line("lrs"), serde_json::json!([0.01 / 16.0, 0.05 / 16.0]));
    assert_eq!(line("momentums"), serde_json::json!([0.5, 0.9]));
    assert_eq!(line("buffers"), serde_json::json!([2, 3, 4, 5]));
    assert_eq!(line("shapes_match"), Value::String("True".into()));
    assert_eq!(line("epoch"), serde_json::json!(EPOCHS));
}

#[test]
fn summary_of_a_partially_frozen_model_is_torchinfos() {
    let reference: Value =
        serde_json::from_str(&common::run_python("freeze_reference.py", &["summary"])).unwrap();
    let lecture = cnn_lab::models::MnistCNNModel::new(0.3);
    lecture.b1.requires_grad_(false);
    lecture.b2.requires_grad_(false);
    let _ = lecture.b3[0].parameters()[0].set_requires_grad(false);
    let body = cnn_lab::models::MnistCNNModel::new(0.3);
    body.requires_grad_(false).classifier.requires_grad_(true);
    for (case, model) in [("lecture_frozen", &lecture), ("body_frozen", &body)] {
        let s = summary(model, &[256, 1, 28, 28]).unwrap();
        common::assert_summary_equals(case, &s, &reference[case]);
    }
}

#[test]
fn fine_tune_trains_the_head_on_a_frozen_body_then_everything() {
    let _lock = rng_lock();
    let (train, val) = loaders();
    cnn_lab::manual_seed(3);
    let model = TinyCnn::new(10, 0.0);
    let before = snapshot(&model);
    let how = || FineTune::new("fc").fit_options(quiet());
    // The frozen phase alone: only the head moves.
    let result = fine_tune(&train, &val, &model, &CrossEntropyLoss::new(), 0, how()).unwrap();
    assert_eq!(result.frozen.val_loss.len(), 1);
    assert!(result.unfrozen.val_loss.is_empty());
    let after = snapshot(&model);
    for ((k, a), (_, b)) in before.iter().zip(&after) {
        if k.starts_with("fc.") {
            assert!(!a.equal(b), "the head's {k} did not train");
        } else if k.ends_with("weight") || k.ends_with("bias") {
            assert!(a.equal(b), "the frozen body's {k} changed");
        }
    }
    assert!(
        model.parameters().iter().all(Tensor::requires_grad),
        "ends unfrozen"
    );
    // Then unfrozen: the body trains too.
    let result = fine_tune(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        1,
        how().freeze_epochs(0),
    )
    .unwrap();
    assert_eq!(result.unfrozen.val_loss.len(), 1);
    assert!(
        !after[0].1.equal(&model.conv.parameters()[0]),
        "the body did not train"
    );
    let err = fine_tune(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        1,
        FineTune::new("head"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("the head \"head\" should name some of the model's parameters"),
        "{err}"
    );
}
