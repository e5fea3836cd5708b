//! Frozen features: where the model is a chain ([`Module::chain`]) whose
//! leading stages have every parameter frozen and compute the same in train
//! and eval mode, and the loader gives each sample the same values every
//! pass, `fit` computes that leading part's output once per sample (by
//! dataset index, so shuffling still works) and trains and evaluates only
//! the rest — fastai v0.7's `precompute=True`, decided for the user and
//! only where it gives PyTorch's result.
//!
//! The rules, each conservative (when unsure, nothing is kept):
//!
//! - a stage qualifies when every parameter under it is frozen and every
//!   module under it is a chain of such modules or a layer known to ignore
//!   the mode ([`MODE_FREE`]); BatchNorm (batch statistics in train mode),
//!   Dropout and any module not on the list end the frozen part;
//! - the frozen part holds at least one parameter; it ends at its smallest
//!   output per sample after its last parameter (trailing pooling that
//!   enlarges, as VGG's `AdaptiveAvgPool2d((7, 7))` on a small photo, runs
//!   with the rest), and that output is no larger than its input (a kept `conv1` output of a ResNet
//!   would cost five times the photo's memory to save one convolution);
//! - the loader and its dataset are deterministic
//!   ([`Transform::is_random`](crate::data::transforms::Transform::is_random),
//!   [`Dataset::is_random`](crate::data::Dataset::is_random));
//! - the features kept stay under
//!   [`FitOptions::cache_frozen_features_limit`](super::FitOptions::cache_frozen_features_limit);
//!   samples beyond it are read and computed every pass, as without a cache.

use tch::{Device, Tensor};

use crate::data::{DataLoader, Plan, TryBatches};
use crate::error::{catch_torch, Error, Result};
use crate::nn::{Module, ModuleExt, Stage};

/// Layers whose forward pass ignores the `train` flag (and that hold no
/// running statistics), by PyTorch's class name. Anything else — BatchNorm,
/// Dropout, StochasticDepth, a block of one's own — ends the frozen part
/// unless it is a chain of these.
pub(crate) const MODE_FREE: &[&str] = &[
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "Linear",
    "Identity",
    "Flatten",
    "Unflatten",
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "CELU",
    "SELU",
    "GELU",
    "SiLU",
    "Mish",
    "Sigmoid",
    "Tanh",
    "Hardtanh",
    "Hardswish",
    "Hardsigmoid",
    "Softplus",
    "Softsign",
    "LogSigmoid",
    "Tanhshrink",
    "Softmax",
    "Softmin",
    "LogSoftmax",
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ZeroPad2d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "PixelShuffle",
    "PixelUnshuffle",
    "Upsample",
    "LayerNorm",
    "GroupNorm",
    "LocalResponseNorm",
];

/// The model cut in two: a frozen, mode-independent leading part and the
/// rest, whose forward passes applied in turn are the model's.
pub(crate) struct Split<'m> {
    prefix: Vec<Stage<'m>>,
    /// The frozen part's stages by their paths (`features`, `avgpool`,
    /// `flatten`).
    names: Vec<String>,
    /// Why the frozen part ends where it does.
    ends: Option<String>,
    rest: Rest<'m>,
    /// Whether the cut was placed at the smallest output ([`Split::cut`]).
    placed: bool,
}

/// The stages after the frozen part, as one module: what the training
/// step and the evaluation run on the kept features.
pub(crate) struct Rest<'m> {
    stages: Vec<Stage<'m>>,
}

impl Module for Rest<'_> {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = xs.shallow_clone();
        for stage in &self.stages {
            x = stage.forward_t(&x, train);
        }
        x
    }

    fn type_name(&self) -> String {
        "Rest".into()
    }
}

/// Why `module` (at `path`) may not be part of the frozen prefix, if it may.
fn not_frozen_and_mode_free(module: &dyn Module, path: &str) -> Option<String> {
    if let Some((name, _)) = module
        .named_parameters()
        .into_iter()
        .find(|(_, p)| p.requires_grad())
    {
        return Some(format!("{} is trainable", join(path, &name)));
    }
    mode_dependent(module, path)
}

