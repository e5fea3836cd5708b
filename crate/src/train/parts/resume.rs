//! The training checkpoint to resume from
//! ([`FitOptions::resume_from`](crate::FitOptions::resume_from)): PyTorch's
//! "general checkpoint" `.pth`, so `torch.load(path, weights_only=True)`
//! reads it and a PyTorch loop can resume it too:
//!
//! ```text
//! {"epoch": 3, "epochs": 10,
//!  "model_state_dict": OrderedDict(name -> tensor),
//!  "optimizer_state_dict": {"state": {0: {"step", "exp_avg", "exp_avg_sq"}, …}
//!                                     (SGD: {0: {"momentum_buffer"}, …}),
//!                           "param_groups": [{"lr", "betas", …, "params": [0, 1, …]}, …]},
//!  "scheduler": "StepLR" | None, "scheduler_state_dict": {…} | None,
//!  "history": {"train_loss": […], "train_accuracy", "val_loss", "val_accuracy", "lr",
//!              "train_loss_steps": [(epoch, loss), …], "train_pass_s", "epoch_s", "best_epoch"},
//!  "best": 0.0412, "loss": 0.0412,
//!  "rng": {"seed": 42, "scheme": "…"}}
//! ```
//!
//! libtorch exposes no way to read its generator's state through tch, so
//! a run that keeps a checkpoint makes each epoch start from states derived
//! from the loader's seed and the epoch number: `manual_seed` (dropout,
//! anything else drawing from libtorch) and the loader's shuffle. A resumed
//! run then draws what the uninterrupted one drew.

use std::path::{Path, PathBuf};

use super::{Learner, Part};
use crate::checkpoint::load_state_dict;
use crate::data::DataLoader;
use crate::error::{Error, Result};
use crate::nn::ModuleExt;
use crate::optim::lr_scheduler::{SchedulerState, StateValue};
use crate::optim::{GroupState, HyperValue, Optimizer, OptimizerState};
use crate::pth::{load_pth, save_pth, PyValue};
use crate::rng::splitmix64;

/// How the generators are set per epoch, as the checkpoint records it.
const RNG_SCHEME: &str =
    "cnn_lab: each epoch e starts with torch.manual_seed(splitmix64(seed, e)) \
                          and the train loader's shuffle of epoch 2(e-1)";

/// Restores the checkpoint if the file exists (`fit_start`) and sets the
/// generators at each epoch's start (`epoch_start`).
pub(in crate::train) struct Resume<'p> {
    path: PathBuf,
    train_loader: &'p DataLoader,
    val_loader: &'p DataLoader,
}

impl<'p> Resume<'p> {
    pub fn new(path: &Path, train_loader: &'p DataLoader, val_loader: &'p DataLoader) -> Self {
        Resume {
            path: path.to_path_buf(),
            train_loader,
            val_loader,
        }
    }
}

/// The libtorch seed of epoch `epoch` for the loader seed `seed`.
fn epoch_seed(seed: u64, epoch: usize) -> i64 {
    (splitmix64(seed ^ 0x005e_ed0f_7e57, epoch as u64) >> 1) as i64
}

impl<M: ModuleExt + ?Sized, O: Optimizer + ?Sized> Part<M, O> for Resume<'_> {
    fn fit_start(&mut self, learner: &mut Learner<'_, M, O>) -> Result<()> {
        learner.optimizer.keep_state_readable()?;
        if !self.path.exists() {
            return Ok(());
        }
        let in_file = |e: Error| {
            Error::InvalidArgument(format!(
                "resume_from {}: {e} (delete the file to start afresh)",
                self.path.display()
            ))
        };
        let saved = load_pth(&self.path)?;
        restore(&saved, learner).map_err(in_file)?;
        let done = learner.first_epoch - 1;
        println!(
            "Resuming from {}: epoch {done}/{} done, going on with epoch {}",
            self.path.display(),
            learner.epochs,
            done + 1
        );
        Ok(())
    }

    fn epoch_start(&mut self, learner: &mut Learner<'_, M, O>) -> Result<()> {
        let e = learner.epoch;
        tch::manual_seed(epoch_seed(self.train_loader.shuffle_seed(), e));
        // fit iterates the train loader twice per epoch (training pass,
        // re-evaluation) and the validation loader once.
        self.train_loader.set_epoch(2 * (e as u64 - 1));
        self.val_loader.set_epoch(e as u64 - 1);
        Ok(())
    }
}

