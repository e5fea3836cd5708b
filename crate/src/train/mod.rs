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

mod progress;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tch::{Device, Kind, Tensor};

pub use progress::Progress;
use progress::ProgressLine;

use crate::checkpoint::save_model;
use crate::data::DataLoader;
use crate::display::{display_updates_supported, py_float, DisplayHandle};
use crate::error::{catch_torch, Error, Result};
use crate::interrupt::InterruptGuard;
use crate::loss::{binary_pair, Loss};
use crate::nn::ModuleExt;
use crate::optim::Optimizer;
use crate::utils::plot_fit_result;

/// The kind of classification, which decides how accuracy is counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// One logit per sample (`[N, 1]` or `[N]`); predicted class is
    /// `sigmoid(logit) >= 0.5`, compared with a 0/1 label. Pair with
    /// [`crate::BCEWithLogitsLoss`].
    Binary,
    /// One logit per class (`[N, C]`); predicted class is the argmax,
    /// compared with the class index. Pair with [`crate::CrossEntropyLoss`].
    #[default]
    Multi,
}

/// `fit`'s options beyond the positional ones (the lecture's keyword
/// arguments). Defaults: CPU, [`Mode::Multi`], no saving, no early
/// stopping, progress line automatic.
#[derive(Clone, Debug, Default)]
pub struct FitOptions {
    save_model_path: Option<PathBuf>,
    device: Option<Device>,
    mode: Mode,
    patience: Option<usize>,
    progress: Progress,
    live_plot: Option<bool>,
}

impl FitOptions {
    /// Save the model (safetensors, see [`crate::save_model`]) here whenever
    /// the validation loss improves (`save_model_path=`).
    pub fn save_model_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.save_model_path = Some(path.into());
        self
    }

    /// The device to train on (`device=`); batches are moved there unless
    /// the loader already holds them there. The model must already be on it.
    pub fn device(mut self, device: Device) -> Self {
        self.device = Some(device);
        self
    }

    /// Binary or multi-class (`mode="binary"` / `mode="multi"`).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Stop after `patience` epochs in a row without a better validation
    /// loss (`early_stopping=True, patience=…`).
    pub fn early_stopping(mut self, patience: usize) -> Self {
        self.patience = Some(patience);
        self
    }

    /// Whether to show the live progress line within an epoch.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Whether to redraw the loss and accuracy chart (the picture
    /// [`crate::plot_fit_result`] draws) in place after every epoch, as
    /// d2l's `Animator` does. Default: on where the notebook can replace an
    /// output in place (the project's kernel), which costs one small PNG per
    /// epoch; elsewhere there is nothing to redraw and it stays off.
    pub fn live_plot(mut self, on: bool) -> Self {
        self.live_plot = Some(on);
        self
    }
}

/// What [`fit`] returns: the four histories, one value per epoch run.
///
/// Destructures like the lecture's tuple:
/// `let (train_loss, train_acc, val_loss, val_acc) = result.into();`
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FitResult {
    /// Mean training-set loss per epoch (measured in eval mode after the epoch).
    pub train_loss: Vec<f64>,
    /// Training-set accuracy per epoch.
    pub train_accuracy: Vec<f64>,
    /// Mean validation loss per epoch.
    pub val_loss: Vec<f64>,
    /// Validation accuracy per epoch.
    pub val_accuracy: Vec<f64>,
    /// The 1-based epoch with the lowest validation loss.
    pub best_epoch: Option<usize>,
    /// True when early stopping ended training before `epochs`.
    pub stopped_early: bool,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
}

impl From<FitResult> for (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    fn from(r: FitResult) -> Self {
        (r.train_loss, r.train_accuracy, r.val_loss, r.val_accuracy)
    }
}

/// Seeds libtorch's random generators (`torch.manual_seed(seed)`): weight
/// initialisation and dropout. Loader shuffling has its own seed
/// ([`DataLoader::seed`]). The same seeds give the same losses on the CPU.
pub fn manual_seed(seed: i64) {
    tch::manual_seed(seed);
}

