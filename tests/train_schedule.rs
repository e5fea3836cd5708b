//! `fit` with a scheduler and its training-loss points: the rates it sets
//! are the scheduler's, stepped per epoch or per batch as PyTorch's loop
//! steps them; the history keeps them; a model without parameters is an
//! error.

mod common;
mod train_support;

use cnn_lab::{
    fit, Adam, CrossEntropyLoss, FitOptions, Module, ModuleExt, OneCycleLR, Optimizer, Progress,
    ReduceLROnPlateau, Sgd, StepLR, Tensor,
};
use train_support::{mnist_loader, rng_lock, TinyCnn};

fn quiet() -> FitOptions {
    FitOptions::default()
        .progress(Progress::Off)
        .live_plot(false)
}

#[test]
fn an_epoch_scheduler_steps_after_each_epoch_and_the_history_keeps_the_rate() {
    let _lock = rng_lock();
    cnn_lab::manual_seed(1);
    let (train, val) = (mnist_loader(true, 256, 64), mnist_loader(false, 128, 64));
    let model = TinyCnn::new(10, 0.0);
    let mut opt = Adam::new(model.parameters(), 0.01);
    let result = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut opt,
        3,
        quiet().scheduler(StepLR::new(1).gamma(0.5)),
    )
    .unwrap();
    // The rate each epoch trained with: 0.01, then halved after each epoch.
    assert_eq!(result.lr, [0.01, 0.005, 0.0025]);
    assert_eq!(opt.learning_rate(), 0.00125);
    // Ten loss points per epoch of 4 batches: every batch, x in epochs.
    let xs: Vec<f64> = result.train_loss_steps.iter().map(|p| p.0).collect();
    assert_eq!(xs.len(), 12);
    assert_eq!(&xs[..4], [0.25, 0.5, 0.75, 1.0]);
    assert_eq!(*xs.last().unwrap(), 3.0);
    // The mean of the points of an epoch is the epoch's mean batch loss.
    assert!(result
        .train_loss_steps
        .iter()
        .all(|p| p.1.is_finite() && p.1 > 0.0));
}

#[test]
fn one_cycle_steps_per_batch_and_plateau_watches_the_validation_loss() {
    let _lock = rng_lock();
    cnn_lab::manual_seed(2);
    let (train, val) = (mnist_loader(true, 256, 64), mnist_loader(false, 128, 64));
    let model = TinyCnn::new(10, 0.0);
    let mut opt = Adam::new(model.parameters(), 1e-3);
    let result = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut opt,
        2,
        quiet().scheduler(OneCycleLR::new(0.01)),
    )
    .unwrap();
    // 8 batches in all: total_steps = 8; after each batch's step the
    // optimizer has the scheduler's next rate and beta1.
    use cnn_lab::LrScheduler;
    let mut reference = OneCycleLR::new(0.01);
    let mut steps = vec![reference.start(0.0, 8).unwrap()];
    for _ in 0..8 {
        steps.push(reference.step(None).unwrap());
    }
    assert_eq!(
        result.lr,
        [steps[4].lr, steps[8].lr],
        "the rate at each epoch's end"
    );
    assert_eq!(opt.learning_rate(), steps[8].lr);
    assert_eq!(opt.momentum(), steps[8].momentum, "beta1 cycled");
    assert!(steps[0].lr < steps[2].lr && steps[2].lr > steps[8].lr);

    let model = TinyCnn::new(10, 0.0);
    let mut opt = Adam::new(model.parameters(), 1e-2);
    // patience 0 and a threshold no loss can beat: every epoch after the
    // first is "bad", so the rate drops by 10 after each (epoch 2's drop
    // is what epoch 3 trains with).
    let plateau = ReduceLROnPlateau::new().patience(0).threshold(0.99);
    let result = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut opt,
        3,
        quiet().scheduler(plateau),
    )
    .unwrap();
    assert_eq!(result.lr.len(), 3);
    assert_eq!(result.lr[..2], [0.01, 0.01]);
    assert!((result.lr[2] - 1e-3).abs() < 1e-15, "{:?}", result.lr);
    assert!((opt.learning_rate() - 1e-4).abs() < 1e-15);
}

struct NoParams;
impl Module for NoParams {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        xs.flatten(1, -1).narrow(1, 0, 10)
    }
}

#[test]
fn fit_on_a_model_without_trainable_tensors_is_an_error() {
    let (train, val) = (mnist_loader(true, 64, 64), mnist_loader(false, 64, 64));
    let mut opt = Sgd::new(Vec::<Tensor>::new(), 0.1);
    let err = fit(
        &train,
        &val,
        &NoParams,
        &CrossEntropyLoss::new(),
        &mut opt,
        1,
        quiet(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("has no trainable tensors"), "{err}");
}

#[test]
fn the_live_chart_redraws_at_each_loss_point_and_says_what_it_cost() {
    let _lock = rng_lock();
    cnn_lab::manual_seed(4);
    // The lecture's 235 batches per epoch, of 4 images each to stay fast.
    let (train, val) = (mnist_loader(true, 940, 4), mnist_loader(false, 64, 64));
    let model = TinyCnn::new(10, 0.0);
    let mut opt = Adam::new(model.parameters(), 1e-3);
    let options = FitOptions::default()
        .progress(Progress::Off)
        .live_plot(true);
    let result = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut opt,
        1,
        options,
    )
    .unwrap();
    let points = result.train_loss_steps.len();
    assert!(points >= 5, "{points} points in a 235-batch epoch");
    // One picture per point plus one at the epoch's end.
    let per_redraw = result.chart_s / (points + 1) as f64;
    println!(
        "live chart: {points} points, {} redraws, {:.1} ms each, {:.2}% of the {:.1} s epoch",
        points + 1,
        per_redraw * 1e3,
        100.0 * result.chart_s / result.epoch_s[0],
        result.epoch_s[0]
    );
    assert!(result.chart_s > 0.0);
}
