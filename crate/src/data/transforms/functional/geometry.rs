//! Geometry: flips, crops, padding, resizing, rotation and affine maps.

use tch::{Kind, Tensor};

use super::{cast_squeeze_in, cast_squeeze_out, work_kind};
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

/// torchvision's `_get_inverse_affine_matrix(center, angle, translate,
/// scale, shear)` (degrees; the centre relative to the image centre).
pub(crate) fn inverse_affine_matrix(
    (cx, cy): (f64, f64),
    angle: f64,
    (tx, ty): (f64, f64),
    scale: f64,
    (sx, sy): (f64, f64),
) -> [f64; 6] {
    let rot = angle.to_radians();
    let (sx, sy) = (sx.to_radians(), sy.to_radians());
    let a = (rot - sy).cos() / sy.cos();
    let b = -(rot - sy).cos() * sx.tan() / sy.cos() - rot.sin();
    let c = (rot - sy).sin() / sy.cos();
    let d = -(rot - sy).sin() * sx.tan() / sy.cos() + rot.cos();
    let mut m = [d, -b, 0.0, -c, a, 0.0].map(|x| x / scale);
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
    m[2] += cx;
    m[5] += cy;
    m
}

/// torchvision's `_compute_affine_output_size` (float32, as torchvision
/// computes it): `(w, h)` of the rotated image's bounding box.
fn affine_output_size(m: &[f64; 6], w: i64, h: i64) -> Result<(i64, i64)> {
    let (wf, hf) = (w as f64, h as f64);
    let pts = Tensor::from_slice(&[
        -0.5 * wf,
        -0.5 * hf,
        1.0,
        -0.5 * wf,
        0.5 * hf,
        1.0,
        0.5 * wf,
        0.5 * hf,
        1.0,
        0.5 * wf,
        -0.5 * hf,
        1.0,
    ])
    .to_kind(Kind::Float)
    .view([4, 3]);
    let theta = Tensor::from_slice(m).to_kind(Kind::Float).view([2, 3]);
    let new_pts = pts.f_matmul(&theta.tr())?;
    let half = Tensor::from_slice(&[wf * 0.5, hf * 0.5]).to_kind(Kind::Float);
    let min = new_pts.f_amin([0i64].as_slice(), false)? + &half;
    let max = new_pts.f_amax([0i64].as_slice(), false)? + &half;
    let tol = 1e-4;
    let cmax = ((max / tol).f_trunc()? * tol).f_ceil()?;
    let cmin = ((min / tol).f_trunc()? * tol).f_floor()?;
    let size = cmax - cmin;
    Ok((
        size.double_value(&[0]) as i64,
        size.double_value(&[1]) as i64,
    ))
}

