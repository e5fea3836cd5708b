//! Geometry: flips, crops, padding, resizing, rotation and affine maps.

use tch::{Kind, Tensor};

use super::{cast_squeeze_in, cast_squeeze_out};
use crate::data::transforms::args::{
    py_round, ImageSize, InterpolationMode, PadWidths, PaddingMode,
};
use crate::data::transforms::dims;
use crate::error::{Error, Result};

/// `F.hflip(img)`: mirrored left to right.
///
/// ```
/// use cnn_lab::data::transforms::functional::hflip;
/// let x = cnn_lab::Tensor::from_slice(&[1.0f32, 2.0]).view([1, 1, 2]);
/// assert_eq!(hflip(&x)?.double_value(&[0, 0, 0]), 2.0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn hflip(img: &Tensor) -> Result<Tensor> {
    dims("hflip", img)?;
    Ok(img.f_flip([-1])?)
}

/// `F.vflip(img)`: upside down.
///
/// ```
/// use cnn_lab::data::transforms::functional::vflip;
/// let x = cnn_lab::Tensor::from_slice(&[1.0f32, 2.0]).view([1, 2, 1]);
/// assert_eq!(vflip(&x)?.double_value(&[0, 0, 0]), 2.0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn vflip(img: &Tensor) -> Result<Tensor> {
    dims("vflip", img)?;
    Ok(img.f_flip([-2])?)
}

/// `F.crop(img, top, left, height, width)`: the `height` × `width` window
/// at `(top, left)`; where it reaches outside the image, zeros.
///
/// ```
/// use cnn_lab::data::transforms::functional::crop;
/// let x = cnn_lab::Tensor::ones([3, 10, 10], cnn_lab::FLOAT_CPU);
/// let c = crop(&x, -2, 0, 4, 4)?;
/// assert_eq!(c.size(), [3, 4, 4]);
/// assert_eq!(c.double_value(&[0, 0, 0]), 0.0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn crop(img: &Tensor, top: i64, left: i64, height: i64, width: i64) -> Result<Tensor> {
    let d = dims("crop", img)?;
    if height < 0 || width < 0 {
        return Err(Error::InvalidArgument(format!(
            "crop: height and width must not be negative, got {height} x {width}"
        )));
    }
    let (h, w) = (d.h, d.w);
    let (right, bottom) = (left + width, top + height);
    if left < 0 || top < 0 || right > w || bottom > h {
        let ltrb = [
            (-left + right.min(0)).max(0),
            (-top + bottom.min(0)).max(0),
            (right - w.max(left)).max(0),
            (bottom - h.max(top)).max(0),
        ];
        let (t0, l0) = (top.max(0), left.max(0));
        let inner = img
            .f_narrow(-2, t0.min(h), (bottom.min(h) - t0).max(0))?
            .f_narrow(-1, l0.min(w), (right.min(w) - l0).max(0))?;
        return pad_with(
            &inner,
            PadWidths::Four(ltrb[0], ltrb[1], ltrb[2], ltrb[3]),
            0.0,
            PaddingMode::Constant,
        );
    }
    Ok(img.f_narrow(-2, top, height)?.f_narrow(-1, left, width)?)
}

/// `F.center_crop(img, output_size)`: the central window (zero-padded
/// first where the image is smaller).
///
/// ```
/// use cnn_lab::data::transforms::functional::center_crop;
/// let x = cnn_lab::Tensor::ones([3, 9, 12], cnn_lab::FLOAT_CPU);
/// assert_eq!(center_crop(&x, (4, 6))?.size(), [3, 4, 6]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn center_crop(img: &Tensor, output_size: impl Into<ImageSize>) -> Result<Tensor> {
    let d = dims("center_crop", img)?;
    let (ch, cw) = output_size.into().hw();
    let (mut ih, mut iw) = (d.h, d.w);
    let mut img = img.shallow_clone();
    if cw > iw || ch > ih {
        let ltrb = [
            if cw > iw { (cw - iw) / 2 } else { 0 },
            if ch > ih { (ch - ih) / 2 } else { 0 },
            if cw > iw { (cw - iw + 1) / 2 } else { 0 },
            if ch > ih { (ch - ih + 1) / 2 } else { 0 },
        ];
        img = pad_with(
            &img,
            PadWidths::Four(ltrb[0], ltrb[1], ltrb[2], ltrb[3]),
            0.0,
            PaddingMode::Constant,
        )?;
        (ih, iw) = (ih + ltrb[1] + ltrb[3], iw + ltrb[0] + ltrb[2]);
        if cw == iw && ch == ih {
            return Ok(img);
        }
    }
    let top = py_round((ih - ch) as f64 / 2.0);
    let left = py_round((iw - cw) as f64 / 2.0);
    crop(&img, top, left, ch, cw)
}

