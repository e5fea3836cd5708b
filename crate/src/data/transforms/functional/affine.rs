//! Rotation and affine maps: torchvision's inverse matrix, affine grid,
//! `grid_sample` and fill mask.

use tch::{Kind, Tensor};

use super::{cast_squeeze_in, cast_squeeze_out, work_kind};
use crate::data::transforms::args::InterpolationMode;
use crate::data::transforms::dims;
use crate::error::{Error, Result};

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
