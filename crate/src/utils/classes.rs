//! Class indices and names, shared by the pictures that label images and
//! matrices with them.

use tch::Tensor;

use crate::error::{Error, Result};

/// Copies a tensor's values, flattened, to a `Vec` on the CPU (`f32` for
/// pixels, `i64` for classes).
pub(crate) fn to_vec<T: tch::kind::Element + Copy>(t: &Tensor, what: &str) -> Result<Vec<T>> {
    let flat = t
        .f_to_kind(T::KIND)?
        .f_to_device(tch::Device::Cpu)?
        .f_reshape([-1])?;
    Vec::<T>::try_from(&flat).map_err(|e| Error::Shape(format!("{what}: cannot read values: {e}")))
}

/// Class indices from `[N]` indices (kept) or `[N, C]` scores (arg-max).
pub(crate) fn predicted_classes(preds: &Tensor) -> Result<Tensor> {
    if preds.dim() == 2 {
        Ok(preds.f_argmax(1, false)?)
    } else {
        Ok(preds.shallow_clone())
    }
}

/// `names[class]`, or the number when there are no names or none for it.
pub(crate) fn class_name(names: Option<&[String]>, class: i64) -> String {
    match names {
        Some(names) if class >= 0 && (class as usize) < names.len() => {
            names[class as usize].clone()
        }
        _ => class.to_string(),
    }
}
