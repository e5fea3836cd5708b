//! The activations with options (`torch/nn/modules/activation.py`):
//! `nn.LeakyReLU`, `nn.ELU`, `nn.CELU`, `nn.Hardtanh`, `nn.GELU`,
//! `nn.Softplus`, and `nn.PReLU`, whose slope is a parameter.

use tch::Tensor;

use super::{assert_valid, filled_param, param};
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::{Module, NamedTensor};
use crate::pyfmt::py_float;

/// `nn.LeakyReLU(negative_slope=0.01)`: `x` for `x > 0`, else `negative_slope * x`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(LeakyReLU::new().to_string(), "LeakyReLU(negative_slope=0.01)");
/// assert_eq!(LeakyReLU::new().negative_slope(0.1).to_string(), "LeakyReLU(negative_slope=0.1)");
/// ```
pub struct LeakyReLU {
    negative_slope: f64,
    hooks: ForwardHooks,
}

impl LeakyReLU {
    /// With PyTorch's slope, 0.01.
    pub fn new() -> LeakyReLU {
        LeakyReLU {
            negative_slope: 0.01,
            hooks: ForwardHooks::default(),
        }
    }

    /// `negative_slope` (default 0.01); PyTorch accepts any value, negative too.
    pub fn negative_slope(mut self, negative_slope: f64) -> Self {
        self.negative_slope = negative_slope;
        self
    }
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU::new()
    }
}

impl Module for LeakyReLU {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            if self.negative_slope == 0.01 {
                xs.leaky_relu()
            } else {
                // As ATen's kernel: the slope also applies at 0 (for the gradient).
                xs.where_self(&xs.gt(0.0), &(xs * self.negative_slope))
            }
        })
    }

    fn type_name(&self) -> String {
        "LeakyReLU".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("negative_slope={}", py_float(self.negative_slope))
    }
}

/// `nn.ELU(alpha=1.0)`: `x` for `x > 0`, else `alpha * (exp(x) - 1)`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(ELU::new().to_string(), "ELU(alpha=1.0)");
/// assert_eq!(ELU::new().alpha(0.5).to_string(), "ELU(alpha=0.5)");
/// ```
pub struct ELU {
    alpha: f64,
    hooks: ForwardHooks,
}

impl ELU {
    /// With `alpha` 1.
    pub fn new() -> ELU {
        ELU {
            alpha: 1.0,
            hooks: ForwardHooks::default(),
        }
    }

    /// `alpha` (default 1.0).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
}

impl Default for ELU {
    fn default() -> Self {
        ELU::new()
    }
}

impl Module for ELU {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            if self.alpha == 1.0 {
                xs.elu()
            } else {
                // exp of the clamped input: no inf (and no NaN gradient) for large x.
                let negative = xs.clamp_max(0.0).expm1() * self.alpha;
                xs.where_self(&xs.gt(0.0), &negative)
            }
        })
    }

    fn type_name(&self) -> String {
        "ELU".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("alpha={}", py_float(self.alpha))
    }
}

/// `nn.CELU(alpha=1.0)`: `max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(CELU::new().alpha(2.0).to_string(), "CELU(alpha=2.0)");
/// assert!(CELU::new().alpha(0.0).validate().is_err());
/// ```
pub struct CELU {
    alpha: f64,
    hooks: ForwardHooks,
}

impl CELU {
    /// With `alpha` 1.
    pub fn new() -> CELU {
        CELU {
            alpha: 1.0,
            hooks: ForwardHooks::default(),
        }
    }

    /// `alpha` (default 1.0; not 0).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
}

impl Default for CELU {
    fn default() -> Self {
        CELU::new()
    }
}

impl Module for CELU {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            if self.alpha == 1.0 {
                return xs.celu();
            }
            let negative = (xs.clamp_max(0.0) / self.alpha).expm1() * self.alpha;
            xs.where_self(&xs.gt(0.0), &negative)
        })
    }

    fn type_name(&self) -> String {
        "CELU".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("alpha={}", py_float(self.alpha))
    }

    fn config_error(&self) -> Option<String> {
        (self.alpha == 0.0).then(|| "ZeroDivisionError: alpha cannot be 0 for CELU".into())
    }
}

/// `nn.Hardtanh(min_val=-1.0, max_val=1.0)`: `x` clamped to `[min_val, max_val]`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Hardtanh::new().to_string(), "Hardtanh(min_val=-1.0, max_val=1.0)");
/// assert_eq!(Hardtanh::new().min_val(0.0).max_val(6.0).to_string(), "Hardtanh(min_val=0.0, max_val=6.0)");
/// assert!(Hardtanh::new().min_val(2.0).validate().is_err());
/// ```
pub struct Hardtanh {
    min_val: f64,
    max_val: f64,
    hooks: ForwardHooks,
}

impl Hardtanh {
    /// Clamping to `[-1, 1]`.
    pub fn new() -> Hardtanh {
        Hardtanh {
            min_val: -1.0,
            max_val: 1.0,
            hooks: ForwardHooks::default(),
        }
    }

    /// `min_val` (default -1.0).
    pub fn min_val(mut self, min_val: f64) -> Self {
        self.min_val = min_val;
        self
    }

    /// `max_val` (default 1.0), greater than `min_val`.
    pub fn max_val(mut self, max_val: f64) -> Self {
        self.max_val = max_val;
        self
    }
}

impl Default for Hardtanh {
    fn default() -> Self {
        Hardtanh::new()
    }
}

