//! `nn.BatchNorm1d`, `nn.BatchNorm2d` and `nn.InstanceNorm2d`: one type,
//! [`NormNd`] (PyTorch's `_NormBase`), for the number of spatial dimensions
//! and the kind of statistics.

use tch::{Device, Kind, Tensor};

use super::{assert_valid, buffer, filled_param, param};
use crate::nn::hooks::{record_forward, ForwardHooks};
use crate::nn::module::{header_line, Module, NamedTensor};
use crate::pyfmt::{py_bool, py_float};

/// `nn.BatchNorm2d(num_features, eps=1e-05, momentum=0.1, affine=True,
/// track_running_stats=True, *, bias=True)` over inputs `[N, C, H, W]`.
///
/// ```
/// use cnn_lab::*;
/// let bn = BatchNorm2d::new(32).momentum(0.01);
/// assert_eq!(bn.to_string(), "BatchNorm2d(32, eps=1e-05, momentum=0.01, affine=True, bias=True, track_running_stats=True)");
/// ```
pub type BatchNorm2d = NormNd<2>;

/// `nn.BatchNorm1d(num_features, eps=1e-05, momentum=0.1, affine=True,
/// track_running_stats=True, *, bias=True)` over inputs `[N, C]` or
/// `[N, C, L]` (e.g. after a `Linear`).
///
/// ```
/// use cnn_lab::*;
/// let bn = BatchNorm1d::new(256);
/// assert_eq!(bn.to_string(), "BatchNorm1d(256, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)");
/// let x = Tensor::randn([8, 256], (Kind::Float, Device::Cpu));
/// assert_eq!(bn.forward_t(&x, true).size(), [8, 256]);
/// ```
pub type BatchNorm1d = NormNd<1>;

/// `nn.InstanceNorm2d(num_features, eps=1e-05, momentum=0.1, affine=False,
/// track_running_stats=False, *, bias=True)`: normalises each channel of
/// each sample of `[N, C, H, W]` or `[C, H, W]` inputs over its own `H×W`
/// (style transfer). With `track_running_stats(true)` eval mode uses the
/// running statistics, as PyTorch.
///
/// ```
/// use cnn_lab::*;
/// let norm = InstanceNorm2d::new(3);
/// assert_eq!(norm.to_string(), "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)");
/// assert!(norm.state_dict().is_empty());
/// let x = Tensor::randn([2, 3, 4, 4], (Kind::Float, Device::Cpu));
/// let y = norm.forward_t(&x, false);
/// assert!(y.mean_dim(&[2i64, 3][..], false, Kind::Float).abs().max().double_value(&[]) < 1e-5);
/// ```
pub type InstanceNorm2d = NormNd<2, true>;

/// Batch (or, with `INSTANCE`, instance) normalisation over the channels of
/// inputs with `DIMS` spatial dimensions: [`BatchNorm1d`], [`BatchNorm2d`]
/// and [`InstanceNorm2d`]. Parameters `weight`
/// (ones) and `bias` (zeros); buffers `running_mean` (zeros), `running_var` (ones) and
/// `num_batches_tracked` (an int64 scalar). In training mode it normalises
/// with the batch statistics and updates the running ones
/// (`running = (1 - momentum) * running + momentum * batch`, unbiased
/// variance); in eval mode it uses the running statistics.
///
/// ```
/// use cnn_lab::*;
/// let bn = BatchNorm2d::new(32);
/// assert_eq!(bn.to_string(), "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)");
/// assert_eq!(BatchNorm2d::new(8).bias(false).state_dict()[1].0, "running_mean");
/// ```
pub struct NormNd<const DIMS: usize, const INSTANCE: bool = false> {
    num_features: i64,
    eps: f64,
    momentum: f64,
    use_bias: bool,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    running_mean: Option<Tensor>,
    running_var: Option<Tensor>,
    num_batches_tracked: Option<Tensor>,
    hooks: ForwardHooks,
}

impl<const DIMS: usize, const INSTANCE: bool> NormNd<DIMS, INSTANCE> {
    /// Normalisation over `num_features` channels with PyTorch's defaults
    /// (for instance norm: no `affine`, no running statistics).
    pub fn new(num_features: i64) -> Self {
        NormNd {
            num_features,
            eps: 1e-5,
            momentum: 0.1,
            use_bias: true,
            weight: None,
            bias: None,
            running_mean: None,
            running_var: None,
            num_batches_tracked: None,
            hooks: ForwardHooks::default(),
        }
        .affine(!INSTANCE)
        .track_running_stats(!INSTANCE)
    }

    /// `eps`, added to the variance (default 1e-5).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// `momentum` of the running statistics (default 0.1).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// `affine`: learnable `weight` and `bias` (default `true`; instance norm `false`).
    pub fn affine(mut self, affine: bool) -> Self {
        let n = [self.num_features.max(0)];
        self.weight = affine.then(|| filled_param(&n, 1.0));
        self.bias = (affine && self.use_bias).then(|| filled_param(&n, 0.0));
        self
    }

