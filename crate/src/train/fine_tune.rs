//! fastai's `learn.fine_tune(epochs)`: train the new head on a frozen
//! body with a one-cycle schedule, then unfreeze and train everything with
//! discriminative rates — built from `requires_grad_`, parameter groups,
//! [`OneCycleLR`] and [`fit`].

use super::fit::fit;
use super::options::{FitOptions, FitResult};
use crate::data::DataLoader;
use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::nn::ModuleExt;
use crate::optim::{Adam, OneCycleLR, Optimizer, ParamGroup};

/// How [`fine_tune`] trains: fastai's `fine_tune(epochs, base_lr=2e-3,
/// freeze_epochs=1, lr_mult=100, pct_start=0.3, div=5.0)`, with the head
/// named by its path in the model (`"fc"` for a torchvision ResNet,
/// `"classifier"` for VGG, `"classifier.6"` for its last layer): every
/// parameter whose `named_parameters()` name is that path or starts with
/// it and a dot is the head, the rest the body.
///
/// ```
/// use cnn_lab::{FineTune, FitOptions, Progress};
/// let how = FineTune::new("fc")
///     .base_lr(1e-3)
///     .freeze_epochs(1)
///     .fit_options(FitOptions::default().progress(Progress::Off));
/// # let _ = how;
/// ```
#[derive(Clone, Debug)]
pub struct FineTune {
    head: String,
    base_lr: f64,
    freeze_epochs: usize,
    lr_mult: f64,
    pct_start: f64,
    div: f64,
    final_div: f64,
    options: FitOptions,
}

impl FineTune {
    /// The head is the module at `head` (its path in `named_parameters()`).
    pub fn new(head: &str) -> FineTune {
        FineTune {
            head: head.trim_end_matches('.').to_string(),
            base_lr: 2e-3,
            freeze_epochs: 1,
            lr_mult: 100.0,
            pct_start: 0.3,
            div: 5.0,
            final_div: 1e5,
            options: FitOptions::default(),
        }
    }

    /// `base_lr=` (default 2e-3): the head's peak rate while the body is
    /// frozen; halved for the unfrozen epochs, as fastai does.
    pub fn base_lr(mut self, lr: f64) -> Self {
        self.base_lr = lr;
        self
    }

    /// `freeze_epochs=` (default 1): epochs with the body frozen.
    pub fn freeze_epochs(mut self, epochs: usize) -> Self {
        self.freeze_epochs = epochs;
        self
    }

    /// `lr_mult=` (default 100): the body trains at the head's rate divided
    /// by this once unfrozen (fastai's `slice(base_lr/lr_mult, base_lr)`).
    pub fn lr_mult(mut self, lr_mult: f64) -> Self {
        self.lr_mult = lr_mult;
        self
    }

    /// `pct_start=` (default 0.3) of the unfrozen one-cycle.
    pub fn pct_start(mut self, pct_start: f64) -> Self {
        self.pct_start = pct_start;
        self
    }

    /// `div=` (default 5): the unfrozen one-cycle starts at its peak rates
    /// divided by this ([`OneCycleLR::div_factor`]).
    // fastai's keyword, not the `/` operator.
    #[allow(clippy::should_implement_trait)]
    pub fn div(mut self, div: f64) -> Self {
        self.div = div;
        self
    }

    /// `div_final=` (fastai's default 1e5): the one-cycles end at their
    /// start divided by this ([`OneCycleLR::final_div_factor`]).
    pub fn div_final(mut self, div_final: f64) -> Self {
        self.final_div = div_final;
        self
    }

    /// The options of both `fit` calls (progress, device, mode, saving the
    /// best model, early stopping). The schedule is `fine_tune`'s own, so a
    /// scheduler here is an error, and so is `resume_from`.
    pub fn fit_options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }

    fn is_head(&self, name: &str) -> bool {
        self.head.is_empty()
            || name == self.head
            || name
                .strip_prefix(self.head.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
    }
}

