//! What `fit` is told beyond the positional arguments, and what it returns.

use std::path::PathBuf;
use std::time::Duration;

use tch::Device;

use super::progress::Progress;
use crate::optim::LrScheduler;

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
/// arguments). Defaults: the model's own device, [`Mode::Multi`], no
/// saving, no early stopping, progress line automatic.
#[derive(Clone, Debug, Default)]
pub struct FitOptions {
    pub(super) save_model_path: Option<PathBuf>,
    pub(super) device: Option<Device>,
    pub(super) mode: Mode,
    pub(super) patience: Option<usize>,
    pub(super) progress: Progress,
    pub(super) live_plot: Option<bool>,
    pub(super) cuda_graph: Option<bool>,
    pub(super) scheduler: Option<Box<dyn LrScheduler>>,
    pub(super) resume_from: Option<PathBuf>,
    pub(super) cache_frozen_features: Option<bool>,
    pub(super) cache_frozen_features_limit: Option<usize>,
}

/// [`FitOptions::cache_frozen_features_limit`]'s default: 2 GiB.
pub(super) const DEFAULT_FROZEN_FEATURES_LIMIT: usize = 2 << 30;

impl FitOptions {
    /// Save the model (safetensors, see [`crate::save_model`]) here whenever
    /// the validation loss improves (`save_model_path=`).
    pub fn save_model_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.save_model_path = Some(path.into());
        self
    }

    /// The device to train on (`device=`), saying explicitly what is
    /// otherwise taken from the model: the model must already be on it, and
    /// batches are moved there unless the loader already holds them there.
    /// Without it, training runs on the model's device, and the loaders must
    /// hold their batches there too (`DataLoader::device`).
    pub fn device(mut self, device: Device) -> Self {
        self.device = Some(device);
        self
    }

    /// Binary or multi-class (`mode="binary"` / `mode="multi"`).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Whether to redraw the loss and accuracy chart in place while
    /// training, as d2l's `Animator` does: the training loss about ten times
    /// per epoch, the validation loss and both accuracies at each epoch's
    /// end, the x axis in epochs. Default: on where the notebook can replace
    /// an output in place (the project's kernel), which costs one small PNG
    /// per point (a few milliseconds, see `docs/training.md`); elsewhere
    /// there is nothing to redraw and it stays off.
    pub fn live_plot(mut self, on: bool) -> Self {
        self.live_plot = Some(on);
        self
    }

    /// Stop after `patience` epochs in a row without a better validation
    /// loss (`early_stopping=True, patience=…`).
    pub fn early_stopping(mut self, patience: usize) -> Self {
        self.patience = Some(patience);
        self
    }

    /// Whether to replay each full training batch's step as a CUDA graph
    /// (PyTorch's `torch.cuda.graph` whole-network capture; see
    /// [`crate::cuda::graph`]): one launch per step instead of ~100, for a
    /// GPU that would otherwise wait for the CPU to launch kernels. Every
    /// batch still trains the model (three eager warm-up steps, then the
    /// captured step, then replays; a smaller last batch runs eagerly).
    ///
    /// Default: on where it applies — training on a GPU, with an optimizer
    /// whose step is capturable (Adam's fused step, its default on a GPU),
    /// and a cnn_lab built with graph support; there, if the step cannot be
    /// captured (a model that copies to the CPU in `forward`, say), `fit`
    /// prints why and trains eagerly. Elsewhere (the CPU) it is off.
    /// `cuda_graph(true)` insists: where it cannot apply, `fit` returns an
    /// error that says why. `cuda_graph(false)` always trains eagerly.
    /// [`FitResult::cuda_graph`] says whether a graph was used. With a
    /// [`FitOptions::scheduler`] the step runs eagerly (a captured step keeps
    /// the learning rate it was captured with), and `cuda_graph(true)` is an
    /// error.
    pub fn cuda_graph(mut self, on: bool) -> Self {
        self.cuda_graph = Some(on);
        self
    }

    /// A learning-rate scheduler (PyTorch's `torch.optim.lr_scheduler`),
    /// stepped where PyTorch's loop steps it: [`OneCycleLR`](crate::OneCycleLR)
    /// after every batch, [`ReduceLROnPlateau`](crate::ReduceLROnPlateau) with
    /// the validation loss after each epoch, the others after each epoch.
    /// The rate shows in the progress line and in [`FitResult::lr`].
    ///
    /// ```
    /// use cnn_lab::{FitOptions, StepLR};
    /// let options = FitOptions::default().scheduler(StepLR::new(1).gamma(0.5));
    /// # let _ = options;
    /// ```
    pub fn scheduler(mut self, scheduler: impl LrScheduler + 'static) -> Self {
        self.scheduler = Some(Box::new(scheduler));
        self
    }

    /// Keep a training checkpoint at `path` (PyTorch's "general checkpoint"
    /// `.pth`: epoch, model, optimizer state, scheduler state, history,
    /// best so far), written atomically after every completed epoch. When
    /// the file exists, `fit` first restores it, prints from which epoch it
    /// goes on, and continues: re-running the same cells after a kernel
    /// restart (or a crash) continues the run. See `docs/training.md`.
    ///
    /// To make a resumed run repeat an uninterrupted one, each epoch starts
    /// from generator states derived from the loader's seed and the epoch
    /// (shuffling and libtorch's generator, which dropout draws from).
    ///
    /// ```
    /// use cnn_lab::FitOptions;
    /// let options = FitOptions::default().resume_from("models/mnist_cnn_run.pth");
    /// # let _ = options;
    /// ```
    pub fn resume_from(mut self, path: impl Into<PathBuf>) -> Self {
        self.resume_from = Some(path.into());
        self
    }

    /// Whether to compute a frozen body's output once per sample (default:
    /// on, where it gives PyTorch's result): where the model is a chain
    /// ([`Module::chain`](crate::nn::Module::chain): `Sequential`, VGG,
    /// AlexNet, ResNet) whose leading stages have every parameter frozen and
    /// compute the same in train and eval mode (no BatchNorm, no Dropout),
    /// and both loaders give each sample the same values every pass (no
    /// random transform), `fit` keeps that leading part's output per sample
    /// from its first pass over each loader and trains and evaluates only the
    /// rest afterwards — VGG's frozen `features` run once instead of three
    /// times per epoch. Losses, accuracies and weights equal those of the
    /// whole model's passes to float rounding. A frozen ResNet body does not
    /// qualify: its BatchNorm layers normalise by batch statistics in train
    /// mode and update their running statistics, as in PyTorch.
    /// [`FitResult::frozen_features`] says what was kept, and
    /// [`FitResult::frozen_features_skipped`] why nothing was. Off with
    /// [`FitOptions::resume_from`]. With a random transform nothing is
    /// kept, but each training pass runs that frozen part in eval mode
    /// without gradients (channels-last convolutions on the CPU; the same
    /// numbers): [`FitResult::frozen_stages_in_eval_mode`]. `false` turns
    /// both off: every pass runs the whole model. See `docs/training.md`.
    ///
    /// ```
    /// use cnn_lab::FitOptions;
    /// let every_pass_runs_the_whole_model = FitOptions::default().cache_frozen_features(false);
    /// # let _ = every_pass_runs_the_whole_model;
    /// ```
    pub fn cache_frozen_features(mut self, on: bool) -> Self {
        self.cache_frozen_features = Some(on);
        self
    }

    /// The most memory the kept features (and their labels) may take, in
    /// bytes, over both loaders (default 2 GiB; VGG's 25,088 floats are
    /// 100 KB per sample). Samples beyond it are read and computed every
    /// pass, as without the cache; `fit` says so once.
    ///
    /// ```
    /// use cnn_lab::FitOptions;
    /// let options = FitOptions::default().cache_frozen_features_limit(512 << 20);
    /// # let _ = options;
    /// ```
    pub fn cache_frozen_features_limit(mut self, bytes: usize) -> Self {
        self.cache_frozen_features_limit = Some(bytes);
        self
    }

    /// Whether to show the live progress line within an epoch.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }
}

