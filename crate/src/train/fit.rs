//! `fit` and the training pass it runs each epoch. The loop trains,
//! evaluates and prints the lecture's line; everything else is a part
//! ([`super::parts`]) hooked into it.

use std::time::Instant;

use tch::{Device, Kind, Tensor};

use super::device::pass_device;
use super::evaluate::{evaluate, evaluate_features, non_empty};
use super::frozen::{self, FeatureCache, Frozen, Split};
use super::graphed::{eager_step, GraphedStep};
use super::options::{FitOptions, FitResult};
use super::parts::best::{BestModel, EarlyStopping};
use super::parts::chart::{LiveChart, LossPoints};
use super::parts::resume::{Resume, SaveCheckpoint};
use super::parts::schedule::Schedule;
use super::parts::{BatchEnd, Learner, Part};
use super::progress::{Progress, ProgressLine};
use crate::data::DataLoader;
use crate::display::{display_updates_supported, DisplayHandle};
use crate::error::{Error, Result};
use crate::interrupt::InterruptGuard;
use crate::loss::Loss;
use crate::nn::{Module, ModuleExt};
use crate::optim::Optimizer;
use crate::pyfmt::py_float;

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
/// A model without trainable tensors is an [`Error::InvalidArgument`].
///
/// In a notebook (the project's kernel) the progress is one output updated
/// in place and, unless [`FitOptions::live_plot`] says otherwise, the loss
/// and accuracy chart is redrawn in place about ten times per epoch.
/// [`FitOptions::scheduler`] and [`FitOptions::resume_from`] add a
/// learning-rate schedule and a training checkpoint to resume from.
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
    let parameters = model.parameters();
    if parameters.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "fit: the model ({}) has no trainable tensors, so there is nothing to train",
            model.type_name()
        )));
    }
    if !parameters.iter().any(Tensor::requires_grad) {
        return Err(Error::InvalidArgument(format!(
            "fit: every parameter of the model ({}) is frozen (requires_grad_(false)), so there \
             is nothing to train; unfreeze a part, e.g. model.fc.requires_grad_(true)",
            model.type_name()
        )));
    }
    let _interrupt = InterruptGuard::new();
    let mut graphed = GraphedStep::for_fit(
        graph_setting(&options)?,
        device,
        optimizer,
        train_loader.batch_size(),
    )?;
    let (mut cache, eval_mode, skipped) =
        match frozen::cache_for(model.as_dyn(), [train_loader, val_loader], device, &options) {
            Frozen::Cache(cache) => (Some(cache), None, None),
            Frozen::EvalMode(split, why) => (None, Some(split), Some(why)),
            Frozen::Whole(why) => (None, None, Some(why)),
        };
    let mut parts = fit_parts::<M, O>(&options, train_loader, val_loader);
    let start = Instant::now();
    let mut learner = Learner {
        model,
        optimizer,
        options: &options,
        epoch: 0,
        epochs,
        batches: train_loader.len(),
        first_epoch: 1,
        result: FitResult::default(),
        scheduler: options.scheduler.clone(),
        best: f64::INFINITY,
        stop: false,
    };
    for part in &mut parts {
        part.fit_start(&mut learner)?;
    }
    let mut progress = DisplayHandle::new();
    for epoch in learner.first_epoch..=epochs {
        learner.epoch = epoch;
        for part in &mut parts {
            part.epoch_start(&mut learner)?;
        }
        let started = Instant::now();
        let mut line = ProgressLine::new(
            options.progress,
            train_loader.len(),
            &format!("Epoch[{epoch}/{epochs}]"),
            &mut progress,
        );
        let pass = train_pass(
            train_loader,
            &mut learner,
            loss_fn,
            device,
            graphed.as_mut(),
            &mut line,
            &mut parts,
            cache.as_mut(),
            eval_mode.as_ref(),
        );
        drop(line);
        let loss = pass.map_err(|e| interrupted_in_epoch(e, &learner))?;
        check_finite(loss, "training", &learner)?;
        let train_pass_s = started.elapsed().as_secs_f64();
        let mut evaluate_on = |loader: &DataLoader| match cache.as_mut() {
            Some(cache) => evaluate_features(loader, cache, loss_fn, options.mode, device),
            None => evaluate(loader, model, loss_fn, options.mode, device),
        };
        let evaluated =
            evaluate_on(train_loader).and_then(|train| Ok((train, evaluate_on(val_loader)?)));
        let ((train_loss, train_acc), (val_loss, val_acc)) =
            evaluated.map_err(|e| interrupted_in_epoch(e, &learner))?;
        check_finite(val_loss, "validation", &learner)?;
        let result = &mut learner.result;
        result.train_pass_s.push(train_pass_s);
        result.epoch_s.push(started.elapsed().as_secs_f64());
        result.cuda_graph = graphed.as_ref().is_some_and(GraphedStep::captured);
        result.train_loss.push(train_loss);
        result.train_accuracy.push(train_acc);
        result.val_loss.push(val_loss);
        result.val_accuracy.push(val_acc);
        result.lr.push(learner.optimizer.learning_rate());
        println!(
            "{}",
            epoch_line(epoch, epochs, [train_loss, train_acc, val_loss, val_acc])
        );
        for part in &mut parts {
            part.epoch_end(&mut learner)?;
        }
        if learner.stop {
            break;
        }
    }
    let mut result = learner.result;
    result.elapsed = start.elapsed();
    match cache.as_ref().map(|c| (c.off(), c.report())) {
        Some((Some(off), _)) => result.frozen_features_skipped = Some(off.to_string()),
        Some((None, report)) => result.frozen_features = Some(report),
        None => result.frozen_features_skipped = skipped,
    }
    if let Some(split) = &eval_mode {
        result.frozen_stages_in_eval_mode = split.names().to_vec();
    }
    println!("{} 초", py_float(result.elapsed.as_secs_f64()));
    Ok(result)
}