/// Trains `model` for `epochs` epochs; the lecture's `fit`.
///
/// After each epoch prints
/// `Epoch[1/10] - Train loss: 0.12209 Train Accucracy: 0.98235 || Validation Loss: 0.11540 Validation Accuracy: 0.98410`
/// (the lecture's wording) and, when the validation loss improved and a
/// save path is set, saves the model and prints
/// `<<<<<<<저장: 1 - 이전 : inf, 현재: 0.11539805261418223`; at the end the
/// elapsed seconds. A loss that becomes NaN or infinite stops with
/// [`Error::Training`] (the best checkpoint stays as it was); a forward
/// pass that panics (e.g. a shape mismatch) returns [`Error::Shape`].
pub fn fit<M, L, O>(
    train_loader: &DataLoader,
    val_loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    optimizer: &mut O,
    epochs: usize,
    options: FitOptions,
) -> Result<FitResult>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
    O: Optimizer + ?Sized,
{
    let device = options.device.unwrap_or(Device::Cpu);
    check_model_device(model, device)?;
    let _interrupt = InterruptGuard::new();
    let mut live_plot = options
        .live_plot
        .unwrap_or_else(|| options.progress != Progress::Off && display_updates_supported())
        .then(DisplayHandle::new);
    let mut progress = DisplayHandle::new();
    let start = Instant::now();
    let mut result = FitResult::default();
    let mut best = f64::INFINITY;
    let mut since_best = 0;

    for epoch in 1..=epochs {
        let interrupted = |e| interrupted_in_epoch(e, epoch, epochs, best, &result, &options);
        let loss = train_pass(
            train_loader,
            model,
            loss_fn,
            optimizer,
            device,
            &mut ProgressLine::new(
                options.progress,
                train_loader.len(),
                &format!("Epoch[{epoch}/{epochs}]"),
                &mut progress,
            ),
        )
        .map_err(interrupted)?;
        check_finite(loss, "training", epoch, epochs, &result, &options)?;
        let (train_loss, train_acc) =
            evaluate(train_loader, model, loss_fn, options.mode, device).map_err(interrupted)?;
        let (val_loss, val_acc) =
            evaluate(val_loader, model, loss_fn, options.mode, device).map_err(interrupted)?;
        check_finite(val_loss, "validation", epoch, epochs, &result, &options)?;
        result.train_loss.push(train_loss);
        result.train_accuracy.push(train_acc);
        result.val_loss.push(val_loss);
        result.val_accuracy.push(val_acc);
        println!(
            "{}",
            epoch_line(epoch, epochs, [train_loss, train_acc, val_loss, val_acc])
        );
        if let Some(handle) = &mut live_plot {
            // A picture that fails to draw must not stop training;
            // plot_fit_result reports it when called at the end.
            if let Ok(png) = plot_fit_result(
                &result.train_loss,
                &result.train_accuracy,
                &result.val_loss,
                &result.val_accuracy,
            ) {
                handle.show("image/png", &png.base64());
            }
        }

        if val_loss < best {
            if let Some(path) = &options.save_model_path {
                println!(
                    "<<<<<<<저장: {epoch} - 이전 : {}, 현재: {}",
                    py_float(best),
                    py_float(val_loss)
                );
                save_model(model, path)?;
            }
            best = val_loss;
            result.best_epoch = Some(epoch);
            since_best = 0;
        } else {
            since_best += 1;
            if options.patience.is_some_and(|p| since_best >= p) {
                println!(
                    "Early stopping: Epoch - {epoch} (no better validation loss for {since_best} epochs)"
                );
                result.stopped_early = true;
                break;
            }
        }
    }
    result.elapsed = start.elapsed();
    println!("{} 초", py_float(result.elapsed.as_secs_f64()));
    Ok(result)
}