/// Writes the checkpoint after each epoch, last of the parts, so that it
/// holds what the others did (the scheduler's step, the best epoch).
pub(in crate::train) struct SaveCheckpoint {
    pub path: PathBuf,
    pub seed: u64,
}

impl<M: ModuleExt + ?Sized, O: Optimizer + ?Sized> Part<M, O> for SaveCheckpoint {
    fn epoch_end(&mut self, learner: &mut Learner<'_, M, O>) -> Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        save_pth(&self.path, &checkpoint(learner, self.seed)?)
    }
}

fn floats(v: &[f64]) -> PyValue {
    PyValue::List(v.iter().map(|&x| PyValue::Float(x)).collect())
}

fn checkpoint<M: ModuleExt + ?Sized, O: Optimizer + ?Sized>(
    learner: &Learner<'_, M, O>,
    seed: u64,
) -> Result<PyValue> {
    let r = &learner.result;
    let history = PyValue::dict([
        ("train_loss", floats(&r.train_loss)),
        ("train_accuracy", floats(&r.train_accuracy)),
        ("val_loss", floats(&r.val_loss)),
        ("val_accuracy", floats(&r.val_accuracy)),
        ("lr", floats(&r.lr)),
        (
            "train_loss_steps",
            PyValue::List(
                r.train_loss_steps
                    .iter()
                    .map(|&(x, y)| PyValue::Tuple(vec![PyValue::Float(x), PyValue::Float(y)]))
                    .collect(),
            ),
        ),
        ("train_pass_s", floats(&r.train_pass_s)),
        ("epoch_s", floats(&r.epoch_s)),
        (
            "best_epoch",
            r.best_epoch.map_or(PyValue::None, PyValue::from),
        ),
    ]);
    let (scheduler, scheduler_state) = match &learner.scheduler {
        Some(s) => (PyValue::from(s.name()), scheduler_value(&s.state())),
        None => (PyValue::None, PyValue::None),
    };
    Ok(PyValue::dict([
        ("epoch", PyValue::from(learner.epoch)),
        ("epochs", PyValue::from(learner.epochs)),
        (
            "model_state_dict",
            PyValue::state_dict(&learner.model.state_dict()),
        ),
        (
            "optimizer_state_dict",
            optimizer_value(&learner.optimizer.state()?),
        ),
        ("scheduler", scheduler),
        ("scheduler_state_dict", scheduler_state),
        ("history", history),
        ("best", PyValue::Float(learner.best)),
        (
            "loss",
            PyValue::Float(r.val_loss.last().copied().unwrap_or(f64::NAN)),
        ),
        (
            "rng",
            PyValue::dict([
                ("seed", PyValue::Int(seed as i64)),
                ("scheme", PyValue::from(RNG_SCHEME)),
            ]),
        ),
    ]))
}

fn hyper_value(v: &HyperValue) -> PyValue {
    match v {
        HyperValue::Float(f) => PyValue::Float(*f),
        HyperValue::Pair(a, b) => PyValue::Tuple(vec![PyValue::Float(*a), PyValue::Float(*b)]),
        HyperValue::Bool(b) => PyValue::Bool(*b),
        HyperValue::None => PyValue::None,
    }
}

