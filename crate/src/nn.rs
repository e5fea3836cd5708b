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
