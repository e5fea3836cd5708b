//! What every torchvision builder shares: the keyword arguments
//! ([`ModelOptions`]), the rule that weights decide `num_classes`
//! (torchvision's `_ovewrite_named_param`), and the weight initialisation
//! helpers (`torch.nn.init`) the models' `__init__` loops apply.

use tch::Tensor;

use super::weights::Weights;
use crate::error::{Error, Result};
use crate::nn::{Module, ModuleExt, Stage};

/// torchvision's keyword arguments to a model builder, builder style:
/// `resnet18(weights=None, num_classes=2)` is
/// `models::resnet18_with(None, ModelOptions::new().num_classes(2))`.
/// Each builder reads the options its torchvision function takes; one it
/// does not take is an error, as Python's `TypeError: got an unexpected
/// keyword argument`.
///
/// ```
/// use cnn_lab::models::{self, ModelOptions};
/// let model = models::resnet18_with(None, ModelOptions::new().num_classes(2))?;
/// assert_eq!(model.fc.to_string(), "Linear(in_features=512, out_features=2, bias=True)");
/// let err = models::resnet18_with(None, ModelOptions::new().aux_logits(true)).unwrap_err();
/// assert!(err.to_string().contains("unexpected keyword argument 'aux_logits'"), "{err}");
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelOptions {
    pub(crate) num_classes: Option<i64>,
    pub(crate) dropout: Option<f64>,
    pub(crate) zero_init_residual: Option<bool>,
    pub(crate) init_weights: Option<bool>,
    pub(crate) memory_efficient: Option<bool>,
    pub(crate) width_mult: Option<f64>,
    pub(crate) stochastic_depth_prob: Option<f64>,
    pub(crate) aux_logits: Option<bool>,
    pub(crate) transform_input: Option<bool>,
    pub(crate) dropout_aux: Option<f64>,
}

impl ModelOptions {
    /// No keyword arguments: torchvision's defaults.
    pub fn new() -> ModelOptions {
        ModelOptions::default()
    }

    /// `num_classes` (default 1000): the size of the last layer. With
    /// weights it must be theirs (it is taken from them when not given).
    pub fn num_classes(mut self, num_classes: i64) -> Self {
        self.num_classes = Some(num_classes);
        self
    }

    /// `dropout`: the classifier's dropout probability (VGG, AlexNet,
    /// SqueezeNet, MobileNetV2/V3, EfficientNet; each with torchvision's default).
    pub fn dropout(mut self, dropout: f64) -> Self {
        self.dropout = Some(dropout);
        self
    }

    /// `zero_init_residual` (ResNet, default `false`): each block's last
    /// BatchNorm starts at weight 0, so every residual branch starts as the identity.
    pub fn zero_init_residual(mut self, zero_init_residual: bool) -> Self {
        self.zero_init_residual = Some(zero_init_residual);
        self
    }

    /// `init_weights` (VGG, default `true`): torchvision's initialisation
    /// rather than PyTorch's layer defaults.
    pub fn init_weights(mut self, init_weights: bool) -> Self {
        self.init_weights = Some(init_weights);
        self
    }

    /// `memory_efficient` (DenseNet, default `false`): torchvision's
    /// checkpointing switch; accepted for compatibility, the outputs are the same.
    pub fn memory_efficient(mut self, memory_efficient: bool) -> Self {
        self.memory_efficient = Some(memory_efficient);
        self
    }

    /// `width_mult` (MobileNetV2, default 1.0): scales every layer's channels.
    pub fn width_mult(mut self, width_mult: f64) -> Self {
        self.width_mult = Some(width_mult);
        self
    }

    /// `stochastic_depth_prob` (EfficientNet, default 0.2): the largest
    /// probability of skipping a block in training.
    pub fn stochastic_depth_prob(mut self, p: f64) -> Self {
        self.stochastic_depth_prob = Some(p);
        self
    }

    /// `aux_logits` (GoogLeNet, default `true` without weights, `false`
    /// with): the two auxiliary classifiers, run in training mode.
    pub fn aux_logits(mut self, aux_logits: bool) -> Self {
        self.aux_logits = Some(aux_logits);
        self
    }

    /// `transform_input` (GoogLeNet, default `false` without weights,
    /// `true` with): re-normalise ImageNet-normalised inputs as the ported
    /// weights expect.
    pub fn transform_input(mut self, transform_input: bool) -> Self {
        self.transform_input = Some(transform_input);
        self
    }