/// Why `module`'s output may depend on the `train` flag, if it may.
fn mode_dependent(module: &dyn Module, path: &str) -> Option<String> {
    let what = || format!("{path} ({})", module.type_name());
    if let Some(stages) = module.chain() {
        return stages.iter().find_map(|stage| match stage {
            Stage::Module(name, m) => mode_dependent(*m, &join(path, name)),
            Stage::Function(..) => None,
        });
    }
    let name = module.type_name();
    if !module.children().is_empty() || !MODE_FREE.contains(&name.as_str()) {
        let why = if name.starts_with("BatchNorm") {
            "normalises by the batch's statistics in train mode and updates its running ones"
        } else if name.starts_with("Dropout") || name.contains("Dropout") {
            "is random in train mode"
        } else {
            "is not known to compute the same in train and eval mode"
        };
        return Some(format!("{} {why}", what()));
    }
    None
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Splits `stages` (of the module at `path`) after its longest frozen,
/// mode-independent run, descending into the chain where the run ends.
/// Returns the frozen stages, their names, the rest, and why the run ended.
#[allow(clippy::type_complexity)]
fn split_stages<'m>(
    stages: Vec<Stage<'m>>,
    path: &str,
) -> (Vec<Stage<'m>>, Vec<String>, Vec<Stage<'m>>, Option<String>) {
    let (mut prefix, mut names) = (Vec::new(), Vec::new());
    let mut stages = stages.into_iter();
    while let Some(stage) = stages.next() {
        let here = join(path, stage.name());
        let why = match stage {
            Stage::Function(..) => None,
            Stage::Module(_, m) => not_frozen_and_mode_free(m, &here),
        };
        let Some(why) = why else {
            prefix.push(stage);
            names.push(here);
            continue;
        };
        // The run ends inside this stage: take what is frozen in it.
        if let Stage::Module(_, m) = stage {
            if let Some(inner) = m.chain() {
                let (p, n, mut rest, why) = split_stages(inner, &here);
                prefix.extend(p);
                names.extend(n);
                rest.extend(stages);
                return (prefix, names, rest, why);
            }
        }
        let mut rest = vec![stage];
        rest.extend(stages);
        return (prefix, names, rest, Some(why));
    }
    (prefix, names, Vec::new(), None)
}

/// The model's frozen leading part and the rest, or why there is none.
pub(crate) fn split(model: &dyn Module) -> std::result::Result<Split<'_>, String> {
    let Some(stages) = model.chain() else {
        return Err(format!(
            "the model ({}) does not describe its forward pass as a chain of stages \
             (Module::chain)",
            model.type_name()
        ));
    };
    let (prefix, names, rest, why) = split_stages(stages, "");
    let frozen_parameters: usize = prefix
        .iter()
        .map(|s| match s {
            Stage::Module(_, m) => m.named_parameters().len(),
            Stage::Function(..) => 0,
        })
        .sum();
    if frozen_parameters == 0 {
        return Err(match why {
            Some(why) => format!("no frozen leading part: {why}"),
            None => "no frozen leading part".to_string(),
        });
    }
    if rest.is_empty() {
        return Err("every stage of the model is frozen".to_string());
    }
    Ok(Split {
        prefix,
        names,
        ends: why,
        rest: Rest { stages: rest },
        placed: false,
    })
}