/// What [`fine_tune`] returns: the history of each phase.
#[derive(Clone, Debug)]
pub struct FineTuneResult {
    /// The `freeze_epochs` with the body frozen (empty for zero of them).
    pub frozen: FitResult,
    /// The `epochs` with everything trainable.
    pub unfrozen: FitResult,
}

/// fastai's `learn.fine_tune(epochs)`, in one call over the lecture's
/// `fit`: freezes every parameter outside `how`'s head, trains the head
/// for `freeze_epochs` with a one-cycle up to `base_lr` (`pct_start` 0.99),
/// then unfreezes the body and trains everything for `epochs` with a
/// one-cycle whose peak is `base_lr / 2` for the head and
/// `base_lr / 2 / lr_mult` for the body (two parameter groups of one
/// [`Adam`], its state carried over). Returns both phases' results; the
/// model ends unfrozen.
///
/// ```no_run
/// use cnn_lab::*;
/// # fn demo(model: &dyn Module, train_loader: &DataLoader, val_loader: &DataLoader) -> Result<()> {
/// // learn = vision_learner(dls, resnet18); learn.fine_tune(3)
/// let result = fine_tune(train_loader, val_loader, model, &CrossEntropyLoss::new(), 3, FineTune::new("fc"))?;
/// plot_fit_result(&result.unfrozen)?;
/// # Ok(()) }
/// ```
pub fn fine_tune<M, L>(
    train_loader: &DataLoader,
    val_loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    epochs: usize,
    how: FineTune,
) -> Result<FineTuneResult>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
{
    if how.options.scheduler.is_some() || how.options.resume_from.is_some() {
        return Err(Error::InvalidArgument(
            "fine_tune: its fit options cannot hold a scheduler or resume_from (fine_tune \
             schedules two one-cycles of its own)"
                .into(),
        ));
    }
    let (mut body, mut head) = (Vec::new(), Vec::new());
    for (name, p) in model.named_parameters() {
        if how.is_head(&name) {
            head.push(p);
        } else {
            body.push(p);
        }
    }
    if head.is_empty() || body.is_empty() {
        let names: Vec<String> = model
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        return Err(Error::InvalidArgument(format!(
            "fine_tune: the head {:?} should name some of the model's parameters and leave \
             others for the body; they are {names:?}",
            how.head
        )));
    }
    let set = |tensors: &[tch::Tensor], on: bool| {
        for p in tensors {
            let _ = p.set_requires_grad(on);
        }
    };
    set(&body, false);
    set(&head, true);
    let mut optimizer = Adam::new(
        vec![
            ParamGroup::new(body.iter().map(|p| p.shallow_clone()).collect()),
            ParamGroup::new(head.iter().map(|p| p.shallow_clone()).collect()),
        ],
        how.base_lr,
    );
    let frozen = if how.freeze_epochs > 0 {
        // fastai: fit_one_cycle(freeze_epochs, slice(base_lr), pct_start=0.99)
        let schedule = OneCycleLR::new([how.base_lr / 10.0, how.base_lr])
            .pct_start(0.99)
            .final_div_factor(how.final_div);
        let options = how.options.clone().scheduler(schedule);
        fit(
            train_loader,
            val_loader,
            model,
            loss_fn,
            &mut optimizer,
            how.freeze_epochs,
            options,
        )?
    } else {
        FitResult::default()
    };
    set(&body, true);
    let lr = how.base_lr / 2.0;
    // fastai: fit_one_cycle(epochs, slice(base_lr/lr_mult, base_lr), pct_start, div)
    let schedule = OneCycleLR::new([lr / how.lr_mult, lr])
        .pct_start(how.pct_start)
        .div_factor(how.div)
        .final_div_factor(how.final_div);
    if epochs == 0 {
        return Ok(FineTuneResult {
            frozen,
            unfrozen: FitResult::default(),
        });
    }
    optimizer.set_learning_rate(lr)?;
    let unfrozen = fit(
        train_loader,
        val_loader,
        model,
        loss_fn,
        &mut optimizer,
        epochs,
        how.options.clone().scheduler(schedule),
    )?;
    Ok(FineTuneResult { frozen, unfrozen })
}
