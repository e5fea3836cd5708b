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
//! [`record_forward`](super::record_forward), and `layer_traits!(Type);`
//! below it in its own file (printout, evcxr display and tch's `ModuleT`);
//! the file's public items are re-exported by glob.
//! The table of every layer with its PyTorch signature is `docs/layers.md`.

use tch::{Device, Kind, Tensor};

#[cfg(doc)]
use super::hooks::ForwardHooks;
use super::module::{header_line, repr_text, Module, NamedTensor};
use crate::display::show_pre;

/// `Display`/`Debug` as PyTorch's printout, `evcxr_display`, and tch's
/// `ModuleT` (so `xs.apply_t(&layer, train)` works) for a layer type.
/// Defined before the layer modules so each file registers its own types.
macro_rules! layer_traits {
    ($($ty:ty),*) => {$(
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::nn::layers::repr_of(self))
            }
        }
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::nn::layers::repr_of(self))
            }
        }
        impl tch::nn::ModuleT for $ty {
            fn forward_t(&self, xs: &tch::Tensor, train: bool) -> tch::Tensor {
                $crate::nn::Module::forward_t(self, xs, train)
            }
        }
        impl $ty {
            /// Called by evcxr for the last expression of a cell: the
            /// printout, monospaced.
            pub fn evcxr_display(&self) {
                $crate::nn::layers::show_repr(self);
            }
        }
    )*};
}

/// A layer without options or tensors, `nn.Name()`: the struct (whose
/// hooks slot also keeps it from being zero-sized — `summary` tells layers
/// apart by address, and every boxed zero-sized value shares one), `new`,
/// `Default`, its `impl Module` and [`layer_traits!`].
macro_rules! simple_layer {
    ($(#[$doc:meta])* $name:ident, |$xs:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Default)]
        pub struct $name {
            hooks: $crate::nn::ForwardHooks,
        }

        impl $name {
            #[doc = concat!("`nn.", stringify!($name), "()`.")]
            pub fn new() -> $name {
                $name::default()
            }
        }

        impl $crate::nn::Module for $name {
            fn forward_t(&self, $xs: &tch::Tensor, _train: bool) -> tch::Tensor {
                $crate::nn::record_forward(self, || $body)
            }

            fn type_name(&self) -> String {
                stringify!($name).into()
            }

            fn forward_hooks(&self) -> Option<&$crate::nn::ForwardHooks> {
                Some(&self.hooks)
            }
        }

        layer_traits!($name);
    };
}

mod activation;
mod activation_args;
mod batchnorm;
mod container;
#[macro_use]
mod conv_core;
mod conv;
mod dropout;
mod flatten;
mod linear;
mod normalization;
mod padding;
mod pixelshuffle;
mod pooling;
mod pooling_adaptive;
mod softmax;
mod upsampling;

// Each layer file's public items are the crate's: a new layer needs no line here.
pub use activation::*;
pub use activation_args::*;
pub use batchnorm::*;
pub use container::*;
pub use conv::*;
pub use dropout::*;
pub use flatten::*;
pub use linear::*;
pub use normalization::*;
pub use padding::*;
pub use pixelshuffle::*;
pub use pooling::*;
pub use pooling_adaptive::*;
pub use softmax::*;
pub use upsampling::*;

pub use super::args::IntoShape;

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

pub(crate) fn repr_of(module: &dyn Module) -> String {
    repr_text(module)
}

pub(crate) fn show_repr(module: &dyn Module) {
    show_pre(&repr_text(module));
}
