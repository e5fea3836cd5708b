//! `fit` on a GPU: its default CUDA graph, and what happens to a step that
//! cannot be captured. These need a GPU, so they are `#[ignore]`d: a plain
//! `cargo test` lists them as ignored, never as passed.
//! `scripts/gpu_check.sh --prepare` builds this test binary and `--run` runs
//! it with `--ignored` on a GPU machine, where a missing GPU fails them (the
//! CPU side of the option is tested in `tests/train_fit.rs`).

mod common;
mod train_support;

use cnn_lab::*;
use train_support::{mnist_loader, rng_lock, TinyCnn};

/// The GPU; a test run with `--ignored` on a machine without one fails.
fn gpu() -> Device {
    let device = cuda_if_available();
    assert!(device.is_cuda(), "no CUDA device: this test needs a GPU");
    device
}

fn quiet() -> FitOptions {
    FitOptions::default()
        .progress(Progress::Off)
        .live_plot(false)
}

/// TinyCnn whose training forward reads a value back to the CPU, as a
/// model that logs or branches on a tensor's value would: a CUDA graph
/// cannot capture that.
struct ReadsBack(TinyCnn);

impl Module for ReadsBack {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let out = self.0.forward_t(xs, train);
        if train {
            let _ = out.double_value(&[0, 0]);
        }
        out
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.0.children()
    }
}

/// Two epochs of 8 full batches and a smaller last one (MNIST's first
/// 2,100 images), on `device`, with `options`.
fn train<M: Module>(model: &M, device: Device, options: FitOptions) -> Result<FitResult> {
    model.to_device(device);
    let train = mnist_loader(true, 2100, 256)
        .shuffle(true)
        .seed(3)
        .device(device);
    let val = mnist_loader(false, 1000, 256).device(device);
    let mut optimizer = Adam::new(model.parameters(), 1e-2);
    fit(
        &train,
        &val,
        model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        2,
        options,
    )
}

#[test]
#[ignore = "needs a CUDA GPU (scripts/gpu_check.sh runs it)"]
fn by_default_a_gpu_trains_through_a_graph_as_it_would_eagerly() {
    let device = gpu();
    let _rng = rng_lock();
    // No dropout: the graphed and the eager run then draw nothing at random
    // and differ only by the GPU's rounding.
    manual_seed(0);
    let graphed = train(&TinyCnn::new(10, 0.0), device, quiet()).unwrap();
    manual_seed(0);
    let eager = train(&TinyCnn::new(10, 0.0), device, quiet().cuda_graph(false)).unwrap();
    assert!(graphed.cuda_graph, "fit's default on a GPU replays a graph");
    assert!(!eager.cuda_graph);
    // Not bit for bit: cuDNN's backward sums in no fixed order, and Adam's
    // first steps (about lr·sign(gradient)) turn the tiny differences of
    // near-zero gradients into whole steps. One H200 run: 0.1 % and 0.6 %
    // apart after one and two epochs. A graph that replayed stale inputs
    // or skipped updates would be far further off.
    for (g, e) in graphed.val_loss.iter().zip(&eager.val_loss) {
        assert!(
            (g - e).abs() < 0.05 * e,
            "{:?} vs {:?}",
            graphed.val_loss,
            eager.val_loss
        );
    }
    // It learned (chance is 0.1).
    assert!(graphed.val_accuracy[1] > 0.5, "{:?}", graphed.val_accuracy);
}

#[test]
#[ignore = "needs a CUDA GPU (scripts/gpu_check.sh runs it)"]
fn a_step_that_cannot_be_captured_trains_eagerly_by_default() {
    let device = gpu();
    let _rng = rng_lock();
    manual_seed(0);
    let result = train(&ReadsBack(TinyCnn::new(10, 0.3)), device, quiet()).unwrap();
    assert!(!result.cuda_graph);
    assert!(
        result.val_loss[1] < result.val_loss[0],
        "{:?}",
        result.val_loss
    );
    assert!(result.val_accuracy[1] > 0.5, "{:?}", result.val_accuracy);
}

#[test]
#[ignore = "needs a CUDA GPU (scripts/gpu_check.sh runs it)"]
fn a_step_that_cannot_be_captured_is_an_error_when_a_graph_is_insisted_on() {
    let device = gpu();
    let _rng = rng_lock();
    manual_seed(0);
    let err = train(
        &ReadsBack(TinyCnn::new(10, 0.3)),
        device,
        quiet().cuda_graph(true),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("CUDA: capturing the training step as a CUDA graph: ")
            && err.ends_with("(FitOptions::cuda_graph(false) trains without a graph)"),
        "{err}"
    );
}