/// What [`fit`](crate::fit) returns: the four histories, one value per epoch run.
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
    /// Seconds of each epoch's training pass.
    pub train_pass_s: Vec<f64>,
    /// Seconds of each epoch: training pass plus both re-evaluations.
    pub epoch_s: Vec<f64>,
    /// Whether training steps were replayed as a CUDA graph
    /// ([`FitOptions::cuda_graph`]).
    pub cuda_graph: bool,
    /// The learning rate at the end of each epoch's training pass: with a
    /// per-epoch [`FitOptions::scheduler`] the rate the epoch trained with,
    /// with [`OneCycleLR`](crate::OneCycleLR) the one after its last step.
    pub lr: Vec<f64>,
    /// The training loss during the epochs: `(epoch, loss)` with `epoch`
    /// fractional (0.5 is half-way through the first epoch) and `loss` the
    /// mean of the batch losses since the previous point; about ten per
    /// epoch. The live chart draws these.
    pub train_loss_steps: Vec<(f64, f64)>,
    /// The epoch a run restored from [`FitOptions::resume_from`]'s file had
    /// completed, if it did.
    pub resumed_from: Option<usize>,
    /// Seconds spent drawing the live chart ([`FitOptions::live_plot`]).
    pub chart_s: f64,
    /// The frozen leading part whose output was computed once per sample
    /// ([`FitOptions::cache_frozen_features`]), when there was one.
    pub frozen_features: Option<super::frozen::FrozenFeatures>,
    /// Why every pass ran the whole model, when it did (e.g. `"no frozen
    /// leading part: bn1 (BatchNorm2d) normalises by the batch's statistics
    /// in train mode …"`).
    pub frozen_features_skipped: Option<String>,
    /// The frozen leading stages (as in [`FrozenFeatures::stages`](super::frozen::FrozenFeatures::stages))
    /// that every training pass ran without gradients and in eval mode
    /// because a loader is random, so their output could not be kept: they
    /// compute the same in either mode, and on the CPU eval mode's
    /// convolutions run channels-last, 1.3–1.9× as fast for VGG's
    /// `features`. On the CPU only; empty otherwise.
    pub frozen_stages_in_eval_mode: Vec<String>,
}

impl FitResult {
    /// The lecture's picture of this history ([`crate::plot_fit_result`]
    /// of the four per-epoch curves).
    ///
    /// ```
    /// use cnn_lab::FitResult;
    /// let result = FitResult { train_loss: vec![0.5], train_accuracy: vec![0.8],
    ///     val_loss: vec![0.6], val_accuracy: vec![0.75], ..FitResult::default() };
    /// assert_eq!(result.plot()?.width(), 1000);
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn plot(&self) -> crate::Result<crate::Png> {
        crate::utils::plot_fit_result(self)
    }
}

impl From<FitResult> for (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    fn from(r: FitResult) -> Self {
        (r.train_loss, r.train_accuracy, r.val_loss, r.val_accuracy)
    }
}
