//! The lecture's layers with PyTorch's names, arguments, defaults, parameter
//! names and printout, one file per layer family as in `torch/nn/modules/`.
//! Each layer owns its tensors (created on the CPU with PyTorch's default
//! initialisation; move them with
//! [`ModuleExt::to_device`](super::ModuleExt::to_device)) and a
//! [`ForwardHooks`] slot.
//!
//! Options are builder methods with PyTorch's defaults:
//! `nn.Conv2d(1, 32, kernel_size=3, stride=1, padding="same")` is
//! `Conv2d::new(1, 32, 3).stride(1).padding("same")`. Builder methods never
//! fail; a mistake (an unknown padding string, a zero stride) is kept and
//! reported as an [`Error`](crate::Error) by
//! [`ModuleExt::validate`](super::ModuleExt::validate),
//! [`summary`](super::summary) and
//! [`ModuleExt::try_forward_t`](super::ModuleExt::try_forward_t), and as a
//! panic with the same message by a bare `forward_t`.
//!
//! A new layer: a struct with a `hooks: ForwardHooks` field, an
//! `impl Module` whose `forward_t` runs its body through
//! [`record_forward`](super::record_forward), and a line in
//! `layer_traits!` below for its printout and tch's `ModuleT`.

mod activation;
mod batchnorm;
mod container;
mod conv;
mod dropout;
mod flatten;
mod linear;
mod pooling;

pub use activation::ReLU;
pub use batchnorm::BatchNorm2d;
pub use container::Sequential;
pub use conv::Conv2d;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use linear::Linear;
pub use pooling::MaxPool2d;

use std::fmt;

use tch::{Device, Kind, Tensor};

#[cfg(doc)]
use super::hooks::ForwardHooks;
use super::module::{header_line, repr_text, Module, NamedTensor};
use crate::display::show_pre;

/// `U(-bound, bound)` with PyTorch's bound `1/sqrt(fan_in)` — what
/// `kaiming_uniform_(a=sqrt(5))` works out to for weights, and what PyTorch
/// uses for biases — as a trainable leaf tensor.
pub(crate) fn uniform_param(shape: &[i64], fan_in: i64) -> Tensor {
    let mut t = Tensor::zeros(shape, (Kind::Float, Device::Cpu));
    // PyTorch leaves zero-element tensors untouched (and warns) when fan_in is 0.
    if fan_in > 0 {
        let bound = 1.0 / (fan_in as f64).sqrt();
        let _ = t.uniform_(-bound, bound);
    }
    t.set_requires_grad(true)
}

pub(crate) fn filled_param(shape: &[i64], value: f64) -> Tensor {
    Tensor::full(shape, value, (Kind::Float, Device::Cpu)).set_requires_grad(true)
}

pub(crate) fn param(name: &str, t: &Tensor) -> NamedTensor {
    NamedTensor {
        name: name.into(),
        tensor: t.shallow_clone(),
        trainable: true,
    }
}

pub(crate) fn buffer(name: &str, t: &Tensor) -> NamedTensor {
    NamedTensor {
        name: name.into(),
        tensor: t.shallow_clone(),
        trainable: false,
    }
}

/// Panics with the validation message; only reached when a caller skipped
/// `validate`/`try_forward_t`, and `catch_torch` turns it into an `Error`.
pub(crate) fn assert_valid(module: &dyn Module) {
    if let Some(problem) = module.config_error() {
        panic!("{}: {problem}", header_line(module));
    }
}

/// `Display`/`Debug` as PyTorch's printout, `evcxr_display`, and tch's
/// `ModuleT` (so `xs.apply_t(&layer, train)` works) for a layer type.
macro_rules! layer_traits {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&repr_text(self))
            }
        }
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&repr_text(self))
            }
        }
        impl tch::nn::ModuleT for $ty {
            fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
                Module::forward_t(self, xs, train)
            }
        }
        impl $ty {
            /// Called by evcxr for the last expression of a cell: the
            /// printout, monospaced.
            pub fn evcxr_display(&self) {
                show_pre(&repr_text(self));
            }
        }
    )*};
}

layer_traits!(
    Conv2d,
    BatchNorm2d,
    ReLU,
    Dropout,
    MaxPool2d,
    Flatten,
    Linear,
    Sequential
);