/// `F.pad(img, padding)`: zeros around the image (`padding` as
/// torchvision's: all sides, `(left/right, top/bottom)` or
/// `(left, top, right, bottom)`).
///
/// ```
/// use cnn_lab::data::transforms::functional::pad;
/// let x = cnn_lab::Tensor::ones([1, 2, 2], cnn_lab::FLOAT_CPU);
/// assert_eq!(pad(&x, (1, 2))?.size(), [1, 6, 4]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn pad(img: &Tensor, padding: impl Into<PadWidths>) -> Result<Tensor> {
    pad_with(img, padding, 0.0, PaddingMode::Constant)
}

/// `F.pad(img, padding, fill, padding_mode)`.
///
/// ```
/// use cnn_lab::data::transforms::{functional::pad_with, PaddingMode};
/// let x = cnn_lab::Tensor::from_slice(&[1.0f32, 2.0, 3.0]).view([1, 1, 3]);
/// let y = pad_with(&x, (2, 0), 0.0, PaddingMode::Reflect)?;
/// assert_eq!(Vec::<f32>::try_from(y.flatten(0, -1))?, [3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn pad_with(
    img: &Tensor,
    padding: impl Into<PadWidths>,
    fill: f64,
    padding_mode: PaddingMode,
) -> Result<Tensor> {
    dims("pad", img)?;
    let [l, t, r, b] = padding.into().ltrb();
    let p = [l, r, t, b];
    if padding_mode == PaddingMode::Symmetric {
        return pad_symmetric(img, p);
    }
    let squeeze = img.dim() < 4;
    let mut x = if squeeze {
        img.f_unsqueeze(0)?
    } else {
        img.shallow_clone()
    };
    let out = x.kind();
    let cast = padding_mode != PaddingMode::Constant && !matches!(out, Kind::Float | Kind::Double);
    if cast {
        x = x.f_to_kind(Kind::Float)?;
    }
    x = match padding_mode {
        PaddingMode::Constant => x.f_pad(p, "constant", fill)?,
        PaddingMode::Reflect => x.f_pad(p, "reflect", None::<f64>)?,
        _ => x.f_pad(p, "replicate", None::<f64>)?,
    };
    if squeeze {
        x = x.f_squeeze_dim(0)?;
    }
    if cast {
        x = x.f_to_kind(out)?;
    }
    Ok(x)
}

/// torchvision's `_pad_symmetric` (`p` = left, right, top, bottom).
fn pad_symmetric(img: &Tensor, p: [i64; 4]) -> Result<Tensor> {
    let mut img = img.shallow_clone();
    if p.iter().any(|&x| x < 0) {
        let [cl, cr, ct, cb] = p.map(|x| -(x.min(0)));
        let (h, w) = (img.size()[img.dim() - 2], img.size()[img.dim() - 1]);
        img = img
            .f_narrow(-2, ct, (h - ct - cb).max(0))?
            .f_narrow(-1, cl, (w - cl - cr).max(0))?;
    }
    let p = p.map(|x| x.max(0));
    let (h, w) = (img.size()[img.dim() - 2], img.size()[img.dim() - 1]);
    let indices = |n: i64, before: i64, after: i64| -> Result<Tensor> {
        let mut v: Vec<i64> = (0..before).rev().collect();
        v.extend(0..n);
        v.extend((0..after).map(|i| n - 1 - i));
        if v.iter().any(|&i| i < 0 || i >= n) {
            return Err(Error::InvalidArgument(format!(
                "pad: symmetric padding ({before}, {after}) is wider than the image side {n}"
            )));
        }
        Ok(Tensor::from_slice(&v).to_device(img.device()))
    };
    let x = indices(w, p[0], p[1])?;
    let y = indices(h, p[2], p[3])?;
    Ok(img.f_index_select(-2, &y)?.f_index_select(-1, &x)?)
}

/// torchvision's `_compute_resized_output_size`: `(h, w)` as given, or the
/// smaller edge to `size` keeping the aspect ratio (the longer edge at
/// most `max_size`).
pub(crate) fn resized_output_size(
    (h, w): (i64, i64),
    size: ImageSize,
    max_size: Option<i64>,
) -> Result<(i64, i64)> {
    match size {
        ImageSize::Pair(oh, ow) => {
            if max_size.is_some() {
                return Err(Error::InvalidArgument(
                    "resize: max_size should only be passed if size specifies the length of the \
                     smaller edge, i.e. size should be an int"
                        .into(),
                ));
            }
            Ok((oh, ow))
        }
        ImageSize::Int(s) => {
            let (short, long) = if w <= h { (w, h) } else { (h, w) };
            if short <= 0 {
                return Err(Error::Shape(format!("resize: empty image {h} x {w}")));
            }
            let mut new_short = s;
            let mut new_long = ((s * long) as f64 / short as f64) as i64;
            if let Some(m) = max_size {
                if m <= s {
                    return Err(Error::InvalidArgument(format!(
                        "resize: max_size = {m} must be strictly greater than the requested size \
                         for the smaller edge size = {s}"
                    )));
                }
                if new_long > m {
                    new_short = ((m * new_short) as f64 / new_long as f64) as i64;
                    new_long = m;
                }
            }
            Ok(if w <= h {
                (new_long, new_short)
            } else {
                (new_short, new_long)
            })
        }
    }
}