/// One training pass over `loader` in train mode (`model.train()`):
/// forward, loss, backward, optimizer step per batch. Returns the mean of
/// the per-batch losses, as measured during the pass.
pub fn train_one_epoch<M, L, O>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    optimizer: &mut O,
    device: Device,
) -> Result<f64>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
    O: Optimizer + ?Sized,
{
    check_model_device(model, device)?;
    let mut progress = DisplayHandle::new();
    let mut line = ProgressLine::new(Progress::Auto, loader.len(), "", &mut progress);
    train_pass(loader, model, loss_fn, optimizer, device, &mut line)
}

fn train_pass<M, L, O>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    optimizer: &mut O,
    device: Device,
    line: &mut ProgressLine<'_>,
) -> Result<f64>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
    O: Optimizer + ?Sized,
{
    let batches = non_empty(loader, "training")?;
    let interrupt = InterruptGuard::new();
    let loss_sum = Tensor::zeros([], (Kind::Double, device));
    let mut samples = 0;
    for (i, (x, y)) in loader.iter().enumerate() {
        let (x, y) = (x.to_device(device), y.to_device(device));
        samples += x.size().first().copied().unwrap_or(0) as usize;
        optimizer.zero_grad()?;
        catch_torch("training pass", || {
            let output = model.forward_t(&x, true);
            let loss = loss_fn.forward(&output, &y);
            loss.backward();
            let _guard = tch::no_grad_guard();
            let _ = loss_sum
                .shallow_clone()
                .g_add_(&loss.detach().to_kind(Kind::Double));
        })?;
        optimizer.step()?;
        if interrupt.interrupted() {
            line.clear();
            return Err(Error::Interrupted(format!(
                "in the training pass after batch {}/{batches}",
                i + 1
            )));
        }
        if line.due() {
            line.show(i + 1, loss_sum.double_value(&[]) / (i + 1) as f64, samples);
        }
    }
    let loss = loss_sum.double_value(&[]) / batches as f64;
    line.finish(loss, samples);
    Ok(loss)
}

/// Loss and accuracy of `model` over `loader` in eval mode, without
/// gradients: `(sum of per-batch mean losses / batches, correct / samples)`.
pub fn evaluate<M, L>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    mode: Mode,
    device: Device,
) -> Result<(f64, f64)>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
{
    let batches = non_empty(loader, "evaluation")?;
    check_model_device(model, device)?;
    let _guard = tch::no_grad_guard();
    let interrupt = InterruptGuard::new();
    let loss_sum = Tensor::zeros([], (Kind::Double, device));
    let correct = Tensor::zeros([], (Kind::Int64, device));
    for (i, (x, y)) in loader.iter().enumerate() {
        if interrupt.interrupted() {
            return Err(Error::Interrupted(format!(
                "in an evaluation pass after batch {i}/{batches}"
            )));
        }
        let (x, y) = (x.to_device(device), y.to_device(device));
        catch_torch("evaluation pass", || {
            let output = model.forward_t(&x, false);
            let loss = loss_fn.forward(&output, &y);
            let _ = loss_sum.shallow_clone().g_add_(&loss.to_kind(Kind::Double));
            let _ = correct
                .shallow_clone()
                .g_add_(&count_correct(&output, &y, mode));
        })?;
    }
    let loss = loss_sum.double_value(&[]) / batches as f64;
    let accuracy = correct.int64_value(&[]) as f64 / loader.num_samples() as f64;
    Ok((loss, accuracy))
}

/// The lecture's `test_multi_classification(dataloader, model, loss_fn,
/// device)`: `(loss, accuracy)` with argmax predictions.
pub fn test_multi_classification<M, L>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    device: Device,
) -> Result<(f64, f64)>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
{
    evaluate(loader, model, loss_fn, Mode::Multi, device)
}