/// PyTorch's `optimizer.state_dict()`: `state` by parameter index, then
/// `param_groups`, each group's settings then its `params`.
fn optimizer_value(state: &OptimizerState) -> PyValue {
    let per_param = state
        .state
        .iter()
        .map(|(i, tensors)| {
            let entries = tensors
                .iter()
                .map(|(k, t)| (k.as_str(), PyValue::Tensor(t.shallow_clone())));
            (PyValue::from(*i), PyValue::dict(entries))
        })
        .collect();
    let groups = state
        .param_groups
        .iter()
        .map(|g| {
            let mut group: Vec<(PyValue, PyValue)> = g
                .hyper
                .iter()
                .map(|(k, v)| (PyValue::from(k.as_str()), hyper_value(v)))
                .collect();
            group.push((
                PyValue::from("params"),
                PyValue::List(g.params.iter().map(|&i| PyValue::from(i)).collect()),
            ));
            PyValue::Dict(group)
        })
        .collect();
    PyValue::dict([
        ("state", PyValue::Dict(per_param)),
        ("param_groups", PyValue::List(groups)),
    ])
}

fn scheduler_value(state: &SchedulerState) -> PyValue {
    PyValue::dict(state.iter().map(|(k, v)| {
        let v = match v {
            StateValue::Int(i) => PyValue::Int(*i),
            StateValue::Float(f) => PyValue::Float(*f),
            StateValue::Bool(b) => PyValue::Bool(*b),
            StateValue::Str(s) => PyValue::from(s.as_str()),
            StateValue::Floats(v) => floats(v),
            StateValue::Ints(v) => PyValue::List(v.iter().map(|&i| PyValue::Int(i)).collect()),
        };
        (k.as_str(), v)
    }))
}

fn missing(what: &str) -> Error {
    Error::InvalidArgument(format!("not a cnn_lab training checkpoint: no {what}"))
}

fn get<'v>(v: &'v PyValue, key: &str) -> Result<&'v PyValue> {
    v.get(key).ok_or_else(|| missing(key))
}

fn float_list(v: &PyValue, key: &str) -> Result<Vec<f64>> {
    get(v, key)?
        .items()
        .ok_or_else(|| missing(&format!("list {key}")))?
        .iter()
        .map(|x| {
            x.as_float()
                .ok_or_else(|| missing(&format!("floats in {key}")))
        })
        .collect()
}

fn restore<M: ModuleExt + ?Sized, O: Optimizer + ?Sized>(
    saved: &PyValue,
    learner: &mut Learner<'_, M, O>,
) -> Result<()> {
    let epoch = get(saved, "epoch")?
        .as_int()
        .filter(|&e| e >= 0)
        .ok_or_else(|| missing("epoch (an int)"))? as usize;
    let model = get(saved, "model_state_dict")?
        .state_dict_tensors()
        .ok_or_else(|| missing("model_state_dict of tensors"))?;
    load_state_dict(learner.model, &model)?;
    learner
        .optimizer
        .load_state(&optimizer_state(get(saved, "optimizer_state_dict")?)?)?;
    match (&mut learner.scheduler, get(saved, "scheduler")?.as_str()) {
        (Some(s), Some(name)) if s.name() == name => {
            s.load_state(&scheduler_state(get(saved, "scheduler_state_dict")?)?)?
        }
        (None, None) => {}
        (mine, theirs) => {
            return Err(Error::InvalidArgument(format!(
                "the checkpoint was written with scheduler {}, this fit has {}",
                theirs.unwrap_or("None"),
                mine.as_ref().map_or("None", |s| s.name())
            )))
        }
    }
    let h = get(saved, "history")?;
    let r = &mut learner.result;
    r.train_loss = float_list(h, "train_loss")?;
    r.train_accuracy = float_list(h, "train_accuracy")?;
    r.val_loss = float_list(h, "val_loss")?;
    r.val_accuracy = float_list(h, "val_accuracy")?;
    r.lr = float_list(h, "lr")?;
    r.train_pass_s = float_list(h, "train_pass_s")?;
    r.epoch_s = float_list(h, "epoch_s")?;
    r.train_loss_steps = get(h, "train_loss_steps")?
        .items()
        .ok_or_else(|| missing("train_loss_steps"))?
        .iter()
        .map(|p| match p.items() {
            Some([x, y]) => Some((x.as_float()?, y.as_float()?)),
            _ => None,
        })
        .collect::<Option<_>>()
        .ok_or_else(|| missing("(epoch, loss) pairs in train_loss_steps"))?;
    r.best_epoch = get(h, "best_epoch")?.as_int().map(|e| e as usize);
    if r.val_loss.len() != epoch {
        return Err(missing(&format!(
            "history of {epoch} epochs (it has {})",
            r.val_loss.len()
        )));
    }
    r.resumed_from = Some(epoch);
    learner.best = get(saved, "best")?
        .as_float()
        .ok_or_else(|| missing("best (a float)"))?;
    learner.first_epoch = epoch + 1;
    Ok(())
}