impl<'m> Split<'m> {
    /// The stages after the frozen part, as one module.
    pub(crate) fn rest(&self) -> &Rest<'m> {
        &self.rest
    }

    /// The frozen stages, by path.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// The frozen part's output for `x`: eval mode (the same in either, by
    /// construction; on the CPU eval mode's convolutions run channels-last),
    /// no gradients.
    fn prefix(&self, x: &Tensor) -> Tensor {
        let _guard = tch::no_grad_guard();
        let mut x = x.shallow_clone();
        for stage in &self.prefix {
            x = stage.forward_t(&x, false);
        }
        x
    }

    /// [`Split::prefix`], a libtorch error returned. The first call places
    /// the cut ([`Split::cut`]).
    fn prefix_forward(&mut self, x: &Tensor) -> Result<Tensor> {
        if !self.placed {
            self.placed = true;
            return self.cut(x);
        }
        catch_torch("frozen layers' forward pass", || self.prefix(x))
    }

    /// Runs the frozen stages on the first batch `x` and keeps the part up
    /// to the smallest output per sample after its last parameter: the
    /// parameter-free stages after it (pooling, `Flatten`) move to the rest
    /// where they enlarge the features — VGG's `AdaptiveAvgPool2d((7, 7))`
    /// turns a 64×64 photo's 512×2×2 into 512×7×7, so `features` alone is
    /// kept. Returns the kept part's output for `x`.
    fn cut(&mut self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        let last_parameter = self
            .prefix
            .iter()
            .rposition(|s| matches!(s, Stage::Module(_, m) if !m.named_parameters().is_empty()))
            .unwrap_or(0);
        let per_sample =
            |t: &Tensor| t.numel() / t.size().first().copied().unwrap_or(1).max(1) as usize;
        let (best, output) = catch_torch("frozen layers' forward pass", || {
            let mut x = x.shallow_clone();
            let mut best = (0, x.shallow_clone(), usize::MAX);
            for (i, stage) in self.prefix.iter().enumerate() {
                x = stage.forward_t(&x, false);
                let n = per_sample(&x);
                if i >= last_parameter && n <= best.2 {
                    best = (i, x.shallow_clone(), n);
                }
            }
            (best.0, best.1)
        })?;
        let moved = self.prefix.split_off(best + 1);
        self.names.truncate(best + 1);
        self.rest.stages.splice(0..0, moved);
        Ok(output)
    }
}

/// The whole model's forward pass, the frozen part run as
/// [`Split::prefix`] runs it: what a training pass runs when the frozen
/// part's output cannot be kept (a random transform). The same numbers as
/// the model's own `forward_t(xs, true)` up to float rounding, since the
/// frozen part computes the same in either mode and has nothing to
/// differentiate; on the CPU 1.3–1.9× as fast for VGG's `features`
/// (channels-last convolutions, which the layers use in eval mode only).
///
/// The frozen part's output goes on in PyTorch's default layout, so the
/// rest (a ResNet's BatchNorm after its frozen `conv1`) trains as it would
/// in the whole model: training keeps the default layout (see
/// `crate::nn::speedups`).
impl Module for Split<'_> {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.rest.forward_t(&self.prefix(xs).contiguous(), train)
    }

    fn type_name(&self) -> String {
        "FrozenSplit".into()
    }
}

/// What `fit` reports about the frozen features
/// ([`FitResult::frozen_features`](super::FitResult::frozen_features)).
#[derive(Clone, Debug, PartialEq)]
pub struct FrozenFeatures {
    /// The frozen stages whose output was kept, by path
    /// (`["features", "avgpool", "flatten"]` for a VGG with a new classifier).
    pub stages: Vec<String>,
    /// Samples whose features were kept (over both loaders).
    pub samples: usize,
    /// Samples read and computed every pass instead (beyond the limit).
    pub recomputed: usize,
    /// Bytes the kept features and labels take.
    pub bytes: usize,
}

/// The kept features of one loader.
struct Store {
    /// The loader's address: `fit`'s two loaders (the same one twice shares).
    key: usize,
    /// Dataset indices below this are kept; the rest recomputed.
    capacity: usize,
    features: Option<Tensor>,
    labels: Option<Tensor>,
    filled: Vec<bool>,
    count: usize,
}

/// The kept features of `fit`'s loaders, and the limit they share.
pub(crate) struct FeatureCache<'m> {
    split: Split<'m>,
    device: Device,
    limit: usize,
    used: usize,
    stores: Vec<Store>,
    /// Set when the features turn out larger than the input: nothing is kept.
    off: Option<String>,
    warned: bool,
}