/// [`FitOptions::cuda_graph`] given a scheduler: a captured step keeps the
/// learning rate it was captured with, so a scheduled run trains eagerly
/// (and `cuda_graph(true)` with a scheduler is an error saying so).
fn graph_setting(options: &FitOptions) -> Result<Option<bool>> {
    match (&options.scheduler, options.cuda_graph) {
        (Some(s), Some(true)) => Err(Error::InvalidArgument(format!(
            "FitOptions::cuda_graph(true) cannot go with the scheduler {}: a captured step \
             keeps the learning rate it was captured with",
            s.name()
        ))),
        (Some(_), _) => Ok(Some(false)),
        (None, setting) => Ok(setting),
    }
}

/// The parts of a `fit` run, in the order their hooks run (see
/// [`parts`](super::parts)).
fn fit_parts<'p, M, O>(
    options: &FitOptions,
    train_loader: &'p DataLoader,
    val_loader: &'p DataLoader,
) -> Vec<Box<dyn Part<M, O> + 'p>>
where
    M: ModuleExt + ?Sized,
    O: Optimizer + ?Sized,
{
    let mut parts: Vec<Box<dyn Part<M, O> + 'p>> = Vec::new();
    if let Some(path) = &options.resume_from {
        parts.push(Box::new(Resume::new(path, train_loader, val_loader)));
    }
    parts.push(Box::new(LossPoints::new()));
    parts.push(Box::new(Schedule));
    parts.push(Box::new(BestModel {
        path: options.save_model_path.clone(),
    }));
    if let Some(patience) = options.patience {
        parts.push(Box::new(EarlyStopping { patience }));
    }
    let live_plot = options
        .live_plot
        .unwrap_or_else(|| options.progress != Progress::Off && display_updates_supported());
    if live_plot {
        parts.push(Box::new(LiveChart::new()));
    }
    if let Some(path) = &options.resume_from {
        // Last at the epoch's end: the checkpoint holds what the others did.
        parts.push(Box::new(SaveCheckpoint {
            path: path.clone(),
            seed: train_loader.shuffle_seed(),
        }));
    }
    parts
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
    let options = FitOptions::default();
    let mut learner = Learner {
        model,
        optimizer,
        options: &options,
        epoch: 1,
        epochs: 1,
        batches: loader.len(),
        first_epoch: 1,
        result: FitResult::default(),
        scheduler: None,
        best: f64::INFINITY,
        stop: false,
    };
    train_pass(
        loader,
        &mut learner,
        loss_fn,
        device,
        None,
        &mut line,
        &mut [],
        None,
        None,
    )
}

