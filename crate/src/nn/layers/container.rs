//! `nn.Sequential`.

use std::ops::Index;

use tch::Tensor;

use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::Module;

/// `nn.Sequential(...)`: layers applied in order, named `"0"`, `"1"`, … (so
/// parameters are `0.weight`, `1.running_mean`, … as in PyTorch).
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
#[derive(Default)]
pub struct Sequential {
    layers: Vec<(String, Box<dyn Module + Send>)>,
    hooks: ForwardHooks,
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
            let name = seq.layers.len().to_string();
            seq.layers.push((name, layer));
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

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.layers
            .iter()
            .map(|(name, m)| (name.clone(), m.as_ref() as &dyn Module))
            .collect()
    }
}

layer_traits!(Sequential);