    /// `dropout_aux` (GoogLeNet, default 0.7): the auxiliary classifiers' dropout.
    pub fn dropout_aux(mut self, dropout_aux: f64) -> Self {
        self.dropout_aux = Some(dropout_aux);
        self
    }

    /// An error naming the first option `builder` does not take.
    pub(crate) fn only(&self, builder: &str, allowed: &[&str]) -> Result<()> {
        let given = [
            ("num_classes", self.num_classes.is_some()),
            ("dropout", self.dropout.is_some()),
            ("zero_init_residual", self.zero_init_residual.is_some()),
            ("init_weights", self.init_weights.is_some()),
            ("memory_efficient", self.memory_efficient.is_some()),
            ("width_mult", self.width_mult.is_some()),
            (
                "stochastic_depth_prob",
                self.stochastic_depth_prob.is_some(),
            ),
            ("aux_logits", self.aux_logits.is_some()),
            ("transform_input", self.transform_input.is_some()),
            ("dropout_aux", self.dropout_aux.is_some()),
        ];
        for (name, set) in given {
            if set && !allowed.contains(&name) {
                return Err(Error::InvalidArgument(format!(
                    "{builder}() got an unexpected keyword argument '{name}'"
                )));
            }
        }
        if let Some(n) = self.num_classes {
            if n <= 0 {
                return Err(Error::InvalidArgument(format!(
                    "{builder}(): num_classes must be positive, got {n}"
                )));
            }
        }
        for p in [self.dropout, self.dropout_aux].into_iter().flatten() {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::InvalidArgument(format!(
                    "{builder}(): dropout probability has to be between 0 and 1, but got {p}"
                )));
            }
        }
        Ok(())
    }

    /// torchvision's `_ovewrite_named_param(kwargs, "num_classes",
    /// len(weights.meta["categories"]))`: the number of classes, from the
    /// weights when there are some.
    pub(crate) fn classes(&self, weights: Option<&Weights>) -> Result<i64> {
        match (weights, self.num_classes) {
            (Some(w), Some(n)) if n != w.num_classes => Err(Error::InvalidArgument(format!(
                "The parameter 'num_classes' expected value {} but got {n} instead \
                 ({} has {} classes; replace the head after loading for another number)",
                w.num_classes, w.name, w.num_classes
            ))),
            (Some(w), _) => Ok(w.num_classes),
            (None, n) => Ok(n.unwrap_or(1000)),
        }
    }
}

/// Loads `weights` into `model` (strictly) when given.
pub(crate) fn load_weights<M: ModuleExt>(model: M, weights: Option<&Weights>) -> Result<M> {
    if let Some(w) = weights {
        w.load_into(&model)?;
    }
    Ok(model)
}

/// Every module of the tree, depth first in registration order, with its
/// path (`model.named_modules()`).
pub(crate) fn named_modules<'a>(
    module: &'a dyn Module,
    prefix: &str,
    out: &mut Vec<(String, &'a dyn Module)>,
) {
    out.push((prefix.to_string(), module));
    for (name, child) in module.children() {
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}.{name}")
        };
        named_modules(child, &path, out);
    }
}

/// The module's own tensor `name` (`m.weight`), sharing storage.
pub(crate) fn own(module: &dyn Module, name: &str) -> Option<Tensor> {
    module
        .own_tensors()
        .into_iter()
        .find(|t| t.name == name)
        .map(|t| t.tensor)
}

/// The `torch.nn.init` functions the models use, in place without autograd.
pub(crate) mod init {
    use tch::Tensor;

    fn fans(t: &Tensor) -> (f64, f64) {
        let size = t.size();
        let receptive: i64 = size.iter().skip(2).product();
        let fan_in = size.get(1).copied().unwrap_or(1) * receptive;
        let fan_out = size.first().copied().unwrap_or(1) * receptive;
        (fan_in.max(1) as f64, fan_out.max(1) as f64)
    }

    /// `kaiming_normal_(t, mode="fan_out", nonlinearity="relu")`.
    pub fn kaiming_normal_fan_out(t: &Tensor) {
        let std = (2.0 / fans(t).1).sqrt();
        normal(t, 0.0, std);
    }

    /// `kaiming_normal_(t)` (mode `fan_in`, `leaky_relu` with `a=0`).
    pub fn kaiming_normal_fan_in(t: &Tensor) {
        let std = (2.0 / fans(t).0).sqrt();
        normal(t, 0.0, std);
    }

    /// `kaiming_uniform_(t)` (mode `fan_in`, `a=0`): `U(±sqrt(6 / fan_in))`.
    pub fn kaiming_uniform(t: &Tensor) {
        let bound = (6.0 / fans(t).0).sqrt();
        uniform(t, -bound, bound);
    }

