//! The dtype steps: `ToTensor`, `ConvertImageDtype`, and `Normalize` as a
//! transform.

use std::fmt;

use tch::{Kind, Tensor};

use super::args::py_float_list;
use super::functional as F;
use super::{dims, repr_fmt, Transform, TransformRng};
use crate::data::loader::Normalize;
use crate::error::Result;

/// torchvision's `ToTensor()`, on a decoded photo: uint8 0..255 → float32
/// 0..1 (a float image passes unchanged).
///
/// ```
/// use cnn_lab::data::transforms::{ToTensor, Transform};
/// let img = cnn_lab::Tensor::from_slice(&[0u8, 51, 255]).view([1, 1, 3]);
/// let x = ToTensor::new().apply_one(&img, 0)?;
/// assert!((x.double_value(&[0, 0, 1]) - 0.2).abs() < 1e-7);
/// assert_eq!(ToTensor::new().to_string(), "ToTensor()");
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct ToTensor;

impl ToTensor {
    /// `ToTensor()`.
    pub fn new() -> Self {
        ToTensor
    }
}

impl Transform for ToTensor {
    fn apply(&self, x: &Tensor, _rng: &mut TransformRng) -> Result<Tensor> {
        F::to_tensor(x)
    }

    /// Deterministic: no random parameter.
    fn is_random(&self) -> bool {
        false
    }

    fn repr(&self) -> String {
        "ToTensor()".into()
    }
}

/// torchvision's `ConvertImageDtype(dtype)`: values rescaled to the kind's
/// range.
///
/// ```
/// use cnn_lab::data::transforms::{ConvertImageDtype, Transform};
/// use cnn_lab::Kind;
/// let t = ConvertImageDtype::new(Kind::Float);
/// assert_eq!(t.to_string(), "ConvertImageDtype()");
/// let img = cnn_lab::Tensor::from_slice(&[255u8]).view([1, 1, 1]);
/// assert_eq!(t.apply_one(&img, 0)?.double_value(&[0, 0, 0]), 1.0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Clone)]
pub struct ConvertImageDtype {
    dtype: Kind,
}

impl ConvertImageDtype {
    /// `ConvertImageDtype(dtype)`.
    pub fn new(dtype: Kind) -> Self {
        ConvertImageDtype { dtype }
    }
}

impl Transform for ConvertImageDtype {
    fn apply(&self, x: &Tensor, _rng: &mut TransformRng) -> Result<Tensor> {
        dims("ConvertImageDtype", x)?;
        F::convert_image_dtype(x, self.dtype)
    }

    /// Deterministic: no random parameter.
    fn is_random(&self) -> bool {
        false
    }

    fn repr(&self) -> String {
        "ConvertImageDtype()".into()
    }
}

impl Transform for Normalize {
    fn apply(&self, x: &Tensor, _rng: &mut TransformRng) -> Result<Tensor> {
        F::normalize_by(self, x)
    }

    /// Deterministic: no random parameter.
    fn is_random(&self) -> bool {
        false
    }

    fn repr(&self) -> String {
        format!(
            "Normalize(mean={}, std={})",
            py_float_list(&self.mean),
            py_float_list(&self.std)
        )
    }
}

/// `print(Normalize(...))`: torchvision's text, the statistics as lists.
///
/// ```
/// let n = cnn_lab::Normalize::new([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
/// assert_eq!(n.to_string(), "Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])");
/// ```
impl fmt::Display for Normalize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Transform::repr(self))
    }
}

repr_fmt!(ToTensor, ConvertImageDtype);
