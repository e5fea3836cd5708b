//! The contract every layer and every user model implements: [`Module`]
//! (PyTorch's `nn.Module`) and the methods derived from it ([`ModuleExt`]:
//! parameter names, `state_dict`, moving to a device, validation, printout).

use tch::Tensor;

use super::hooks::ForwardHooks;
use crate::display::show_pre;
use crate::error::{catch_torch, Error, Result};

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
///
/// A model of your own is a struct with `#[derive(Module)]` and a
/// `forward` method, as a PyTorch class is `__init__` plus `forward`:
/// the fields are registered in order, as PyTorch registers `self.b1 = …`,
/// so its printout, `parameters()`, `state_dict()` and `summary` row come
/// from the struct and cannot disagree.
///
/// ```
/// use cnn_lab::*;
///
/// #[derive(Module)]
/// struct Net {
///     features: Sequential,
///     heads: Vec<Linear>,             // nn.ModuleList
///     extra: Option<Dropout>,         // registered when Some
///     #[module(param)]
///     scale: Tensor,                  // nn.Parameter
///     #[module(buffer)]
///     steps: Tensor,                  // register_buffer
///     #[module(skip)]
///     note: Vec<String>,              // not part of the model
///     dropout_rate: f64,              // plain numbers need no mark
/// }
///
/// impl Net {
///     fn new() -> Net {
///         Net {
///             features: Sequential::new().add(Conv2d::new(1, 4, 3)).add(ReLU::new()).add(Flatten::new()),
///             heads: vec![Linear::new(4 * 6 * 6, 10), Linear::new(4 * 6 * 6, 10)],
///             extra: None,
///             scale: Tensor::ones([1], (Kind::Float, Device::Cpu)).set_requires_grad(true),
///             steps: Tensor::zeros([1], (Kind::Int64, Device::Cpu)),
///             note: Vec::new(),
///             dropout_rate: 0.0,
///         }
///     }
///
///     fn forward(&self, x: &Tensor, train: bool) -> Tensor {
///         let h = x.apply_t(&self.features, train);
///         self.heads.iter().map(|head| h.apply_t(head, train)).sum::<Tensor>() * &self.scale
///     }
/// }
///
/// let net = Net::new();
/// let names: Vec<String> = net.state_dict().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["scale", "steps", "features.0.weight", "features.0.bias",
///                    "heads.0.weight", "heads.0.bias", "heads.1.weight", "heads.1.bias"]);
/// assert!(net.to_string().starts_with("Net(\n  (features): Sequential("));
/// assert!(net.to_string().contains("(heads): ModuleList(\n    (0-1): 2 x Linear("));
/// let x = Tensor::zeros([2, 1, 8, 8], (Kind::Float, Device::Cpu));
/// assert_eq!(net.forward_t(&x, false).size(), [2, 10]);
/// assert_eq!(summary(&net, &[2, 1, 8, 8])?.rows()[0].title(), "Net");
/// # Ok::<(), cnn_lab::Error>(())
/// ```
///
/// A field that is neither a module nor a plain value (a `Tensor` without a
/// mark, say) is a compile error asking for `#[module(param)]`,
/// `#[module(buffer)]` or `#[module(skip)]`: nothing is left out of
/// training by accident:
///
/// ```compile_fail
/// use cnn_lab::*;
/// #[derive(Module)]
/// struct Net {
///     weight: Tensor, // error: mark it #[module(param)], #[module(buffer)] or #[module(skip)]
/// }
/// impl Net {
///     fn forward(&self, x: &Tensor, _train: bool) -> Tensor {
///         x * &self.weight
///     }
/// }
/// ```
///
/// `#[module(name = "MyNet")]` on the struct sets the
/// class name shown in the printout. Writing `impl Module` by hand, with
/// `forward_t` and `children`, works as well.
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

    /// What is wrong with this module's own configuration, if anything
    /// (an unknown padding string, a zero stride, …), as PyTorch's
    /// constructor would complain. Layers are built with infallible builder
    /// methods so that a notebook cell reads like PyTorch; the mistake is
    /// reported here instead, and [`ModuleExt::validate`], [`summary`](crate::summary) and
    /// [`ModuleExt::try_forward_t`] turn it into an [`Error`].
    fn config_error(&self) -> Option<String> {
        None
    }

    /// This module's forward hooks, if it has a slot for them (every
    /// built-in layer does). [`summary`](super::summary) registers one on
    /// each module that has a slot, as torchinfo registers a hook on each
    /// `nn.Module`; a module of your own gets its own row in the table by
    /// holding a [`ForwardHooks`] and running its body through
    /// [`record_forward`](super::record_forward).
    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        None
    }

    /// The forward pass as a chain of stages, when it is one: `forward_t(x,
    /// train)` must equal applying the stages in order, each sub-module with
    /// the same `train` flag. [`Sequential`](crate::nn::Sequential) is one;
    /// so are torchvision's VGG, AlexNet and ResNet (`features`, `avgpool`,
    /// `flatten`, `classifier` / `conv1` … `fc`). `None` (the default) for
    /// any other module: its forward is opaque.
    ///
    /// `fit` uses it to find a frozen, mode-independent leading part whose
    /// output it computes once per sample (see
    /// [`FitOptions::cache_frozen_features`](crate::FitOptions::cache_frozen_features)).
    /// A derived model declares its chain with `#[module(chain)]` and an
    /// inherent `fn stages(&self) -> Vec<Stage<'_>>`:
    ///
    /// ```
    /// use cnn_lab::*;
    ///
    /// #[derive(Module)]
    /// #[module(chain)]
    /// struct Net {
    ///     body: Sequential,
    ///     head: Linear,
    /// }
    ///
    /// impl Net {
    ///     fn forward(&self, x: &Tensor, train: bool) -> Tensor {
    ///         x.apply_t(&self.body, train).flatten(1, -1).apply_t(&self.head, train)
    ///     }
    ///     /// The same computation, stage by stage.
    ///     fn stages(&self) -> Vec<Stage<'_>> {
    ///         vec![Stage::Module("body", &self.body), Stage::FLATTEN, Stage::Module("head", &self.head)]
    ///     }
    /// }
    ///
    /// let net = Net { body: Sequential::new().add(Conv2d::new(1, 2, 3)).add(ReLU::new()), head: Linear::new(8, 2) };
    /// assert_eq!(net.chain().map(|s| s.len()), Some(3));
    /// ```
    fn chain(&self) -> Option<Vec<Stage<'_>>> {
        None
    }
}