/// `F.resize(img, size)`: bilinear, antialiased (torchvision's defaults);
/// `size` one int (the smaller edge, aspect ratio kept) or `(h, w)`.
///
/// ```
/// use cnn_lab::data::transforms::functional::resize;
/// let x = cnn_lab::Tensor::rand([3, 300, 451], cnn_lab::FLOAT_CPU);
/// assert_eq!(resize(&x, 224)?.size(), [3, 224, 336]);
/// assert_eq!(resize(&x, (64, 64))?.size(), [3, 64, 64]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn resize(img: &Tensor, size: impl Into<ImageSize>) -> Result<Tensor> {
    resize_with(img, size, InterpolationMode::Bilinear, None, true)
}

/// `F.resize(img, size, interpolation, max_size, antialias)`; `antialias`
/// applies to bilinear and bicubic only, as in torchvision.
///
/// ```
/// use cnn_lab::data::transforms::{functional::resize_with, InterpolationMode};
/// let x = cnn_lab::Tensor::rand([1, 20, 40], cnn_lab::FLOAT_CPU);
/// let y = resize_with(&x, 10, InterpolationMode::Nearest, Some(15), true)?;
/// assert_eq!(y.size(), [1, 7, 15]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn resize_with(
    img: &Tensor,
    size: impl Into<ImageSize>,
    interpolation: InterpolationMode,
    max_size: Option<i64>,
    antialias: bool,
) -> Result<Tensor> {
    let d = dims("resize", img)?;
    let size = size.into();
    size.check("resize")?;
    let (oh, ow) = resized_output_size((d.h, d.w), size, max_size)?;
    if (oh, ow) == (d.h, d.w) {
        return Ok(img.shallow_clone());
    }
    let (x, squeeze, out) = cast_squeeze_in(img, &[Kind::Float, Kind::Double])?;
    let y = match (interpolation, antialias) {
        (InterpolationMode::Nearest, _) => x.f_upsample_nearest2d([oh, ow], None, None)?,
        (InterpolationMode::Bilinear, true) => {
            x.f_internal_upsample_bilinear2d_aa([oh, ow], false, None, None)?
        }
        (InterpolationMode::Bilinear, false) => {
            x.f_upsample_bilinear2d([oh, ow], false, None, None)?
        }
        (InterpolationMode::Bicubic, true) => {
            x.f_internal_upsample_bicubic2d_aa([oh, ow], false, None, None)?
        }
        (InterpolationMode::Bicubic, false) => {
            x.f_upsample_bicubic2d([oh, ow], false, None, None)?
        }
    };
    let y = if interpolation == InterpolationMode::Bicubic && out == Kind::Uint8 {
        y.f_clamp(0.0, 255.0)?
    } else {
        y
    };
    cast_squeeze_out(y, squeeze, out)
}

/// torchvision v2's resize of a `uint8` image on the CPU, bilinear and
/// antialiased: libtorch's kernel on the bytes themselves (4× quicker than
/// v1's float copy, within 1/255 of it). `None` where v2 would take another
/// path (not uint8, not on the CPU, another interpolation, no antialias).
pub(crate) fn resize_uint8_v2(
    img: &Tensor,
    size: ImageSize,
    interpolation: InterpolationMode,
    max_size: Option<i64>,
    antialias: bool,
) -> Option<Result<Tensor>> {
    if img.kind() != Kind::Uint8
        || img.device() != tch::Device::Cpu
        || (interpolation, antialias) != (InterpolationMode::Bilinear, true)
    {
        return None;
    }
    Some((|| {
        let d = dims("resize", img)?;
        size.check("resize")?;
        let (oh, ow) = resized_output_size((d.h, d.w), size, max_size)?;
        if (oh, ow) == (d.h, d.w) {
            return Ok(img.shallow_clone());
        }
        let batch = if img.dim() == 3 {
            img.f_unsqueeze(0)?
        } else {
            img.shallow_clone()
        };
        let y = batch.f_internal_upsample_bilinear2d_aa([oh, ow], false, None, None)?;
        Ok(if img.dim() == 3 {
            y.f_squeeze_dim(0)?
        } else {
            y
        })
    })())
}

/// `F.resized_crop(img, top, left, height, width, size, interpolation,
/// antialias)`: [`crop`] then [`resize_with`].
///
/// ```
/// use cnn_lab::data::transforms::{functional::resized_crop, InterpolationMode};
/// let x = cnn_lab::Tensor::rand([3, 50, 60], cnn_lab::FLOAT_CPU);
/// let y = resized_crop(&x, 5, 10, 20, 30, (16, 16), InterpolationMode::Bilinear, true)?;
/// assert_eq!(y.size(), [3, 16, 16]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn resized_crop(
    img: &Tensor,
    top: i64,
    left: i64,
    height: i64,
    width: i64,
    size: impl Into<ImageSize>,
    interpolation: InterpolationMode,
    antialias: bool,
) -> Result<Tensor> {
    let c = crop(img, top, left, height, width)?;
    resize_with(&c, size, interpolation, None, antialias)
}
