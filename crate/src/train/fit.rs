//! `fit` and the training pass it runs each epoch.

use std::time::Instant;

use tch::{Device, Kind, Tensor};

use super::device::pass_device;
use super::evaluate::{evaluate, non_empty};
use super::graphed::{eager_step, GraphedStep};
use super::options::{FitOptions, FitResult};
use super::progress::{Progress, ProgressLine};
use crate::checkpoint::save_model;
use crate::data::DataLoader;
use crate::display::{display_updates_supported, DisplayHandle};
use crate::error::{Error, Result};
use crate::interrupt::InterruptGuard;
use crate::loss::Loss;
use crate::nn::ModuleExt;
use crate::optim::Optimizer;
use crate::pyfmt::py_float;
use crate::utils::plot_fit_result;

/// Trains `model` for `epochs` epochs; the lecture's `fit`.
///
/// After each epoch prints
/// `Epoch[1/10] - Train loss: 0.12209 Train Accucracy: 0.98235 || Validation Loss: 0.11540 Validation Accuracy: 0.98410`
/// (the lecture's wording) and, when the validation loss improved and a
/// save path is set, saves the model and prints
/// `<<<<<<<저장: 1 - 이전 : inf, 현재: 0.11539805261418223`; at the end the
/// elapsed seconds. A loss that becomes NaN or infinite stops with
/// [`Error::Training`] (the best checkpoint stays as it was); a forward
/// pass that panics (e.g. a shape mismatch) returns [`Error::Shape`]; an
/// interrupt (Jupyter's Stop, Ctrl-C) stops it after the batch in progress
/// with [`Error::Interrupted`], saying where and where the best checkpoint is.
///
/// In a notebook (the project's kernel) the progress is one output updated
/// in place and, unless [`FitOptions::live_plot`] says otherwise, the loss
/// and accuracy chart is redrawn in place after every epoch.
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
    let device = pass_device(model, train_loader, options.device)?;
    pass_device(model, val_loader, options.device)?;
    let _interrupt = InterruptGuard::new();
    let mut live_plot = options
        .live_plot
        .unwrap_or_else(|| options.progress != Progress::Off && display_updates_supported())
        .then(DisplayHandle::new);
    let mut progress = DisplayHandle::new();
    let mut graphed = GraphedStep::for_fit(
        options.cuda_graph,
        device,
        optimizer,
        train_loader.batch_size(),
    )?;
    let start = Instant::now();
    let mut result = FitResult::default();
    let mut best = f64::INFINITY;
    let mut since_best = 0;

    for epoch in 1..=epochs {
        let interrupted = |e| interrupted_in_epoch(e, epoch, epochs, best, &result, &options);
        let started = Instant::now();
        let loss = train_pass(
            train_loader,
            model,
            loss_fn,
            optimizer,
            device,
            graphed.as_mut(),
            &mut ProgressLine::new(
                options.progress,
                train_loader.len(),
                &format!("Epoch[{epoch}/{epochs}]"),
                &mut progress,
            ),
        )
        .map_err(interrupted)?;
        check_finite(loss, "training", epoch, epochs, &result, &options)?;
        let train_pass_s = started.elapsed().as_secs_f64();
        let (train_loss, train_acc) =
            evaluate(train_loader, model, loss_fn, options.mode, device).map_err(interrupted)?;
        let (val_loss, val_acc) =
            evaluate(val_loader, model, loss_fn, options.mode, device).map_err(interrupted)?;
        check_finite(val_loss, "validation", epoch, epochs, &result, &options)?;
        result.train_pass_s.push(train_pass_s);
        result.epoch_s.push(started.elapsed().as_secs_f64());
        result.cuda_graph = graphed.as_ref().is_some_and(GraphedStep::captured);
        result.train_loss.push(train_loss);
        result.train_accuracy.push(train_acc);
        result.val_loss.push(val_loss);
        result.val_accuracy.push(val_acc);
        println!(
            "{}",
            epoch_line(epoch, epochs, [train_loss, train_acc, val_loss, val_acc])
        );
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
            }
        }
        if let Some(handle) = &mut live_plot {
            redraw(handle, &result);
        }
        if result.stopped_early {
            break;
        }
    }
    result.elapsed = start.elapsed();
    println!("{} 초", py_float(result.elapsed.as_secs_f64()));
    Ok(result)
}

/// One training pass over `loader` in train mode (`model.train()`):
/// forward, loss, backward, optimizer step per batch. Returns the mean of
/// the per-batch losses, as measured during the pass. `device` is
/// `None` for the model's own device, or a device to say so explicitly
/// (see [`FitOptions::device`]).
pub fn train_one_epoch<M, L, O>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    optimizer: &mut O,
    device: impl Into<Option<Device>>,
) -> Result<f64>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
    O: Optimizer + ?Sized,
{
    let device = pass_device(model, loader, device.into())?;
    let mut progress = DisplayHandle::new();
    let mut line = ProgressLine::new(Progress::Auto, loader.len(), "", &mut progress);
    train_pass(loader, model, loss_fn, optimizer, device, None, &mut line)
}

fn train_pass<M, L, O>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    optimizer: &mut O,
    device: Device,
    mut graphed: Option<&mut GraphedStep>,
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
        let loss = match graphed.as_deref_mut() {
            Some(graphed) => graphed.step(model, loss_fn, optimizer, &x, &y)?,
            None => eager_step(model, loss_fn, optimizer, &x, &y)?,
        };
        let _ = loss_sum.shallow_clone().g_add_(&loss.to_kind(Kind::Double));
        if interrupt.interrupted() {
            line.clear();
            return Err(Error::Interrupted(format!(
                "during the training pass, after batch {}/{batches}",
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

/// The live chart: the picture `plot_fit_result` draws, for the epochs so
/// far, in place of the last one. A picture that fails to draw must not
/// stop training; `plot_fit_result` reports it when called at the end.
fn redraw(handle: &mut DisplayHandle, so_far: &FitResult) {
    if let Ok(png) = plot_fit_result(
        &so_far.train_loss,
        &so_far.train_accuracy,
        &so_far.val_loss,
        &so_far.val_accuracy,
    ) {
        handle.show("image/png", &png.base64());
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