/// One step of a forward pass seen as a chain ([`Module::chain`]).
#[derive(Clone, Copy)]
pub enum Stage<'a> {
    /// A sub-module, by its name among the module's children, applied with
    /// the pass's `train` flag: `x = module.forward_t(&x, train)`.
    Module(&'a str, &'a dyn Module),
    /// A function without parameters whose result does not depend on the
    /// `train` flag (`torch.flatten(x, 1)`), with the name it is shown by.
    Function(&'static str, fn(&Tensor) -> Tensor),
}

impl Stage<'_> {
    /// `torch.flatten(x, 1)`, what torchvision's models call between their
    /// pooling and their classifier.
    pub const FLATTEN: Stage<'static> = Stage::Function("flatten", flatten_from_1);

    /// The stage's name: the child's, or the function's.
    pub fn name(&self) -> &str {
        match self {
            Stage::Module(name, _) => name,
            Stage::Function(name, _) => name,
        }
    }

    /// The stage applied to `x`.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        match self {
            Stage::Module(_, m) => m.forward_t(x, train),
            Stage::Function(_, f) => f(x),
        }
    }
}

impl std::fmt::Debug for Stage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stage::Module(name, m) => write!(f, "Module({name:?}, {})", m.type_name()),
            Stage::Function(name, _) => write!(f, "Function({name:?})"),
        }
    }
}

