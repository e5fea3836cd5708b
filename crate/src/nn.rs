//! PyTorch-named layers, `print(model)` and `summary` (lecture: `torch.nn`, torchinfo).
//!
//! The contract every layer and every user model implements is [`Module`].
//! A model written in a notebook is a plain struct plus one `impl Module`:
//! `forward_t` (the forward pass) and `children` (its named sub-modules, in
//! the order PyTorch would register them). Everything else — parameter names
//! equal to PyTorch's `state_dict` keys, the printout, `summary`, moving to a
//! device — is derived from those two methods.

use tch::Tensor;

/// One parameter or buffer owned directly by a module (not by its children).
#[derive(Debug)]
pub struct NamedTensor {
    /// The local name, as PyTorch names it (`weight`, `bias`, `running_mean`, …).
    pub name: String,
    /// A shallow clone sharing storage with the module's tensor.
    pub tensor: Tensor,
    /// `true` for parameters (what an optimizer updates), `false` for buffers.
    pub trainable: bool,
}

/// A layer or a model: PyTorch's `nn.Module`.
pub trait Module {
    /// The forward pass. `train` is PyTorch's mode: `true` after
    /// `model.train()` (dropout active, batch-norm uses and updates batch
    /// statistics), `false` after `model.eval()`.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor;

    /// PyTorch's class name, shown by the printout and `summary`.
    fn type_name(&self) -> String {
        let full = std::any::type_name::<Self>();
        let base = full.split('<').next().unwrap_or(full);
        base.rsplit("::").next().unwrap_or(base).to_string()
    }

    /// PyTorch's `extra_repr`: the text between the parentheses of a leaf
    /// layer's printout, e.g. `1, 32, kernel_size=(3, 3), stride=(1, 1), padding=same`.
    fn extra_repr(&self) -> String {
        String::new()
    }

    /// Named direct sub-modules, in registration order (`named_children`).
    fn children(&self) -> Vec<(String, &dyn Module)> {
        Vec::new()
    }

    /// Parameters and buffers owned directly by this module.
    fn own_tensors(&self) -> Vec<NamedTensor> {
        Vec::new()
    }
}

/// Methods every [`Module`] gets (PyTorch's `named_parameters`,
/// `state_dict`, `to`, …), derived from `children` and `own_tensors`.
pub trait ModuleExt: Module {
    /// Every parameter and buffer in the tree with its dotted path, in
    /// PyTorch's `state_dict()` order: a module's own tensors first, then each
    /// child's in registration order (`b1.0.weight`, `b1.1.running_mean`, …).
    fn named_tensors(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        collect_named(self.as_dyn(), "", &mut out);
        out
    }

    /// Only the trainable tensors (`model.named_parameters()`).
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.named_tensors()
            .into_iter()
            .filter(|t| t.trainable)
            .map(|t| (t.name, t.tensor))
            .collect()
    }

    /// The trainable tensors (`model.parameters()`), e.g. for an optimizer.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// Parameters and buffers by name (`model.state_dict()`), sharing storage.
    fn state_dict(&self) -> Vec<(String, Tensor)> {
        self.named_tensors()
            .into_iter()
            .map(|t| (t.name, t.tensor))
            .collect()
    }

    /// Number of elements over all trainable tensors.
    fn num_parameters(&self) -> i64 {
        self.parameters().iter().map(|t| t.numel() as i64).sum()
    }

    /// Moves every parameter and buffer to `device` in place (`model.to(device)`).
    /// Tensors keep their identity, so optimizers built earlier stay valid
    /// only if built after this call — as in PyTorch, move first.
    fn to_device(&self, device: tch::Device) {
        let _guard = tch::no_grad_guard();
        for t in self.named_tensors() {
            let mut tensor = t.tensor;
            if tensor.device() != device {
                let moved = tensor.to_device(device);
                tensor.set_data(&moved);
            }
        }
    }

    /// Upcast helper so default methods can walk the tree.
    #[doc(hidden)]
    fn as_dyn(&self) -> &dyn Module;
}

impl<M: Module> ModuleExt for M {
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

fn collect_named(module: &dyn Module, prefix: &str, out: &mut Vec<NamedTensor>) {
    for t in module.own_tensors() {
        out.push(NamedTensor {
            name: format!("{prefix}{}", t.name),
            ..t
        });
    }
    for (name, child) in module.children() {
        collect_named(child, &format!("{prefix}{name}."), out);
    }
}

impl ModuleExt for dyn Module + '_ {
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}
