//! Loss functions (lecture: `nn.CrossEntropyLoss()`, `nn.BCELoss()`,
//! `nn.BCEWithLogitsLoss()`).
//!
//! A loss is anything implementing [`Loss`]: the three PyTorch-named structs
//! below, or a closure `|output: &Tensor, target: &Tensor| -> Tensor`.
//! Every loss reduces to the batch mean, PyTorch's default `reduction='mean'`.

use tch::{Kind, Reduction, Tensor};

/// A loss function: PyTorch's `loss_fn(pred, y)`.
///
/// `forward` follows tch's infallible style; `fit` and the `test_*`
/// functions call it through [`crate::error::catch_torch`], so a shape
/// mismatch comes back as an `Err`, not a panic.
pub trait Loss {
    /// The scalar loss of `output` (the model's output) against `target`.
    fn forward(&self, output: &Tensor, target: &Tensor) -> Tensor;
}

impl<F: Fn(&Tensor, &Tensor) -> Tensor> Loss for F {
    fn forward(&self, output: &Tensor, target: &Tensor) -> Tensor {
        self(output, target)
    }
}

/// `nn.CrossEntropyLoss()`: log-softmax of the logits `[N, C]` plus negative
/// log-likelihood of the class indices `[N]` (int64), averaged.
///
/// ```
/// use cnn_lab::{CrossEntropyLoss, Loss, Tensor};
/// let logits = Tensor::from_slice(&[2.0f32, 0.0, 0.0, 2.0]).view([2, 2]);
/// let y = Tensor::from_slice(&[0i64, 1]);
/// let loss = CrossEntropyLoss::new().forward(&logits, &y).double_value(&[]);
/// assert!((loss - 0.126928).abs() < 1e-5);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct CrossEntropyLoss;

impl CrossEntropyLoss {
    /// The loss with PyTorch's defaults (mean reduction, no weights, no smoothing).
    pub fn new() -> Self {
        CrossEntropyLoss
    }
}

impl Loss for CrossEntropyLoss {
    fn forward(&self, output: &Tensor, target: &Tensor) -> Tensor {
        output.cross_entropy_loss::<Tensor>(target, None, Reduction::Mean, -100, 0.0)
    }
}

/// `nn.BCELoss()`: binary cross-entropy of probabilities (a model ending in
/// a sigmoid) against float targets in `[0, 1]`, averaged.
///
/// An output of shape `[N, 1]` is matched to targets `[N]` (and integer
/// targets are converted to float), which PyTorch would make the caller do
/// by hand.
#[derive(Clone, Copy, Debug, Default)]
pub struct BCELoss;

impl BCELoss {
    /// The loss with PyTorch's defaults.
    pub fn new() -> Self {
        BCELoss
    }
}

impl Loss for BCELoss {
    fn forward(&self, output: &Tensor, target: &Tensor) -> Tensor {
        let (output, target) = binary_pair(output, target);
        output.binary_cross_entropy::<Tensor>(&target, None, Reduction::Mean)
    }
}

/// `nn.BCEWithLogitsLoss()`: sigmoid plus binary cross-entropy in one
/// numerically stable step, for a model whose last layer is one logit.
///
/// ```
/// use cnn_lab::{BCEWithLogitsLoss, Loss, Tensor};
/// let logits = Tensor::from_slice(&[0.0f32, 0.0]).view([2, 1]);
/// let y = Tensor::from_slice(&[0.0f32, 1.0]);
/// let loss = BCEWithLogitsLoss::new().forward(&logits, &y).double_value(&[]);
/// assert!((loss - std::f64::consts::LN_2).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct BCEWithLogitsLoss;

impl BCEWithLogitsLoss {
    /// The loss with PyTorch's defaults.
    pub fn new() -> Self {
        BCEWithLogitsLoss
    }
}

impl Loss for BCEWithLogitsLoss {
    fn forward(&self, output: &Tensor, target: &Tensor) -> Tensor {
        let (output, target) = binary_pair(output, target);
        output.binary_cross_entropy_with_logits::<Tensor>(&target, None, None, Reduction::Mean)
    }
}

/// `output` reshaped to `target`'s shape when only a trailing 1 differs
/// (`[N, 1]` vs `[N]`), and `target` as `output`'s float kind.
pub(crate) fn binary_pair(output: &Tensor, target: &Tensor) -> (Tensor, Tensor) {
    let output = if output.size() != target.size() && output.numel() == target.numel() {
        output.reshape(target.size())
    } else {
        output.shallow_clone()
    };
    let kind = match output.kind() {
        k @ (Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16) => k,
        _ => Kind::Float,
    };
    (output, target.to_kind(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bce_matches_bce_with_logits_after_sigmoid() {
        let logits = Tensor::from_slice(&[-1.5f32, 0.3, 2.0]).view([3, 1]);
        let y = Tensor::from_slice(&[0i64, 1, 1]);
        let a = BCELoss::new()
            .forward(&logits.sigmoid(), &y)
            .double_value(&[]);
        let b = BCEWithLogitsLoss::new()
            .forward(&logits, &y)
            .double_value(&[]);
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}