/// Warps `img` by inverse matrices (one for all images, or one per image
/// of a batch) as torchvision's tensor path does: its affine grid
/// (`_gen_affine_grid`), `grid_sample` with zeros outside, then `fill`
/// through a mask channel (`_apply_grid_transform`). `out` is `(w, h)`.
pub(crate) fn warp(
    name: &str,
    img: &Tensor,
    matrices: &[[f64; 6]],
    interpolation: InterpolationMode,
    fill: Option<&[f64]>,
    out: Option<(i64, i64)>,
) -> Result<Tensor> {
    let d = dims(name, img)?;
    let mode = match interpolation {
        InterpolationMode::Nearest => 1,
        InterpolationMode::Bilinear => 0,
        InterpolationMode::Bicubic => {
            return Err(Error::InvalidArgument(format!(
                "{name}: Interpolation mode 'bicubic' is unsupported with Tensor input \
                 (nearest or bilinear)"
            )))
        }
    };
    if let Some(f) = fill {
        if f.len() > 1 && f.len() as i64 != d.c {
            return Err(Error::InvalidArgument(format!(
                "{name}: The number of elements in 'fill' cannot broadcast to match the number \
                 of channels of the image ({} != {})",
                f.len(),
                d.c
            )));
        }
    }
    let n_img = d.batch.unwrap_or(1);
    if matrices.len() != 1 && matrices.len() as i64 != n_img {
        return Err(Error::InvalidArgument(format!(
            "{name}: {} matrices for {n_img} images",
            matrices.len()
        )));
    }
    let (ow, oh) = out.unwrap_or((d.w, d.h));
    let kind = work_kind(img);
    let device = img.device();
    let m = matrices.len() as i64;
    let flat: Vec<f64> = matrices.iter().flatten().copied().collect();
    let theta = Tensor::from_slice(&flat)
        .to_kind(kind)
        .to_device(device)
        .view([m, 2, 3]);
    let base = Tensor::f_empty([1, oh, ow, 3], (kind, device))?;
    let half = 0.5;
    let xs = Tensor::f_linspace(
        -(ow as f64) * 0.5 + half,
        ow as f64 * 0.5 + half - 1.0,
        ow,
        (Kind::Float, device),
    )?;
    let ys = Tensor::f_linspace(
        -(oh as f64) * 0.5 + half,
        oh as f64 * 0.5 + half - 1.0,
        oh,
        (Kind::Float, device),
    )?;
    base.select(3, 0).f_copy_(&xs)?;
    base.select(3, 1).f_copy_(&ys.unsqueeze(-1))?;
    let _ = base.select(3, 2).f_fill_(1.0)?;
    let wh = Tensor::from_slice(&[0.5 * d.w as f64, 0.5 * d.h as f64])
        .to_kind(kind)
        .to_device(device);
    let rescaled = theta.transpose(1, 2).f_div(&wh)?;
    let grid = base
        .view([1, oh * ow, 3])
        .expand([m, oh * ow, 3], false)
        .f_bmm(&rescaled)?
        .view([m, oh, ow, 2]);
    let (mut x, squeeze, out_kind) = cast_squeeze_in(img, &[kind])?;
    let n = x.size()[0];
    let grid = if n > 1 && m == 1 {
        grid.expand([n, oh, ow, 2], false)
    } else {
        grid
    };
    if fill.is_some() {
        let ones = Tensor::f_ones([n, 1, d.h, d.w], (x.kind(), device))?;
        x = Tensor::f_cat(&[x, ones], 1)?;
    }
    let mut y = x.f_grid_sampler(&grid, mode, 0, false)?;
    if let Some(f) = fill {
        let c = y.size()[1] - 1;
        let mask = y.narrow(1, c, 1).expand([n, c, oh, ow], false);
        y = y.narrow(1, 0, c);
        let fill_img = Tensor::from_slice(f)
            .to_kind(y.kind())
            .to_device(device)
            .view([1, f.len() as i64, 1, 1])
            .expand_as(&y);
        y = if mode == 1 {
            fill_img.f_where_self(&mask.f_lt(0.5)?, &y)?
        } else {
            (&y * &mask) + (mask.f_neg()? + 1.0) * fill_img
        };
    }
    cast_squeeze_out(y, squeeze, out_kind)
}

/// `F.rotate(img, angle)`: counter-clockwise by `angle` degrees about the
/// centre, nearest, zeros outside.
///
/// ```
/// use cnn_lab::data::transforms::functional::rotate;
/// let x = cnn_lab::Tensor::rand([3, 8, 8], cnn_lab::FLOAT_CPU);
/// assert!(rotate(&rotate(&x, 90.0)?, -90.0)?.equal(&x));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn rotate(img: &Tensor, angle: f64) -> Result<Tensor> {
    rotate_with(img, angle, InterpolationMode::Nearest, false, None, None)
}

