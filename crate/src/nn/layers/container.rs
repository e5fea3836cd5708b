//! `nn.Sequential`.

use std::ops::Index;

use tch::Tensor;

use crate::error::{Error, Result};
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;

/// `nn.Sequential(...)`: layers applied in order, named `"0"`, `"1"`, … (so
/// parameters are `0.weight`, `1.running_mean`, … as in PyTorch), or by
/// the names given to [`add_module`](Sequential::add_module) /
/// [`add_named`](Sequential::add_named) (PyTorch's `OrderedDict` form).
///
/// ```
/// use cnn_lab::*;
/// let b1 = Sequential::new()
///     .add(Conv2d::new(1, 32, 3).stride(1).padding("same"))
///     .add(BatchNorm2d::new(32))
///     .add(ReLU::new())
///     .add(Dropout::new(0.3))
///     .add(MaxPool2d::new(2).stride(2));
/// let x = Tensor::zeros([4, 1, 28, 28], (Kind::Float, Device::Cpu));
/// assert_eq!(x.apply_t(&b1, false).size(), [4, 32, 14, 14]);
/// assert_eq!(b1.state_dict()[0].0, "0.weight");
/// ```
///
/// Named children, a loop over the blocks, and a replaced layer:
///
/// ```
/// use cnn_lab::*;
/// // nn.Sequential(OrderedDict([("conv0", …), ("relu0", …)])), then add_module
/// let mut features = Sequential::new()
///     .add_named("conv0", Conv2d::new(3, 8, 3))
///     .add_named("relu0", ReLU::new().inplace(true));
/// features.add_module("pool0", MaxPool2d::new(2));
/// assert_eq!(features.state_dict()[0].0, "conv0.weight");
/// assert!(features.to_string().contains("(pool0): MaxPool2d("));
/// // for blk in seq:
/// let mut x = Tensor::zeros([1, 3, 10, 10], (Kind::Float, Device::Cpu));
/// for blk in &features {
///     x = blk.forward_t(&x, false);
/// }
/// assert_eq!(x.size(), [1, 8, 4, 4]);
/// // model.classifier[1] = nn.Linear(4, 2)
/// let mut classifier = Sequential::new().add(Flatten::new()).add(Linear::new(4, 10));
/// classifier.set(1, Linear::new(4, 2))?;
/// assert_eq!(classifier[1].to_string(), "Linear(in_features=4, out_features=2, bias=True)");
/// assert!(classifier.set(5, ReLU::new()).is_err());
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<(String, Box<dyn Module + Send>)>,
    hooks: ForwardHooks,
}

/// Why PyTorch's `add_module` would refuse `name`, if it would.
fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("module name can't be empty string \"\"".into())
    } else if name.contains('.') {
        Some(format!("module name can't contain \".\", got: {name}"))
    } else {
        None
    }
}

impl Sequential {
    /// An empty container.
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends `layer` (named by its position), builder style.
    // `add` is tch's name for this (`nn::seq_t().add(…)`), not arithmetic.
    #[allow(clippy::should_implement_trait)]
    pub fn add<M: Module + Send + 'static>(mut self, layer: M) -> Self {
        self.push(layer);
        self
    }

    /// Appends `layer` in place (`nn.Sequential.append`).
    pub fn push<M: Module + Send + 'static>(&mut self, layer: M) {
        let name = self.layers.len().to_string();
        self.layers.push((name, Box::new(layer)));
    }

    /// Appends a boxed layer in place (a layer chosen at run time).
    pub fn push_boxed(&mut self, layer: Box<dyn Module + Send>) {
        let name = self.layers.len().to_string();
        self.layers.push((name, layer));
    }

    /// `seq.add_module(name, module)`: appends `module` under `name` (its
    /// printout line `(name): …`, its keys `name.weight`, …); a name already
    /// there is replaced in its place, as PyTorch's `OrderedDict` does. A
    /// name PyTorch refuses (empty, or with a `.`) is reported by
    /// [`validate`](crate::nn::ModuleExt::validate) and `summary`.
    pub fn add_module<M: Module + Send + 'static>(&mut self, name: &str, module: M) {
        self.add_module_boxed(name, Box::new(module));
    }

    /// [`add_module`](Sequential::add_module) with a boxed module.
    pub fn add_module_boxed(&mut self, name: &str, module: Box<dyn Module + Send>) {
        match self.layers.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = module,
            None => self.layers.push((name.to_string(), module)),
        }
    }

    /// [`add_module`](Sequential::add_module), builder style:
    /// `nn.Sequential(OrderedDict([("conv0", …), …]))` is
    /// `Sequential::new().add_named("conv0", …)…`.
    pub fn add_named<M: Module + Send + 'static>(mut self, name: &str, module: M) -> Self {
        self.add_module(name, module);
        self
    }

    /// `seq[i] = layer`: replaces the `i`-th layer, keeping its name (so the
    /// printout, `state_dict` keys and `summary` follow), e.g. a new head
    /// `model.classifier.set(6, Linear::new(4096, 2))`. Past the end it is an
    /// error (PyTorch's `IndexError`).
    pub fn set<M: Module + Send + 'static>(&mut self, i: usize, layer: M) -> Result<()> {
        self.set_boxed(i, Box::new(layer))
    }

    /// [`set`](Sequential::set) with a boxed layer.
    pub fn set_boxed(&mut self, i: usize, layer: Box<dyn Module + Send>) -> Result<()> {
        let len = self.layers.len();
        match self.layers.get_mut(i) {
            Some(slot) => {
                slot.1 = layer;
                Ok(())
            }
            None => Err(Error::InvalidArgument(format!(
                "Sequential: index {i} is out of range (it has {len} layers)"
            ))),
        }
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True when there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The `i`-th layer, or `None` past the end (`model[i]` without the
    /// panic; `model[i]` itself is [`Index`]).
    pub fn get(&self, i: usize) -> Option<&dyn Module> {
        self.layers.get(i).map(|(_, m)| m.as_ref() as &dyn Module)
    }

    /// The layer named `name` (`getattr(seq, "conv0")`), if there is one.
    pub fn get_named(&self, name: &str) -> Option<&dyn Module> {
        self.layers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m.as_ref() as &dyn Module)
    }

    /// The layers in order (`for blk in seq`; `&seq` iterates the same way).
    pub fn iter(&self) -> Layers<'_> {
        Layers(self.layers.iter())
    }

    /// The layers with their names, in order (`seq.named_children()`).
    pub fn named_layers(&self) -> impl Iterator<Item = (&str, &dyn Module)> + '_ {
        self.layers
            .iter()
            .map(|(n, m)| (n.as_str(), m.as_ref() as &dyn Module))
    }
}