impl<'m> FeatureCache<'m> {
    /// A cache over `split`, on `device`, keeping at most `limit` bytes.
    pub(crate) fn new(split: Split<'m>, device: Device, limit: usize) -> FeatureCache<'m> {
        FeatureCache {
            split,
            device,
            limit,
            used: 0,
            stores: Vec::new(),
            off: None,
            warned: false,
        }
    }

    /// The stages after the frozen part.
    pub(crate) fn rest(&self) -> &Rest<'m> {
        self.split.rest()
    }

    /// Why nothing was kept after all, if so (features larger than input).
    pub(crate) fn off(&self) -> Option<&str> {
        self.off.as_deref()
    }

    /// What was kept, for [`FitResult`](super::FitResult).
    pub(crate) fn report(&self) -> FrozenFeatures {
        FrozenFeatures {
            stages: self.split.names.clone(),
            samples: self.stores.iter().map(|s| s.count).sum(),
            recomputed: self
                .stores
                .iter()
                .map(|s| s.filled.len().saturating_sub(s.capacity))
                .sum(),
            bytes: self.used,
        }
    }

    fn store_index(&mut self, loader: &DataLoader) -> usize {
        let key = loader as *const DataLoader as usize;
        if let Some(i) = self.stores.iter().position(|s| s.key == key) {
            return i;
        }
        self.stores.push(Store {
            key,
            capacity: usize::MAX,
            features: None,
            labels: None,
            filled: vec![false; loader.num_samples()],
            count: 0,
        });
        self.stores.len() - 1
    }

    /// One pass over `loader` as its next `iter()` would give it, each batch
    /// as `(features, labels)`: the frozen part's output, kept or computed.
    pub(crate) fn pass<'a>(&'a mut self, loader: &'a DataLoader) -> FeaturePass<'a, 'm> {
        let store = self.store_index(loader);
        let plan = loader.next_plan();
        let stream = (self.stores[store].count == 0).then(|| loader.plan_batches(plan.clone()));
        FeaturePass {
            cache: self,
            loader,
            store,
            plan,
            stream,
            next: 0,
        }
    }

    /// Sets the store's capacity and tensors at its first batch, from the
    /// shapes of `x` (input), `f` (features) and `y` (labels).
    fn allocate(&mut self, store: usize, x: &Tensor, f: &Tensor, y: &Tensor) -> Result<()> {
        if self.stores[store].features.is_some() || self.stores[store].capacity == 0 {
            return Ok(());
        }
        let numel = |t: &Tensor| -> usize {
            let rows = t.size().first().copied().unwrap_or(1).max(1);
            t.numel() / rows as usize
        };
        let per = |t: &Tensor| numel(t) * t.kind().elt_size_in_bytes();
        let n = self.stores[store].filled.len();
        let (f_numel, x_numel) = (numel(f), numel(x));
        if self.off.is_none() && f_numel > x_numel {
            let ends = match &self.split.ends {
                Some(why) => format!("the frozen part ends where {why}; "),
                None => String::new(),
            };
            self.off = Some(format!(
                "{ends}its output before that ({}: {f_numel} values per sample) is larger than \
                 the input ({x_numel}), so keeping it would cost more memory than it saves",
                self.split.names.join(", "),
            ));
        }
        let per_sample = per(f) + per(y);
        let fits = if self.off.is_some() || per_sample == 0 {
            0
        } else {
            (self.limit.saturating_sub(self.used) / per_sample).min(n)
        };
        self.stores[store].capacity = fits;
        if fits == 0 {
            if self.off.is_none() {
                self.warn(n, 0, per_sample);
            }
            return Ok(());
        }
        if fits < n {
            self.warn(n, fits, per_sample);
        }
        let shape = |t: &Tensor| {
            let mut s = t.size();
            s[0] = fits as i64;
            s
        };
        let features = Tensor::f_empty(shape(f), (f.kind(), self.device))?;
        let labels = Tensor::f_empty(shape(y), (y.kind(), self.device))?;
        self.used += fits * per_sample;
        let s = &mut self.stores[store];
        s.features = Some(features);
        s.labels = Some(labels);
        Ok(())
    }

    /// Says once that the limit keeps `fits` of `n` samples.
    fn warn(&mut self, n: usize, fits: usize, per_sample: usize) {
        if self.warned {
            return;
        }
        self.warned = true;
        println!(
            "fit: the frozen layers' output ({}) of {fits} of {n} samples fits in \
             cache_frozen_features_limit ({} MB, {} KB per sample); the other {} are read and \
             computed every pass",
            self.split.names.join(", "),
            self.limit / 1_000_000,
            per_sample / 1000,
            n - fits
        );
    }

    /// Keeps rows `rows` of `(f, y)` for dataset indices `indices` where the
    /// store has room.
    fn keep(&mut self, store: usize, indices: &[usize], f: &Tensor, y: &Tensor) -> Result<()> {
        let s = &mut self.stores[store];
        let (Some(features), Some(labels)) = (&s.features, &s.labels) else {
            return Ok(());
        };
        let (rows, at): (Vec<i64>, Vec<i64>) = indices
            .iter()
            .enumerate()
            .filter(|&(_, &i)| i < s.capacity && !s.filled[i])
            .map(|(k, &i)| (k as i64, i as i64))
            .unzip();
        if rows.is_empty() {
            return Ok(());
        }
        let device = f.device();
        let rows = Tensor::from_slice(&rows).to_device(device);
        let at = Tensor::from_slice(&at).to_device(device);
        let _guard = tch::no_grad_guard();
        let _ = features
            .shallow_clone()
            .f_index_copy_(0, &at, &f.f_index_select(0, &rows)?)?;
        let _ = labels
            .shallow_clone()
            .f_index_copy_(0, &at, &y.f_index_select(0, &rows)?)?;
        for &i in indices {
            if i < s.capacity && !s.filled[i] {
                s.filled[i] = true;
                s.count += 1;
            }
        }
        Ok(())
    }
}