/// The training pass of one epoch, each batch's step followed by the
/// parts' `batch_end` hooks. With `cache`, the batches are the frozen
/// part's output and the step trains the rest of the model on them; with
/// `eval_mode`, the step runs the model as that split runs it (the frozen
/// part in eval mode, without gradients).
#[allow(clippy::too_many_arguments)]
fn train_pass<M, L, O>(
    loader: &DataLoader,
    learner: &mut Learner<'_, M, O>,
    loss_fn: &L,
    device: Device,
    mut graphed: Option<&mut GraphedStep>,
    line: &mut ProgressLine<'_>,
    parts: &mut [Box<dyn Part<M, O> + '_>],
    cache: Option<&mut FeatureCache<'_>>,
    eval_mode: Option<&Split<'_>>,
) -> Result<f64>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
    O: Optimizer + ?Sized,
{
    let batches = non_empty(loader, "training")?;
    let interrupt = InterruptGuard::new();
    let loss_sum = Tensor::zeros([], (Kind::Double, device));
    let scheduled = learner.scheduler.is_some();
    let mut samples = 0;
    let mut kept = cache.map(|c| c.pass(loader));
    let mut plain = kept.is_none().then(|| loader.try_iter());
    for i in 0.. {
        let next = match (&mut kept, &mut plain) {
            (Some(pass), _) => pass.next_batch(),
            (None, Some(batches)) => batches.next(),
            (None, None) => None,
        };
        let Some(batch) = next else { break };
        let (x, y) = batch?;
        let (x, y) = (x.to_device(device), y.to_device(device));
        samples += x.size().first().copied().unwrap_or(0) as usize;
        let whole: &M = learner.model;
        let model: &dyn Module = match (&kept, eval_mode) {
            (Some(pass), _) => pass.rest(),
            (None, Some(split)) => split,
            (None, None) => whole.as_dyn(),
        };
        let optimizer = &mut *learner.optimizer;
        let loss = match graphed.as_deref_mut() {
            Some(graphed) => graphed.step(model, loss_fn, optimizer, &x, &y)?,
            None => eager_step(model, loss_fn, optimizer, &x, &y)?,
        };
        let _ = loss_sum.shallow_clone().g_add_(&loss.to_kind(Kind::Double));
        // The rate this step used, before a per-batch scheduler moves it.
        let lr = learner.optimizer.learning_rate();
        let batch = BatchEnd {
            batch: i + 1,
            loss_sum: &loss_sum,
        };
        for part in parts.iter_mut() {
            part.batch_end(learner, &batch)?;
        }
        if interrupt.interrupted() {
            line.clear();
            return Err(Error::Interrupted(format!(
                "during the training pass, after batch {}/{batches}",
                i + 1
            )));
        }
        if line.due() {
            let mean = loss_sum.double_value(&[]) / (i + 1) as f64;
            line.show(i + 1, mean, samples, scheduled.then_some(lr));
        }
    }
    let loss = loss_sum.double_value(&[]) / batches as f64;
    line.finish(
        loss,
        samples,
        scheduled.then(|| learner.optimizer.learning_rate()),
    );
    Ok(loss)
}

/// Adds to an [`Error::Interrupted`] from a pass which epoch it was, where
/// the best checkpoint is and how to resume; other errors pass through.
fn interrupted_in_epoch<M: ?Sized, O: ?Sized>(error: Error, learner: &Learner<'_, M, O>) -> Error {
    let Error::Interrupted(what) = error else {
        return error;
    };
    let (epoch, epochs, options) = (learner.epoch, learner.epochs, learner.options);
    let kept = match (&options.save_model_path, learner.result.best_epoch) {
        (Some(path), Some(best_epoch)) => format!(
            "; best checkpoint (epoch {best_epoch}, val loss {}) is at {}",
            py_float(learner.best),
            path.display()
        ),
        _ => String::new(),
    };
    let resume = match &options.resume_from {
        Some(path) if epoch > 1 => format!(
            "; the training checkpoint {} holds epoch {}: run the same fit again to go on \
             from epoch {epoch}",
            path.display(),
            epoch - 1
        ),
        _ => String::new(),
    };
    Error::Interrupted(format!(
        "in epoch {epoch}/{epochs}, {what}; the model keeps the weights of its last step{kept}{resume}"
    ))
}

fn check_finite<M: ?Sized, O: ?Sized>(
    loss: f64,
    pass: &str,
    learner: &Learner<'_, M, O>,
) -> Result<()> {
    if loss.is_finite() {
        return Ok(());
    }
    let (epoch, epochs) = (learner.epoch, learner.epochs);
    let kept = match (&learner.options.save_model_path, learner.result.best_epoch) {
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
    fn a_scheduled_fit_runs_without_a_cuda_graph() {
        use crate::optim::StepLR;
        let scheduled = FitOptions::default().scheduler(StepLR::new(1));
        assert_eq!(graph_setting(&scheduled).unwrap(), Some(false));
        let err = graph_setting(&scheduled.cuda_graph(true))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot go with the scheduler StepLR"), "{err}");
        assert_eq!(graph_setting(&FitOptions::default()).unwrap(), None);
    }

    #[test]
    fn epoch_line_is_the_lectures() {
        assert_eq!(
            epoch_line(1, 10, [0.122094, 0.982351, 0.11539805261418223, 0.9841]),
            "Epoch[1/10] - Train loss: 0.12209 Train Accucracy: 0.98235 || \
             Validation Loss: 0.11540 Validation Accuracy: 0.98410"
        );
    }
}
