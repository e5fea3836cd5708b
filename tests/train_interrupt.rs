//! Jupyter's Stop (SIGINT) during `fit` and the evaluation loops: the loop
//! stops at the next batch boundary with an `Error::Interrupted` that says
//! where, the model keeps the weights of its last step, and the next loop
//! runs normally. The interrupt is raised from inside the loss function at
//! a chosen batch, so the tests are exact (their own test binary: SIGINT
//! is process-wide).

mod common;
mod train_support;

use std::cell::Cell;

use cnn_lab::*;
use train_support::{mnist_loader, rng_lock, TinyCnn};

/// Cross-entropy that raises SIGINT in its `at`-th call (1-based).
struct InterruptAt {
    at: usize,
    calls: Cell<usize>,
}

impl InterruptAt {
    fn new(at: usize) -> Self {
        InterruptAt {
            at,
            calls: Cell::new(0),
        }
    }
}

impl Loss for InterruptAt {
    fn forward(&self, output: &Tensor, target: &Tensor) -> Tensor {
        self.calls.set(self.calls.get() + 1);
        if self.calls.get() == self.at {
            // SAFETY: raising a signal in our own process; a loop's
            // interrupt guard handles it.
            unsafe {
                libc::raise(libc::SIGINT);
            }
        }
        CrossEntropyLoss::new().forward(output, target)
    }
}

fn quiet() -> FitOptions {
    FitOptions::default().progress(Progress::Off)
}

fn weights(model: &dyn Module) -> f64 {
    model
        .parameters()
        .iter()
        .map(|t| t.abs().sum(Kind::Double).double_value(&[]))
        .sum()
}

#[test]
fn fit_stops_after_the_batch_in_progress_and_everything_stays_usable() {
    let _rng = rng_lock();
    manual_seed(0);
    let model = TinyCnn::new(10, 0.3);
    let train = mnist_loader(true, 2048, 256); // 8 batches
    let val = mnist_loader(false, 512, 256);
    let mut optimizer = Adam::new(model.parameters(), 1e-2);
    let before = weights(&model);

    let err = fit(
        &train,
        &val,
        &model,
        &InterruptAt::new(3),
        &mut optimizer,
        3,
        quiet(),
    )
    .expect_err("an interrupt stops fit");
    let text = err.to_string();
    assert!(matches!(err, Error::Interrupted(_)), "{err:?}");
    assert_eq!(
        text,
        "interrupted in epoch 1/3, during the training pass, after batch 3/8; \
         the model keeps the weights of its last step"
    );
    assert_ne!(weights(&model), before, "three steps were taken");

    // Nothing is left pending: the same model and optimizer train on.
    let result = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        1,
        quiet(),
    )
    .expect("fit after an interrupt");
    assert_eq!(result.val_loss.len(), 1);
}

#[test]
fn an_interrupt_in_a_later_epoch_says_where_the_best_checkpoint_is() {
    let dir = common::scratch_dir("fit_interrupted");
    let path = dir.join("best.safetensors");
    let _rng = rng_lock();
    manual_seed(0);
    let model = TinyCnn::new(10, 0.3);
    let train = mnist_loader(true, 1024, 256); // 4 training batches
    let val = mnist_loader(false, 512, 256); // 2 validation batches
    let mut optimizer = Adam::new(model.parameters(), 1e-2);
    // Epoch 1 calls the loss 4 + 4 + 2 = 10 times; call 12 is epoch 2's 2nd batch.
    let err = fit(
        &train,
        &val,
        &model,
        &InterruptAt::new(12),
        &mut optimizer,
        5,
        quiet().save_model_path(&path),
    )
    .expect_err("an interrupt stops fit");
    let text = err.to_string();
    assert!(
        text.starts_with("interrupted in epoch 2/5, during the training pass, after batch 2/4;"),
        "{text}"
    );
    assert!(
        text.contains("best checkpoint (epoch 1, val loss "),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("is at {}", path.display())),
        "{text}"
    );
    assert!(path.exists());
}

#[test]
fn evaluation_loops_stop_at_the_next_batch() {
    let _rng = rng_lock();
    let model = TinyCnn::new(10, 0.0);
    let val = mnist_loader(false, 1024, 256); // 4 batches
    let err = test_multi_classification(&val, &model, &InterruptAt::new(2), Device::Cpu)
        .expect_err("an interrupt stops the evaluation");
    assert_eq!(
        err.to_string(),
        "interrupted during the evaluation pass, after batch 2/4"
    );
    let (loss, _) = test_multi_classification(&val, &model, &CrossEntropyLoss::new(), Device::Cpu)
        .expect("evaluation after an interrupt");
    assert!(loss.is_finite());
}