impl Module for Hardtanh {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            if (self.min_val, self.max_val) == (-1.0, 1.0) {
                xs.hardtanh()
            } else {
                xs.clamp(self.min_val, self.max_val)
            }
        })
    }

    fn type_name(&self) -> String {
        "Hardtanh".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "min_val={}, max_val={}",
            py_float(self.min_val),
            py_float(self.max_val)
        )
    }

    fn config_error(&self) -> Option<String> {
        (self.max_val <= self.min_val).then(|| {
            format!(
                "max_val ({}) must be greater than min_val ({})",
                py_float(self.max_val),
                py_float(self.min_val)
            )
        })
    }
}

/// `nn.GELU(approximate='none')`: `x * Φ(x)`, or its tanh approximation
/// with `approximate("tanh")`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(GELU::new().to_string(), "GELU(approximate='none')");
/// assert_eq!(GELU::new().approximate("tanh").to_string(), "GELU(approximate='tanh')");
/// assert!(GELU::new().approximate("fast").validate().is_err());
/// ```
pub struct GELU {
    approximate: String,
    hooks: ForwardHooks,
}

impl GELU {
    /// The exact GELU.
    pub fn new() -> GELU {
        GELU {
            approximate: "none".into(),
            hooks: ForwardHooks::default(),
        }
    }

    /// `approximate`: `"none"` (default) or `"tanh"`.
    pub fn approximate(mut self, approximate: &str) -> Self {
        self.approximate = approximate.into();
        self
    }
}

impl Default for GELU {
    fn default() -> Self {
        GELU::new()
    }
}

impl Module for GELU {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            xs.gelu(&self.approximate)
        })
    }

    fn type_name(&self) -> String {
        "GELU".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("approximate='{}'", self.approximate)
    }

    fn config_error(&self) -> Option<String> {
        (!matches!(self.approximate.as_str(), "none" | "tanh"))
            .then(|| "approximate argument must be either none or tanh.".into())
    }
}

/// `nn.Softplus(beta=1.0, threshold=20.0)`: `log(1 + exp(beta * x)) / beta`,
/// and `x` itself where `beta * x > threshold`.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(Softplus::new().to_string(), "Softplus(beta=1.0, threshold=20.0)");
/// assert_eq!(Softplus::new().beta(2.0).threshold(10.0).to_string(), "Softplus(beta=2.0, threshold=10.0)");
/// ```
pub struct Softplus {
    beta: f64,
    threshold: f64,
    hooks: ForwardHooks,
}

impl Softplus {
    /// With PyTorch's `beta` 1 and `threshold` 20.
    pub fn new() -> Softplus {
        Softplus {
            beta: 1.0,
            threshold: 20.0,
            hooks: ForwardHooks::default(),
        }
    }

    /// `beta` (default 1.0).
    pub fn beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }

    /// `threshold` (default 20.0): above it (in `beta * x`) the layer is linear.
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }
}

impl Default for Softplus {
    fn default() -> Self {
        Softplus::new()
    }
}

impl Module for Softplus {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || {
            if self.beta == 1.0 && self.threshold == 20.0 {
                return xs.softplus();
            }
            let scaled = xs * self.beta;
            // The clamp keeps exp finite in the branch `where` does not take.
            let soft = scaled.clamp_max(self.threshold).exp().log1p() / self.beta;
            xs.where_self(&scaled.gt(self.threshold), &soft)
        })
    }

    fn type_name(&self) -> String {
        "Softplus".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "beta={}, threshold={}",
            py_float(self.beta),
            py_float(self.threshold)
        )
    }
}

/// `nn.PReLU(num_parameters=1, init=0.25)`: a leaky ReLU whose slope is a
/// parameter `weight` `[num_parameters]` (one slope, or one per channel).
///
/// ```
/// use cnn_lab::*;
/// let prelu = PReLU::new().num_parameters(3).init(0.1);
/// assert_eq!(prelu.to_string(), "PReLU(num_parameters=3)");
/// assert_eq!(prelu.state_dict()[0].1.size(), [3]);
/// ```
pub struct PReLU {
    num_parameters: i64,
    init: f64,
    weight: Tensor,
    hooks: ForwardHooks,
}

impl PReLU {
    /// One shared slope, initialised to 0.25.
    pub fn new() -> PReLU {
        PReLU {
            num_parameters: 1,
            init: 0.25,
            weight: filled_param(&[1], 0.25),
            hooks: ForwardHooks::default(),
        }
    }

    /// `num_parameters` (default 1): 1, or the number of input channels.
    pub fn num_parameters(mut self, num_parameters: i64) -> Self {
        self.num_parameters = num_parameters;
        self.weight = filled_param(&[num_parameters.max(0)], self.init);
        self
    }

    /// `init` (default 0.25): the slopes' initial value.
    pub fn init(mut self, init: f64) -> Self {
        self.init = init;
        self.weight = filled_param(&[self.num_parameters.max(0)], init);
        self
    }

    /// The slopes, `[num_parameters]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

impl Default for PReLU {
    fn default() -> Self {
        PReLU::new()
    }
}

impl Module for PReLU {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        record_forward(self, || xs.prelu(&self.weight))
    }

    fn type_name(&self) -> String {
        "PReLU".into()
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!("num_parameters={}", self.num_parameters)
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        vec![param("weight", &self.weight)]
    }
}

layer_traits!(LeakyReLU, ELU, CELU, Hardtanh, GELU, Softplus, PReLU);