/// One pass of [`FeatureCache::pass`].
pub(crate) struct FeaturePass<'a, 'm> {
    cache: &'a mut FeatureCache<'m>,
    loader: &'a DataLoader,
    store: usize,
    plan: Plan,
    /// The loader's own batches (with its worker threads), while nothing of
    /// this loader is kept yet.
    stream: Option<TryBatches<'a>>,
    next: usize,
}

impl<'m> FeaturePass<'_, 'm> {
    /// The stages after the frozen part, to run on the batches.
    pub(crate) fn rest(&self) -> &Rest<'m> {
        self.cache.rest()
    }

    /// The next batch's `(features, labels)`, or `None` at the end.
    pub(crate) fn next_batch(&mut self) -> Option<Result<(Tensor, Tensor)>> {
        if self.next >= self.plan.batches {
            return None;
        }
        let b = self.next;
        self.next += 1;
        let out = self.batch(b);
        if out.is_err() {
            self.next = self.plan.batches;
        }
        Some(out)
    }

    fn batch(&mut self, b: usize) -> Result<(Tensor, Tensor)> {
        let indices = self.loader.plan_indices(&self.plan, b);
        let device = self.cache.device;
        if let Some(stream) = &mut self.stream {
            let (x, y) = stream.next().unwrap_or_else(|| {
                Err(Error::InvalidArgument(format!(
                    "DataLoader: the pass ended before batch {b}"
                )))
            })?;
            let (x, y) = (x.to_device(device), y.to_device(device));
            let f = self.cache.split.prefix_forward(&x)?;
            self.cache.allocate(self.store, &x, &f, &y)?;
            self.cache.keep(self.store, &indices, &f, &y)?;
            return Ok((f, y));
        }
        let s = &self.cache.stores[self.store];
        let (kept, missing): (Vec<usize>, Vec<usize>) =
            (0..indices.len()).partition(|&k| indices[k] < s.capacity && s.filled[indices[k]]);
        let pick = |rows: &[usize]| -> Tensor {
            let v: Vec<i64> = rows.iter().map(|&k| indices[k] as i64).collect();
            Tensor::from_slice(&v).to_device(device)
        };
        if missing.is_empty() {
            let (Some(features), Some(labels)) = (&s.features, &s.labels) else {
                unreachable!("a kept sample has a store");
            };
            let at = pick(&kept);
            return Ok((
                features.f_index_select(0, &at)?,
                labels.f_index_select(0, &at)?,
            ));
        }
        let wanted: Vec<usize> = missing.iter().map(|&k| indices[k]).collect();
        let (x, y) = self.loader.fetch_for_plan(&wanted, self.plan.epoch)?;
        let (x, y) = (x.to_device(device), y.to_device(device));
        let f = self.cache.split.prefix_forward(&x)?;
        self.cache.allocate(self.store, &x, &f, &y)?;
        self.cache.keep(self.store, &wanted, &f, &y)?;
        if kept.is_empty() {
            return Ok((f, y));
        }
        // Kept and computed rows back in the batch's order.
        let s = &self.cache.stores[self.store];
        let (Some(features), Some(labels)) = (&s.features, &s.labels) else {
            unreachable!("a kept sample has a store");
        };
        let at = pick(&kept);
        let (kf, ky) = (
            features.f_index_select(0, &at)?,
            labels.f_index_select(0, &at)?,
        );
        let order: Vec<i64> = kept.iter().chain(&missing).map(|&k| k as i64).collect();
        let inverse = Tensor::from_slice(&order)
            .to_device(device)
            .argsort(0, false);
        let all_f = Tensor::f_cat(&[kf, f], 0)?.f_index_select(0, &inverse)?;
        let all_y = Tensor::f_cat(&[ky, y], 0)?.f_index_select(0, &inverse)?;
        Ok((all_f, all_y))
    }
}