    /// `normal_(t, mean, std)`.
    pub fn normal(t: &Tensor, mean: f64, std: f64) {
        tch::no_grad(|| {
            let _ = t.shallow_clone().normal_(mean, std);
        });
    }

    /// `uniform_(t, a, b)`.
    pub fn uniform(t: &Tensor, a: f64, b: f64) {
        tch::no_grad(|| {
            let _ = t.shallow_clone().uniform_(a, b);
        });
    }

    /// `trunc_normal_(t, mean=0, std, a, b)`: PyTorch's inverse-CDF draw of
    /// a normal truncated to `[a, b]`.
    pub fn trunc_normal(t: &Tensor, std: f64, a: f64, b: f64) {
        let cdf = |x: f64| (1.0 + erf(x / std::f64::consts::SQRT_2)) / 2.0;
        let (l, u) = (cdf(a / std), cdf(b / std));
        tch::no_grad(|| {
            let mut x = t.shallow_clone();
            let _ = x.uniform_(2.0 * l - 1.0, 2.0 * u - 1.0);
            let _ = x.erfinv_();
            let _ = x.g_mul_scalar_(std * std::f64::consts::SQRT_2);
            let _ = x.clamp_(a, b);
        });
    }

    fn erf(x: f64) -> f64 {
        Tensor::from(x).erf().double_value(&[])
    }

    /// `constant_(t, value)` (`zeros_`, `ones_`).
    pub fn constant(t: &Tensor, value: f64) {
        tch::no_grad(|| {
            let _ = t.shallow_clone().fill_(value);
        });
    }
}

/// Calls `f(path, module)` for every module of `model` (torchvision's
/// `for m in self.modules(): if isinstance(m, …)` initialisation loops).
pub(crate) fn init_each(model: &dyn Module, mut f: impl FnMut(&str, &dyn Module)) {
    let mut modules = Vec::new();
    named_modules(model, "", &mut modules);
    for (path, m) in modules {
        f(&path, m);
    }
}

/// `m.weight` through `init_weight` and `m.bias` to zeros, where `m` has them.
pub(crate) fn init_weight_zero_bias(m: &dyn Module, init_weight: impl Fn(&Tensor)) {
    if let Some(w) = own(m, "weight") {
        init_weight(&w);
    }
    if let Some(b) = own(m, "bias") {
        init::constant(&b, 0.0);
    }
}

/// torchvision's usual `__init__` loop (ResNet, VGG, the MobileNets,
/// EfficientNet, RegNet): every `Conv2d` weight
/// `kaiming_normal_(mode="fan_out", nonlinearity="relu")` and, with
/// `zero_conv_bias`, its bias zeros; every `Linear` weight through `linear`
/// and its bias zeros (`None`: PyTorch's defaults kept).
pub(crate) fn init_fan_out_convs(
    model: &dyn Module,
    zero_conv_bias: bool,
    linear: Option<&dyn Fn(&Tensor)>,
) {
    init_each(model, |_, m| match (m.type_name().as_str(), linear) {
        ("Conv2d", _) if zero_conv_bias => init_weight_zero_bias(m, init::kaiming_normal_fan_out),
        ("Conv2d", _) => {
            if let Some(w) = own(m, "weight") {
                init::kaiming_normal_fan_out(&w);
            }
        }
        ("Linear", Some(linear)) => init_weight_zero_bias(m, linear),
        _ => {}
    });
}

/// torchvision's `classifier(flatten(avgpool(features(x)), 1))` forward
/// (MobileNetV3, EfficientNet, AlexNet, VGG).
pub(crate) fn pool_classify(
    x: &Tensor,
    features: &dyn Module,
    avgpool: &dyn Module,
    classifier: &dyn Module,
    train: bool,
) -> Tensor {
    let pooled = avgpool.forward_t(&features.forward_t(x, train), train);
    classifier.forward_t(&pooled.flatten(1, -1), train)
}

/// [`pool_classify`] as a chain ([`Module::chain`]): `features`, `avgpool`,
/// `flatten(1)`, `classifier` (AlexNet, VGG).
pub(crate) fn pool_classify_stages<'a>(
    features: &'a dyn Module,
    avgpool: &'a dyn Module,
    classifier: &'a dyn Module,
) -> Vec<Stage<'a>> {
    vec![
        Stage::Module("features", features),
        Stage::Module("avgpool", avgpool),
        Stage::FLATTEN,
        Stage::Module("classifier", classifier),
    ]
}