    /// `bias` (keyword-only, default `true`): with `affine`, a learnable
    /// `bias`; `false` keeps only the `weight`.
    pub fn bias(mut self, bias: bool) -> Self {
        self.use_bias = bias;
        let affine = self.weight.is_some();
        self.affine(affine)
    }

    /// `track_running_stats`: keep running statistics for eval mode
    /// (default `true`; instance norm `false`).
    pub fn track_running_stats(mut self, track: bool) -> Self {
        let n = [self.num_features.max(0)];
        let opts = (Kind::Float, Device::Cpu);
        self.running_mean = track.then(|| Tensor::zeros(n, opts));
        self.running_var = track.then(|| Tensor::ones(n, opts));
        self.num_batches_tracked = track.then(|| Tensor::zeros([], (Kind::Int64, Device::Cpu)));
        self
    }

    /// The running mean buffer, if tracked.
    pub fn running_mean(&self) -> Option<&Tensor> {
        self.running_mean.as_ref()
    }

    /// The running (unbiased) variance buffer, if tracked.
    pub fn running_var(&self) -> Option<&Tensor> {
        self.running_var.as_ref()
    }

    /// How many training batches updated the running statistics.
    pub fn num_batches_tracked(&self) -> i64 {
        self.num_batches_tracked
            .as_ref()
            .map_or(0, |t| t.int64_value(&[]))
    }
}

impl<const DIMS: usize, const INSTANCE: bool> NormNd<DIMS, INSTANCE> {
    /// `F.instance_norm`, an unbatched input as one sample; PyTorch does not
    /// count `num_batches_tracked` here.
    fn instance_norm(&self, xs: &Tensor, train: bool) -> Tensor {
        let unbatched = xs.dim() == DIMS + 1;
        let input = if unbatched {
            xs.unsqueeze(0)
        } else {
            xs.shallow_clone()
        };
        let out = input.instance_norm(
            self.weight.as_ref(),
            self.bias.as_ref(),
            self.running_mean.as_ref(),
            self.running_var.as_ref(),
            train || self.running_mean.is_none(),
            self.momentum,
            self.eps,
            true,
        );
        if unbatched {
            out.squeeze_dim(0)
        } else {
            out
        }
    }
}

impl<const DIMS: usize, const INSTANCE: bool> Module for NormNd<DIMS, INSTANCE> {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || {
            assert_valid(self);
            let dim = xs.dim();
            let (ok, expected) = if INSTANCE {
                (dim == DIMS + 1 || dim == DIMS + 2, "3D or 4D")
            } else if DIMS == 1 {
                (dim == 2 || dim == 3, "2D or 3D")
            } else {
                (dim == DIMS + 2, "4D")
            };
            assert!(
                ok,
                "{}: expected {expected} input (got {dim}D input)",
                header_line(self)
            );
            if INSTANCE {
                return self.instance_norm(xs, train);
            }
            if train {
                if let Some(n) = &self.num_batches_tracked {
                    let _guard = tch::no_grad_guard();
                    let _ = n.shallow_clone().g_add_scalar_(1);
                }
            }
            // As PyTorch: batch statistics when training or when nothing is tracked.
            let use_batch_stats = train || self.running_mean.is_none();
            xs.batch_norm(
                self.weight.as_ref(),
                self.bias.as_ref(),
                self.running_mean.as_ref(),
                self.running_var.as_ref(),
                use_batch_stats,
                self.momentum,
                self.eps,
                true,
            )
        })
    }

    fn type_name(&self) -> String {
        let kind = if INSTANCE { "Instance" } else { "Batch" };
        format!("{kind}Norm{DIMS}d")
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }

    fn extra_repr(&self) -> String {
        format!(
            "{}, eps={}, momentum={}, affine={}, bias={}, track_running_stats={}",
            self.num_features,
            py_float(self.eps),
            py_float(self.momentum),
            py_bool(self.weight.is_some()),
            py_bool(self.bias.is_some()),
            py_bool(self.running_mean.is_some())
        )
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        out.extend(self.weight.iter().map(|t| param("weight", t)));
        out.extend(self.bias.iter().map(|t| param("bias", t)));
        out.extend(self.running_mean.iter().map(|t| buffer("running_mean", t)));
        out.extend(self.running_var.iter().map(|t| buffer("running_var", t)));
        out.extend(
            self.num_batches_tracked
                .iter()
                .map(|t| buffer("num_batches_tracked", t)),
        );
        out
    }

    fn config_error(&self) -> Option<String> {
        if self.num_features <= 0 {
            return Some(format!(
                "num_features must be positive, got {}",
                self.num_features
            ));
        }
        (self.eps <= 0.0 || !self.eps.is_finite())
            .then(|| format!("eps must be positive, got {}", py_float(self.eps)))
    }
}

layer_traits!(BatchNorm1d, BatchNorm2d, InstanceNorm2d);