fn optimizer_state(v: &PyValue) -> Result<OptimizerState> {
    let groups = get(v, "param_groups")?
        .items()
        .ok_or_else(|| missing("param_groups list"))?;
    let mut param_groups = Vec::new();
    for group in groups {
        let entries = group
            .entries()
            .ok_or_else(|| missing("a dict per parameter group"))?;
        let mut hyper = Vec::new();
        let mut params = Vec::new();
        for (k, val) in entries {
            let Some(key) = k.as_str() else { continue };
            if key == "params" {
                params = val
                    .items()
                    .ok_or_else(|| missing("params list in a parameter group"))?
                    .iter()
                    .map(|i| i.as_int().filter(|&i| i >= 0).map(|i| i as usize))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| missing("int indices in params"))?;
                continue;
            }
            let h = match val {
                PyValue::Bool(b) => HyperValue::Bool(*b),
                PyValue::None => HyperValue::None,
                PyValue::Tuple(p) | PyValue::List(p) => match p.as_slice() {
                    [a, b] => match (a.as_float(), b.as_float()) {
                        (Some(a), Some(b)) => HyperValue::Pair(a, b),
                        _ => continue,
                    },
                    _ => continue,
                },
                other => match other.as_float() {
                    Some(f) => HyperValue::Float(f),
                    None => continue,
                },
            };
            hyper.push((key.to_string(), h));
        }
        param_groups.push(GroupState { hyper, params });
    }
    let mut state = Vec::new();
    for (k, per) in get(v, "state")?
        .entries()
        .ok_or_else(|| missing("state dict"))?
    {
        let i = k
            .as_int()
            .filter(|&i| i >= 0)
            .ok_or_else(|| missing("int keys in state"))? as usize;
        let tensors = per
            .entries()
            .ok_or_else(|| missing("a dict per parameter in state"))?
            .iter()
            .filter_map(|(name, t)| {
                Some((name.as_str()?.to_string(), t.as_tensor()?.shallow_clone()))
            })
            .collect();
        state.push((i, tensors));
    }
    Ok(OptimizerState {
        param_groups,
        state,
    })
}

fn scheduler_state(v: &PyValue) -> Result<SchedulerState> {
    let entries = v.entries().ok_or_else(|| missing("scheduler_state_dict"))?;
    Ok(entries
        .iter()
        .filter_map(|(k, val)| {
            let value = match val {
                PyValue::Int(i) => StateValue::Int(*i),
                PyValue::Float(f) => StateValue::Float(*f),
                PyValue::Bool(b) => StateValue::Bool(*b),
                PyValue::Str(s) => StateValue::Str(s.clone()),
                PyValue::List(items)
                    if items.iter().all(|x| matches!(x, PyValue::Int(_))) && !items.is_empty() =>
                {
                    StateValue::Ints(items.iter().filter_map(PyValue::as_int).collect())
                }
                PyValue::List(items) => {
                    StateValue::Floats(items.iter().filter_map(PyValue::as_float).collect())
                }
                _ => return None,
            };
            Some((k.as_str()?.to_string(), value))
        })
        .collect())
}
