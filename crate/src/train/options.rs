//! What `fit` is told beyond the positional arguments, and what it returns.

use std::path::PathBuf;
use std::time::Duration;

use tch::Device;

use super::progress::Progress;

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
}

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

    /// Whether to redraw the loss and accuracy chart (the picture
    /// [`crate::plot_fit_result`] draws) in place after every epoch, as
    /// d2l's `Animator` does. Default: on where the notebook can replace an
    /// output in place (the project's kernel), which costs one small PNG per
    /// epoch; elsewhere there is nothing to redraw and it stays off.
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
    /// [`FitResult::cuda_graph`] says whether a graph was used.
    pub fn cuda_graph(mut self, on: bool) -> Self {
        self.cuda_graph = Some(on);
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
}

impl From<FitResult> for (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    fn from(r: FitResult) -> Self {
        (r.train_loss, r.train_accuracy, r.val_loss, r.val_accuracy)
    }
}