/// `F.rotate(img, angle, interpolation, expand, center, fill)`: `center`
/// in pixels `(x, y)` (default the image centre), `fill` one value or one
/// per channel (`None`: zeros, without torchvision's fill mask).
///
/// ```
/// use cnn_lab::data::transforms::{functional::rotate_with, InterpolationMode};
/// let x = cnn_lab::Tensor::rand([3, 10, 20], cnn_lab::FLOAT_CPU);
/// let y = rotate_with(&x, 90.0, InterpolationMode::Bilinear, true, None, Some(&[1.0]))?;
/// assert_eq!(y.size(), [3, 20, 10]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn rotate_with(
    img: &Tensor,
    angle: f64,
    interpolation: InterpolationMode,
    expand: bool,
    center: Option<(f64, f64)>,
    fill: Option<&[f64]>,
) -> Result<Tensor> {
    let d = dims("rotate", img)?;
    let m = rotate_matrix(angle, center, (d.w, d.h));
    let out = if expand {
        Some(affine_output_size(&m, d.w, d.h)?)
    } else {
        None
    };
    warp("rotate", img, &[m], interpolation, fill, out)
}

/// The inverse matrix of `F.rotate` for an image `(w, h)`.
pub(crate) fn rotate_matrix(
    angle: f64,
    center: Option<(f64, f64)>,
    (w, h): (i64, i64),
) -> [f64; 6] {
    let c = center.map_or((0.0, 0.0), |(cx, cy)| {
        (cx - w as f64 * 0.5, cy - h as f64 * 0.5)
    });
    inverse_affine_matrix(c, -angle, (0.0, 0.0), 1.0, (0.0, 0.0))
}

/// The inverse matrix of `F.affine` for an image `(w, h)`.
pub(crate) fn affine_matrix(
    angle: f64,
    translate: (f64, f64),
    scale: f64,
    shear: (f64, f64),
    center: Option<(f64, f64)>,
    (w, h): (i64, i64),
) -> [f64; 6] {
    let c = center.map_or((0.0, 0.0), |(cx, cy)| {
        (cx - w as f64 * 0.5, cy - h as f64 * 0.5)
    });
    inverse_affine_matrix(c, angle, translate, scale, shear)
}

/// `F.affine(img, angle, translate, scale, shear)`: rotation (degrees),
/// translation (pixels), scale and shear (degrees `(x, y)`) about the
/// centre; nearest, zeros outside.
///
/// ```
/// use cnn_lab::data::transforms::functional::affine;
/// let x = cnn_lab::Tensor::rand([1, 6, 6], cnn_lab::FLOAT_CPU);
/// let y = affine(&x, 0.0, (1.0, 0.0), 1.0, (0.0, 0.0))?;
/// assert_eq!(y.double_value(&[0, 0, 1]), x.double_value(&[0, 0, 0]));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn affine(
    img: &Tensor,
    angle: f64,
    translate: (f64, f64),
    scale: f64,
    shear: (f64, f64),
) -> Result<Tensor> {
    affine_with(
        img,
        angle,
        translate,
        scale,
        shear,
        InterpolationMode::Nearest,
        None,
        None,
    )
}

/// `F.affine(img, angle, translate, scale, shear, interpolation, fill,
/// center)`.
///
/// ```
/// use cnn_lab::data::transforms::{functional::affine_with, InterpolationMode};
/// let x = cnn_lab::Tensor::rand([3, 6, 6], cnn_lab::FLOAT_CPU);
/// let y = affine_with(&x, 10.0, (0.0, 0.0), 0.8, (5.0, 0.0), InterpolationMode::Bilinear,
///                     Some(&[0.5]), None)?;
/// assert_eq!(y.size(), [3, 6, 6]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn affine_with(
    img: &Tensor,
    angle: f64,
    translate: (f64, f64),
    scale: f64,
    shear: (f64, f64),
    interpolation: InterpolationMode,
    fill: Option<&[f64]>,
    center: Option<(f64, f64)>,
) -> Result<Tensor> {
    let d = dims("affine", img)?;
    if scale <= 0.0 || !scale.is_finite() {
        return Err(Error::InvalidArgument(format!(
            "affine: Argument scale should be positive, got {scale}"
        )));
    }
    let m = affine_matrix(angle, translate, scale, shear, center, (d.w, d.h));
    warp("affine", img, &[m], interpolation, fill, None)
}
