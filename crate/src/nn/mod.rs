//! PyTorch-named layers, `print(model)` and `summary` (lecture: `torch.nn`, torchinfo).
//!
//! The contract every layer and every user model implements is [`Module`].
//! A model written in a notebook is a plain struct plus one `impl Module`:
//! `forward_t` (the forward pass) and `children` (its named sub-modules, in
//! the order PyTorch would register them). Everything else — parameter names
//! equal to PyTorch's `state_dict` keys, the printout, `summary`, moving to a
//! device — is derived from those two methods.
//!
//! | PyTorch | here |
//! |---|---|
//! | `nn.Conv2d(1, 32, kernel_size=3, stride=1, padding="same")` | `Conv2d::new(1, 32, 3).stride(1).padding("same")` |
//! | `nn.BatchNorm2d(32)` | `BatchNorm2d::new(32)` |
//! | `nn.ReLU()`, `nn.Flatten()` | `ReLU::new()`, `Flatten::new()` |
//! | `nn.Dropout(p=0.3)` | `Dropout::new(0.3)` |
//! | `nn.MaxPool2d(kernel_size=2, stride=2, padding=1)` | `MaxPool2d::new(2).stride(2).padding(1)` |
//! | `nn.Linear(128*4*4, 256)` | `Linear::new(128 * 4 * 4, 256)` |
//! | `nn.Sequential(a, b)` | `Sequential::new().add(a).add(b)` |
//! | `print(model)` | `model.repr()` (layers: `println!("{layer}")`) |
//! | `summary(model, (256, 1, 28, 28))` | `summary(&model, &[256, 1, 28, 28])?` |
//! | `model(x)` after `model.eval()` | `model.forward_t(&x, false)` or `x.apply_t(&layer, false)` |
//!
//! Every layer also implements tch's `nn::ModuleT`, so forward passes chain
//! like tch's examples: `xs.apply_t(&self.b1, train).apply_t(&self.b2, train)`.
//! Mistakes in a layer's options are reported as [`Error`](crate::Error)s by
//! [`ModuleExt::validate`], [`summary`] and [`ModuleExt::try_forward_t`]
//! (a bare `forward_t` panics with the same message). See [`summary`] for the
//! lecture's model written as a notebook cell.
//!
//! The rooms: [`Module`] and [`ModuleExt`] (the trait, `module.rs`), the
//! layers (`layers/`, one file per PyTorch module family), their arguments
//! and output-size arithmetic (`args.rs`), forward hooks (`hooks.rs`),
//! [`summary`] (`summary/`), and the CPU speed-ups ([`speedups`]).

/// The support code `#[derive(Module)]` expands to (not for direct use).
#[doc(hidden)]
#[path = "derive.rs"]
pub mod __derive;
mod args;
mod hooks;
mod layers;
mod module;
pub mod speedups;
mod summary;

pub use args::{conv_output_size, pool_output_size, IntoPadding, Padding, Size2};
pub use cnn_lab_derive::Module;
pub use hooks::{record_forward, ForwardHook, ForwardHooks, HookHandle};
pub use layers::*;
pub use module::{Module, ModuleExt, NamedTensor, Repr, ShowModule, Stage};
pub use summary::{summary, summary_input, Summary, SummaryRow};