/// What `fit` does with the model's frozen leading part.
pub(crate) enum Frozen<'m> {
    /// Its output is kept per sample.
    Cache(FeatureCache<'m>),
    /// A loader is random, so nothing is kept (the string says so), but
    /// every training pass runs the frozen part as [`Split`]'s `forward_t`
    /// does: eval mode, no gradients. On the CPU only.
    EvalMode(Split<'m>, String),
    /// Every pass runs the whole model, for the reason given.
    Whole(String),
}

/// What `fit` does with `model`'s frozen leading part: keep its output,
/// run it in eval mode every training pass (a random loader), or nothing
/// (off by the option, with `resume_from`, or no frozen, mode-independent
/// leading part).
pub(crate) fn cache_for<'m>(
    model: &'m dyn Module,
    loaders: [&DataLoader; 2],
    device: Device,
    options: &super::FitOptions,
) -> Frozen<'m> {
    if options.cache_frozen_features == Some(false) {
        return Frozen::Whole("FitOptions::cache_frozen_features(false)".into());
    }
    if options.resume_from.is_some() {
        return Frozen::Whole(
            "FitOptions::resume_from: a resumed run must repeat the uninterrupted one bit for \
             bit, so every pass runs the whole model"
                .into(),
        );
    }
    let split = match split(model) {
        Ok(split) => split,
        Err(why) => return Frozen::Whole(why),
    };
    for (loader, which) in loaders.iter().zip(["training", "validation"]) {
        if !loader.is_deterministic() {
            let why = format!(
                "the {which} loader's samples change from pass to pass (a random transform)"
            );
            // Eval mode's gain is the CPU's channels-last convolutions.
            if device != Device::Cpu {
                return Frozen::Whole(why);
            }
            return Frozen::EvalMode(split, why);
        }
    }
    let limit = options
        .cache_frozen_features_limit
        .unwrap_or(super::options::DEFAULT_FROZEN_FEATURES_LIMIT);
    Frozen::Cache(FeatureCache::new(split, device, limit))
}