fn flatten_from_1(x: &Tensor) -> Tensor {
    x.flatten(1, -1)
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

    /// Freezes (`false`) or unfreezes (`true`) every parameter in the tree,
    /// PyTorch's `module.requires_grad_(requires_grad)`: a frozen parameter
    /// gets no gradient, so the optimizers skip it and it stays as it is.
    /// Buffers are left alone. Returns the module, so it chains.
    ///
    /// ```
    /// use cnn_lab::*;
    /// let model = Sequential::new().add(Linear::new(4, 8)).add(ReLU::new()).add(Linear::new(8, 2));
    /// model.requires_grad_(false); // for p in model.parameters(): p.requires_grad = False
    /// model[2].requires_grad_(true); // train only the last layer
    /// let trainable: Vec<bool> = model.parameters().iter().map(|p| p.requires_grad()).collect();
    /// assert_eq!(trainable, [false, false, true, true]);
    /// ```
    fn requires_grad_(&self, requires_grad: bool) -> &Self {
        for (_, p) in self.named_parameters() {
            if p.requires_grad() != requires_grad {
                let _ = p.set_requires_grad(requires_grad);
            }
        }
        self
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

    /// Checks every module in the tree ([`Module::config_error`]); the error
    /// names the module's path and printout, e.g.
    /// `b1.0: Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1)): padding must be …`.
    ///
    /// ```
    /// use cnn_lab::*;
    /// let net = Sequential::new().add(Conv2d::new(1, 8, 3).padding("smae"));
    /// let err = net.validate().unwrap_err().to_string();
    /// assert!(err.contains("padding must be \"same\", \"valid\""), "{err}");
    /// ```
    fn validate(&self) -> Result<()> {
        validate_tree(self.as_dyn(), "")
    }

    /// The forward pass as a `Result`: validates the configuration, then runs
    /// `forward_t` with libtorch errors (wrong input shape, …) turned into
    /// [`Error::Shape`]. Handy for trying one layer on a real image:
    ///
    /// ```
    /// use cnn_lab::*;
    /// let conv = Conv2d::new(1, 32, 3).padding("same");
    /// let x = Tensor::zeros([1, 1, 28, 28], (Kind::Float, Device::Cpu));
    /// assert_eq!(conv.try_forward_t(&x, false)?.size(), [1, 32, 28, 28]);
    /// // the same, panicking on a mistake: conv.forward_t(&x, false).size()
    /// assert!(conv.try_forward_t(&Tensor::zeros([2, 28, 28], (Kind::Float, Device::Cpu)), false).is_err());
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    fn try_forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        self.validate()?;
        let module = self.as_dyn();
        catch_torch(&format!("{} forward", module.type_name()), || {
            module.forward_t(xs, train)
        })
    }

    /// PyTorch's `print(model)` text: the class name, each layer's
    /// `extra_repr`, children indented by two spaces as `(name): …`.
    /// The value implements `Display` and shows itself in a notebook.
    ///
    /// ```
    /// use cnn_lab::*;
    /// let block = Sequential::new().add(Conv2d::new(1, 32, 3).padding("same")).add(ReLU::new());
    /// assert_eq!(
    ///     block.repr().to_string(),
    ///     "Sequential(\n  (0): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=same)\n  (1): ReLU()\n)"
    /// );
    /// ```
    fn repr(&self) -> Repr {
        Repr(repr_text(self.as_dyn()))
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

fn validate_tree(module: &dyn Module, path: &str) -> Result<()> {
    if let Some(problem) = module.config_error() {
        let at = if path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        };
        return Err(Error::InvalidArgument(format!(
            "{at}{}: {problem}",
            header_line(module)
        )));
    }
    for (name, child) in module.children() {
        let child_path = if path.is_empty() {
            name
        } else {
            format!("{path}.{name}")
        };
        validate_tree(child, &child_path)?;
    }
    Ok(())
}

/// `Name(extra_repr)`: the one-line description of a module, shared by the
/// printout, error messages and `summary`.
pub(crate) fn header_line(module: &dyn Module) -> String {
    format!("{}({})", module.type_name(), module.extra_repr())
}

/// PyTorch's `nn.Module.__repr__`, line for line (and `nn.ModuleList`'s,
/// which prints a run of identical layers once as `(0-2): 3 x Linear(…)`).
#[doc(hidden)]
pub fn repr_text(module: &dyn Module) -> String {
    let extra = module.extra_repr();
    let extra_lines: Vec<String> = if extra.is_empty() {
        Vec::new()
    } else {
        extra.split('\n').map(str::to_string).collect()
    };
    let children: Vec<(String, String)> = module
        .children()
        .into_iter()
        .map(|(name, child)| (name, repr_text(child)))
        .collect();
    let children = if module.type_name() == "ModuleList" {
        group_repeats(children)
    } else {
        children
    };
    let child_lines: Vec<String> = children
        .into_iter()
        // PyTorch's `_addindent(repr(child), 2)`: every line but the first.
        .map(|(name, text)| format!("({name}): {}", text.replace('\n', "\n  ")))
        .collect();
    let mut out = format!("{}(", module.type_name());
    if extra_lines.len() == 1 && child_lines.is_empty() {
        out.push_str(&extra_lines[0]);
    } else if !extra_lines.is_empty() || !child_lines.is_empty() {
        let lines: Vec<String> = extra_lines.into_iter().chain(child_lines).collect();
        out.push_str("\n  ");
        out.push_str(&lines.join("\n  "));
        out.push('\n');
    }
    out.push(')');
    out
}

/// `ModuleList.__repr__`'s compression: consecutive children with the same
/// printout become one `(first-last): n x …` entry.
fn group_repeats(children: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut groups: Vec<(String, String, usize, String)> = Vec::new();
    for (name, text) in children {
        match groups.last_mut() {
            Some((_, last, n, text_of_group)) if *text_of_group == text => {
                *last = name;
                *n += 1;
            }
            _ => groups.push((name.clone(), name, 1, text)),
        }
    }
    groups
        .into_iter()
        .map(|(first, last, n, text)| {
            if n == 1 {
                (first, text)
            } else {
                (format!("{first}-{last}"), format!("{n} x {text}"))
            }
        })
        .collect()
}

/// A model's printout (`print(model)` in PyTorch), from [`ModuleExt::repr`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repr(pub String);

impl std::fmt::Display for Repr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Repr {
    /// Called by evcxr for the last expression of a cell: monospaced text.
    pub fn evcxr_display(&self) {
        show_pre(&self.0);
    }
}

/// A module as the last expression of a notebook cell shows PyTorch's
/// `print(model)` text (evcxr calls `evcxr_display`); in the prelude, so a
/// hand-written `impl Module` displays too.
///
/// ```
/// use cnn_lab::*;
/// let block = Sequential::new().add(ReLU::new());
/// block.evcxr_display(); // what a notebook cell ending in `block` runs
/// ```
pub trait ShowModule {
    /// Emits the printout as monospaced text.
    fn evcxr_display(&self);
}

impl<M: ModuleExt + ?Sized> ShowModule for M {
    fn evcxr_display(&self) {
        show_pre(&repr_text(self.as_dyn()));
    }
}
