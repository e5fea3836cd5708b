//! `nn.Sequential`.

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

    /// The `i`-th layer (`model[i]` in PyTorch).
    pub fn get(&self, i: usize) -> Option<&dyn Module> {
        self.layers.get(i).map(|(_, m)| m.as_ref() as &dyn Module)
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
