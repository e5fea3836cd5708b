//! What `#[derive(Module)]` expands to calls into: how a field is seen
//! (a child, a parameter, a buffer, a plain value), the forward-hook slot a
//! derived module gets without a field for it, and PyTorch's `ModuleList`
//! (`Vec<M>`). Hidden from the docs: the derive's documentation is on
//! [`Module`](crate::nn::Module).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tch::Tensor;

use super::hooks::ForwardHooks;
use super::module::{Module, NamedTensor};

pub use super::module::repr_text;

/// A field of a derived module that may hold sub-modules: a module is a
/// child named after the field, `Option<M>` one when `Some`; plain values
/// (numbers, `bool`, `String`, devices) none.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is neither a module nor a plain value, so #[derive(Module)] cannot tell what this field is",
    label = "mark this field #[module(param)] or #[module(buffer)] (a Tensor), or #[module(skip)] (not part of the model)",
    note = "a field left out of a module is not trained and not saved: say what it is"
)]
pub trait ModuleField {
    /// Appends this field's children as `(name, module)`.
    fn push_children<'a>(&'a self, name: &str, out: &mut Vec<(String, &'a dyn Module)>);
}

impl<M: Module> ModuleField for M {
    fn push_children<'a>(&'a self, name: &str, out: &mut Vec<(String, &'a dyn Module)>) {
        out.push((name.to_string(), self));
    }
}

impl<M: AsModule> ModuleField for Option<M> {
    fn push_children<'a>(&'a self, name: &str, out: &mut Vec<(String, &'a dyn Module)>) {
        if let Some(m) = self {
            out.push((name.to_string(), m.as_module()));
        }
    }
}

impl ModuleField for Box<dyn Module> {
    fn push_children<'a>(&'a self, name: &str, out: &mut Vec<(String, &'a dyn Module)>) {
        out.push((name.to_string(), self.as_ref()));
    }
}

impl ModuleField for Box<dyn Module + Send> {
    fn push_children<'a>(&'a self, name: &str, out: &mut Vec<(String, &'a dyn Module)>) {
        out.push((name.to_string(), self.as_ref() as &dyn Module));
    }
}

macro_rules! plain_fields {
    ($($ty:ty),*) => {$(
        impl ModuleField for $ty {
            fn push_children<'a>(&'a self, _: &str, _: &mut Vec<(String, &'a dyn Module)>) {}
        }
    )*};
}

plain_fields!(
    bool,
    f32,
    f64,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    usize,
    isize,
    String,
    &'static str,
    tch::Device,
    tch::Kind
);

/// A module behind a value: itself, or what a `Box<dyn Module>` points to
/// (so that `summary` sees the same address the module's hooks report).
pub trait AsModule {
    /// The module itself.
    fn as_module(&self) -> &dyn Module;
}

impl<M: Module> AsModule for M {
    fn as_module(&self) -> &dyn Module {
        self
    }
}

impl AsModule for Box<dyn Module> {
    fn as_module(&self) -> &dyn Module {
        self.as_ref()
    }
}

impl AsModule for Box<dyn Module + Send> {
    fn as_module(&self) -> &dyn Module {
        self.as_ref()
    }
}

/// A `Tensor` field marked `#[module(param)]` or `#[module(buffer)]`
/// (`Option<Tensor>` for one that may be absent, like a bias).
#[diagnostic::on_unimplemented(
    message = "#[module(param)] and #[module(buffer)] mark `Tensor` or `Option<Tensor>` fields, not `{Self}`"
)]
pub trait TensorField {
    /// Appends the tensor, named `name`.
    fn push_tensor(&self, name: &str, trainable: bool, out: &mut Vec<NamedTensor>);
    /// Why this parameter would not be trained, if it would not.
    fn param_problem(&self, name: &str) -> Option<String>;
}

impl TensorField for Tensor {
    fn push_tensor(&self, name: &str, trainable: bool, out: &mut Vec<NamedTensor>) {
        out.push(NamedTensor {
            name: name.to_string(),
            tensor: self.shallow_clone(),
            trainable,
        });
    }

    fn param_problem(&self, name: &str) -> Option<String> {
        (!self.requires_grad()).then(|| {
            format!(
                "parameter `{name}` does not require grad, so it would never be trained: \
                 create it with `.set_requires_grad(true)` (PyTorch's nn.Parameter)"
            )
        })
    }
}

impl TensorField for Option<Tensor> {
    fn push_tensor(&self, name: &str, trainable: bool, out: &mut Vec<NamedTensor>) {
        if let Some(t) = self {
            t.push_tensor(name, trainable, out);
        }
    }

    fn param_problem(&self, name: &str) -> Option<String> {
        self.as_ref().and_then(|t| t.param_problem(name))
    }
}

/// Hook slots of derived modules, by address and type: a derived struct has
/// no field for one. The code that reads this map is always the copy of
/// cnn_lab linked into the cell that defined the struct (both `forward_t`
/// and `forward_hooks` are generated there), so evcxr's one copy of the
/// crate per cell does not split a module's slot.
type SlotKey = (usize, &'static str);

static SLOTS: Mutex<Option<HashMap<SlotKey, &'static ForwardHooks>>> = Mutex::new(None);
static ANY_SLOT: AtomicBool = AtomicBool::new(false);

fn key_of<M: Module>(module: &M) -> SlotKey {
    (
        module as *const M as *const () as usize,
        std::any::type_name::<M>(),
    )
}

/// The forward-hook slot of a derived module, created the first time it is
/// asked for (by `summary`); a few dozen bytes, kept for the process.
pub fn hooks_of<M: Module>(module: &M) -> &'static ForwardHooks {
    let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
    let slots = slots.get_or_insert_with(HashMap::new);
    ANY_SLOT.store(true, Ordering::Release);
    slots
        .entry(key_of(module))
        .or_insert_with(|| Box::leak(Box::default()))
}

/// A derived module's forward pass, through its hooks if it has any.
pub fn record<M: Module>(module: &M, forward: impl FnOnce() -> Tensor) -> Tensor {
    if !ANY_SLOT.load(Ordering::Acquire) {
        return forward();
    }
    let hooks = {
        let slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        slots.as_ref().and_then(|s| s.get(&key_of(module)).copied())
    };
    match hooks {
        Some(hooks) => hooks.run(module, forward),
        None => forward(),
    }
}

/// PyTorch's `nn.ModuleList`: a `Vec` of modules in a derived model is a
/// child whose children are named `0`, `1`, …; it has no forward pass of its
/// own (iterate over it in yours), and prints repeated layers as PyTorch 2
/// does (`(0-2): 3 x Linear(…)`).
impl<M: AsModule> Module for Vec<M> {
    fn forward_t(&self, _xs: &Tensor, _train: bool) -> Tensor {
        panic!(
            "ModuleList has no forward pass of its own (as in PyTorch): \
             apply its layers in a loop, e.g. `for layer in &self.layers {{ x = layer.forward_t(&x, train); }}`"
        )
    }

    fn type_name(&self) -> String {
        "ModuleList".into()
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.iter()
            .enumerate()
            .map(|(i, m)| (i.to_string(), m.as_module()))
            .collect()
    }
}
