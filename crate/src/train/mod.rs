//! Training and evaluation (lecture: `module.train`).
//!
//! [`fit`] is the lecture's `fit(train_loader, val_loader, model, loss_fn,
//! optimizer, epochs, save_model_path=…, device=…, mode=…)`: each epoch one
//! training pass ([`train_one_epoch`]), then loss and accuracy over the
//! training and the validation set ([`evaluate`], which is what
//! [`test_multi_classification`] and [`test_binary_classification`] are),
//! the lecture's printout, the best model saved whenever the validation loss
//! improves, optional early stopping.
//!
//! Losses are averaged as the lecture's `test_*` functions do (sum of the
//! per-batch mean losses / number of batches) and accuracy is correct /
//! number of samples. Running sums stay on the device and are read once per
//! pass, so a GPU is not stalled after every batch.
//!
//! ```no_run
//! use cnn_lab::*;
//! # fn demo(model: &dyn Module, train_loader: &DataLoader, test_loader: &DataLoader) -> Result<()> {
//! let device = cuda_if_available();
//! let mut optimizer = Adam::new(model.parameters(), 1e-3);
//! let result = fit(train_loader, test_loader, model, &CrossEntropyLoss::new(), &mut optimizer, 10,
//!     FitOptions::default().save_model_path("models/mnist_cnn.safetensors").device(device).mode(Mode::Multi))?;
//! let (train_loss, train_acc, val_loss, val_acc) = result.into();
//! # let _ = (train_loss, train_acc, val_loss, val_acc); Ok(()) }
//! ```
//!
//! The rooms: `fit.rs` (fit and the training pass), `evaluate.rs` (the
//! `test_*` functions over the one eval-mode batch loop), `device.rs` (where
//! a pass runs: the model's device), `graphed.rs` (one training step, eager
//! or replayed as a CUDA graph), `options.rs`, `progress.rs`.

mod device;
mod evaluate;
mod fine_tune;
mod fit;
mod frozen;
mod graphed;
mod interpret;
mod lr_find;
mod options;
mod parts;
mod progress;

pub use evaluate::{evaluate, test_binary_classification, test_multi_classification};
pub use fine_tune::{fine_tune, FineTune, FineTuneResult};
pub use fit::{fit, train_one_epoch};
pub use frozen::FrozenFeatures;
pub use interpret::{most_confused, plot_top_losses, top_losses, TopLosses};
pub use lr_find::{lr_find, LrFindOptions, LrFinder};
pub use options::{FitOptions, FitResult, Mode};
pub use progress::Progress;

pub(crate) use device::pass_device;
pub(crate) use evaluate::eval_batches;

/// Seeds libtorch's random generators (`torch.manual_seed(seed)`): weight
/// initialisation and dropout. Loader shuffling has its own seed
/// ([`DataLoader::seed`](crate::DataLoader::seed)). The same seeds give the same losses on the CPU.
pub fn manual_seed(seed: i64) {
    tch::manual_seed(seed);
}