/// The lecture's `test_binary_classification(dataloader, model, loss_fn,
/// device)`: `(loss, accuracy)` with `sigmoid(logit) >= 0.5` predictions.
pub fn test_binary_classification<M, L>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    device: Device,
) -> Result<(f64, f64)>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
{
    evaluate(loader, model, loss_fn, Mode::Binary, device)
}

fn count_correct(output: &Tensor, target: &Tensor, mode: Mode) -> Tensor {
    match mode {
        Mode::Multi => output.argmax(-1, false).eq_tensor(target).sum(Kind::Int64),
        Mode::Binary => {
            let (output, target) = binary_pair(output, target);
            output
                .sigmoid()
                .ge(0.5)
                .eq_tensor(&target.ge(0.5))
                .sum(Kind::Int64)
        }
    }
}

fn non_empty(loader: &DataLoader, what: &str) -> Result<usize> {
    match loader.len() {
        0 => Err(Error::InvalidArgument(format!(
            "{what}: the loader has no batch ({} samples)",
            loader.num_samples()
        ))),
        n => Ok(n),
    }
}

/// A model on another device than the batches would fail inside libtorch
/// with a less readable message; moving it here would leave an optimizer
/// built over it with state on the old device, so ask the user to move it.
fn check_model_device<M: ModuleExt + ?Sized>(model: &M, device: Device) -> Result<()> {
    match model
        .named_tensors()
        .into_iter()
        .find(|t| t.tensor.device() != device)
    {
        None => Ok(()),
        Some(t) => Err(Error::InvalidArgument(format!(
            "the model's tensor {} is on {:?} but the device asked for is {device:?}: \
             call model.to_device(device) before creating the optimizer",
            t.name,
            t.tensor.device()
        ))),
    }
}

/// Adds to an [`Error::Interrupted`] from a pass which epoch it was and
/// where the best checkpoint is; other errors pass through.
fn interrupted_in_epoch(
    error: Error,
    epoch: usize,
    epochs: usize,
    best: f64,
    so_far: &FitResult,
    options: &FitOptions,
) -> Error {
    let Error::Interrupted(what) = error else {
        return error;
    };
    let kept = match (&options.save_model_path, so_far.best_epoch) {
        (Some(path), Some(best_epoch)) => format!(
            "; best checkpoint (epoch {best_epoch}, val loss {}) is at {}",
            py_float(best),
            path.display()
        ),
        _ => String::new(),
    };
    Error::Interrupted(format!(
        "in epoch {epoch}/{epochs}, {what}; the model keeps the weights of its last step{kept}"
    ))
}

fn check_finite(
    loss: f64,
    pass: &str,
    epoch: usize,
    epochs: usize,
    so_far: &FitResult,
    options: &FitOptions,
) -> Result<()> {
    if loss.is_finite() {
        return Ok(());
    }
    let kept = match (&options.save_model_path, so_far.best_epoch) {
        (Some(path), Some(best)) => format!(
            "; the best model (epoch {best}) is kept in {}",
            path.display()
        ),
        _ => String::new(),
    };
    Err(Error::Training(format!(
        "the {pass} loss became {} in epoch {epoch}/{epochs} (try a smaller learning rate){kept}",
        py_float(loss)
    )))
}

/// The lecture's per-epoch line, its spelling ("Accucracy") included.
fn epoch_line(epoch: usize, epochs: usize, [tl, ta, vl, va]: [f64; 4]) -> String {
    format!(
        "Epoch[{epoch}/{epochs}] - Train loss: {tl:.5} Train Accucracy: {ta:.5} \
         || Validation Loss: {vl:.5} Validation Accuracy: {va:.5}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_line_is_the_lectures() {
        assert_eq!(
            epoch_line(1, 10, [0.122094, 0.982351, 0.11539805261418223, 0.9841]),
            "Epoch[1/10] - Train loss: 0.12209 Train Accucracy: 0.98235 || \
             Validation Loss: 0.11540 Validation Accuracy: 0.98410"
        );
    }
}
