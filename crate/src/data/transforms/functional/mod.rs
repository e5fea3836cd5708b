//! torchvision's functional transforms (`torchvision.transforms.functional`,
//! imported as `F`): one effect each, with its parameters given, on one
//! image `[C, H, W]` or a batch `[N, C, H, W]`, uint8 (0..255) or float
//! (0..1). The random transforms call these after drawing their
//! parameters; a lecture calls them to show one effect at a time.
//!
//! Each computes what torchvision's tensor path computes (its
//! `_functional_tensor.py`): the same libtorch kernels (antialiased
//! `upsample_*_aa`, `grid_sampler`, `conv2d`), the same float32
//! arithmetic in the same order, the same rounding back to uint8.
//!
//! ```
//! use cnn_lab::data::transforms::functional as F;
//! use cnn_lab::{Kind, Tensor};
//! let img = Tensor::randint(256, [3, 30, 45], (Kind::Uint8, cnn_lab::Device::Cpu));
//! assert_eq!(F::resize(&img, 20)?.size(), [3, 20, 30]);
//! assert_eq!(F::center_crop(&img, 16)?.size(), [3, 16, 16]);
//! assert!(F::hflip(&F::hflip(&img)?)?.equal(&img));
//! let darker = F::adjust_brightness(&img, 0.5)?;
//! assert_eq!(darker.kind(), Kind::Uint8);
//! # Ok::<(), cnn_lab::Error>(())
//! ```

mod affine;
mod color;
pub(crate) mod geometry;

pub use affine::{affine, affine_with, rotate, rotate_with};
pub(crate) use affine::{affine_matrix, rotate_matrix, warp};
pub(crate) use color::normalize_by;
pub use color::{
    adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation, adjust_sharpness,
    convert_image_dtype, erase, gaussian_blur, invert, normalize, rgb_to_grayscale, to_tensor,
};
pub use geometry::{
    center_crop, crop, hflip, pad, pad_with, resize, resize_with, resized_crop, vflip,
};

use tch::{Kind, Tensor};

use crate::error::Result;

/// The kind torchvision computes an image's filters in: its own if
/// floating point, else float32.
pub(crate) fn work_kind(img: &Tensor) -> Kind {
    if img.is_floating_point() {
        img.kind()
    } else {
        Kind::Float
    }
}

/// torchvision's `_max_value(dtype)`: 255 for uint8, 1 for floats.
pub(crate) fn max_value(kind: Kind) -> f64 {
    match kind {
        Kind::Uint8 => 255.0,
        Kind::Int8 => 127.0,
        Kind::Int16 => 32767.0,
        Kind::Int => 2147483647.0,
        Kind::Int64 => 9223372036854775807.0,
        _ => 1.0,
    }
}

/// torchvision's `_cast_squeeze_in`: a batch, cast to `req[0]` unless its
/// kind is one of `req`; returns it with what `_cast_squeeze_out` needs.
pub(crate) fn cast_squeeze_in(img: &Tensor, req: &[Kind]) -> Result<(Tensor, bool, Kind)> {
    let squeeze = img.dim() < 4;
    let mut x = if squeeze {
        img.f_unsqueeze(0)?
    } else {
        img.shallow_clone()
    };
    let out = img.kind();
    if !req.contains(&out) {
        x = x.f_to_kind(req[0])?;
    }
    Ok((x, squeeze, out))
}

/// torchvision's `_cast_squeeze_out`: back to one image and to the input's
/// kind, rounding to the nearest integer for uint8.
pub(crate) fn cast_squeeze_out(x: Tensor, squeeze: bool, out: Kind) -> Result<Tensor> {
    let x = if squeeze { x.f_squeeze_dim(0)? } else { x };
    if x.kind() == out {
        return Ok(x);
    }
    let x = if matches!(
        out,
        Kind::Uint8 | Kind::Int8 | Kind::Int16 | Kind::Int | Kind::Int64
    ) {
        x.f_round()?
    } else {
        x
    };
    Ok(x.f_to_kind(out)?)
}