/// `for blk in &seq { … }`, as `for blk in seq:` in PyTorch.
impl<'a> IntoIterator for &'a Sequential {
    type Item = &'a dyn Module;
    type IntoIter = Layers<'a>;

    fn into_iter(self) -> Layers<'a> {
        Layers(self.layers.iter())
    }
}

/// The layers of a [`Sequential`] in order (`for blk in &seq`).
pub struct Layers<'a>(std::slice::Iter<'a, (String, Box<dyn Module + Send>)>);

impl<'a> Iterator for Layers<'a> {
    type Item = &'a dyn Module;

    fn next(&mut self) -> Option<&'a dyn Module> {
        self.0.next().map(|(_, m)| m.as_ref() as &dyn Module)
    }
}

/// `model.b1[0]`, as in PyTorch: the `i`-th layer. Past the end it panics
/// (PyTorch's `IndexError`); [`Sequential::get`] returns an `Option`.
///
/// ```
/// use cnn_lab::*;
/// let b1 = Sequential::new().add(Conv2d::new(1, 32, 3)).add(ReLU::new());
/// assert_eq!(b1[0].repr().to_string(), "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))");
/// assert_eq!(b1[1].type_name(), "ReLU");
/// assert_eq!(b1[0].named_parameters()[0].1.size(), [32, 1, 3, 3]);
/// ```
impl Index<usize> for Sequential {
    type Output = dyn Module;

    fn index(&self, i: usize) -> &(dyn Module + 'static) {
        match self.layers.get(i) {
            Some((_, m)) => m.as_ref(),
            None => panic!(
                "Sequential index {i} is out of range (it has {} layers)",
                self.layers.len()
            ),
        }
    }
}

/// `nn.Sequential(*layers)` from boxed layers, e.g. a list built in a loop.
///
/// ```
/// use cnn_lab::*;
/// let layers: Vec<Box<dyn Module + Send>> = vec![Box::new(Linear::new(4, 8)), Box::new(ReLU::new())];
/// let seq: Sequential = layers.into_iter().collect();
/// assert_eq!(seq.len(), 2);
/// assert_eq!(seq.state_dict()[0].0, "0.weight");
/// ```
impl FromIterator<Box<dyn Module + Send>> for Sequential {
    fn from_iter<I: IntoIterator<Item = Box<dyn Module + Send>>>(layers: I) -> Self {
        let mut seq = Sequential::new();
        for layer in layers {
            seq.push_boxed(layer);
        }
        seq
    }
}

impl Module for Sequential {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || {
            let mut out = xs.shallow_clone();
            for (_, layer) in &self.layers {
                out = layer.forward_t(&out, train);
            }
            out
        })
    }

    fn type_name(&self) -> String {
        "Sequential".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn config_error(&self) -> Option<String> {
        self.layers.iter().find_map(|(name, _)| name_problem(name))
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.layers
            .iter()
            .map(|(name, m)| (name.clone(), m.as_ref() as &dyn Module))
            .collect()
    }

    /// Its layers, in order: a `Sequential` is a chain.
    fn chain(&self) -> Option<Vec<crate::nn::Stage<'_>>> {
        Some(
            self.layers
                .iter()
                .map(|(name, m)| crate::nn::Stage::Module(name, m.as_ref() as &dyn Module))
                .collect(),
        )
    }
}

layer_traits!(Sequential);

/// A boxed layer or model (`Box<dyn Module + Send>`, what
/// [`get_model`](crate::models::get_model) and a `Sequential` hold) has the
/// derived methods too: `state_dict`, `repr`, `to_device`, …
///
/// ```
/// use cnn_lab::*;
/// let layer: Box<dyn Module + Send> = Box::new(Linear::new(3, 2));
/// assert_eq!(layer.state_dict()[0].0, "weight");
/// assert_eq!(layer.to_string(), "Linear(in_features=3, out_features=2, bias=True)");
/// ```
impl crate::nn::module::ModuleExt for dyn Module + Send + '_ {
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

/// `print(layer)` for a boxed layer or model.
impl std::fmt::Display for dyn Module + Send + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::nn::module::repr_text(self))
    }
}

/// The printout, as `Display`.
impl std::fmt::Debug for dyn Module + Send + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::nn::module::repr_text(self))
    }
}

/// `print(seq[0])`: a layer taken out of a [`Sequential`] prints as PyTorch's.
///
/// ```
/// use cnn_lab::*;
/// let seq = Sequential::new().add(ReLU::new().inplace(true));
/// assert_eq!(seq[0].to_string(), "ReLU(inplace=True)");
/// ```
impl std::fmt::Display for dyn Module + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::nn::module::repr_text(self))
    }
}

/// The printout, as `Display`.
impl std::fmt::Debug for dyn Module + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::nn::module::repr_text(self))
    }
}
