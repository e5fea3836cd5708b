//! Colour, blur, erasing and the dtype steps.

use tch::{Kind, Tensor};

use super::{cast_squeeze_in, cast_squeeze_out, max_value, work_kind};
use crate::data::loader::Normalize;
use crate::data::transforms::dims;
use crate::error::{Error, Result};

fn check_channels(name: &str, img: &Tensor) -> Result<i64> {
    let d = dims(name, img)?;
    if d.c != 1 && d.c != 3 {
        return Err(Error::Shape(format!(
            "{name}: Input image tensor permitted channel values are [1, 3], but found {} \
             (image {:?})",
            d.c,
            img.size()
        )));
    }
    Ok(d.c)
}

fn check_factor(name: &str, what: &str, factor: f64) -> Result<()> {
    if factor < 0.0 || !factor.is_finite() {
        return Err(Error::InvalidArgument(format!(
            "{name}: {what} ({factor}) is not non-negative."
        )));
    }
    Ok(())
}

/// torchvision's `_blend`: `ratio * img1 + (1 - ratio) * img2`, clamped to
/// the kind's range, back in `img1`'s kind (truncating for uint8).
fn blend(img1: &Tensor, img2: &Tensor, ratio: f64) -> Result<Tensor> {
    let bound = max_value(img1.kind());
    let a = img1.f_to_kind(work_kind(img1))?.f_mul_scalar(ratio)?;
    let b = img2.f_to_kind(work_kind(img1))?.f_mul_scalar(1.0 - ratio)?;
    Ok(a.f_add(&b)?.f_clamp(0.0, bound)?.f_to_kind(img1.kind())?)
}

/// `F.to_tensor` on a uint8 tensor (torchvision's PIL/ndarray → tensor
/// step): float32 in 0..1 (`img.to(float) / 255`); float images pass as
/// they are.
///
/// ```
/// use cnn_lab::data::transforms::functional::to_tensor;
/// let x = cnn_lab::Tensor::from_slice(&[0u8, 255]).view([1, 1, 2]);
/// assert_eq!(to_tensor(&x)?.double_value(&[0, 0, 1]), 1.0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn to_tensor(img: &Tensor) -> Result<Tensor> {
    dims("to_tensor", img)?;
    if img.is_floating_point() {
        return Ok(img.shallow_clone());
    }
    Ok(img.f_to_kind(Kind::Float)?.f_div_scalar(255.0)?)
}

/// `F.convert_image_dtype(image, dtype)`: the values rescaled to the new
/// kind's range (uint8 0..255 ↔ float 0..1).
///
/// ```
/// use cnn_lab::{data::transforms::functional::convert_image_dtype, Kind, Tensor};
/// let x = Tensor::from_slice(&[0.0f32, 1.0]).view([1, 1, 2]);
/// let y = convert_image_dtype(&x, Kind::Uint8)?;
/// assert_eq!(y.int64_value(&[0, 0, 1]), 255);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn convert_image_dtype(image: &Tensor, dtype: Kind) -> Result<Tensor> {
    let from = image.kind();
    if from == dtype {
        return Ok(image.shallow_clone());
    }
    let float_to = matches!(
        dtype,
        Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16
    );
    if image.is_floating_point() {
        if float_to {
            return Ok(image.f_to_kind(dtype)?);
        }
        if (from == Kind::Float && matches!(dtype, Kind::Int | Kind::Int64))
            || (from == Kind::Double && dtype == Kind::Int64)
        {
            return Err(Error::InvalidArgument(format!(
                "convert_image_dtype: The cast from {from:?} to {dtype:?} cannot be performed safely."
            )));
        }
        let eps = 1e-3;
        let max = max_value(dtype);
        return Ok(image.f_mul_scalar(max + 1.0 - eps)?.f_to_kind(dtype)?);
    }
    let input_max = max_value(from);
    if float_to {
        return Ok(image.f_to_kind(dtype)?.f_div_scalar(input_max)?);
    }
    let output_max = max_value(dtype);
    if input_max > output_max {
        let factor = ((input_max + 1.0) / (output_max + 1.0)).floor() as i64;
        Ok(image.f_div_scalar_mode(factor, "floor")?.f_to_kind(dtype)?)
    } else {
        let factor = ((output_max + 1.0) / (input_max + 1.0)).floor() as i64;
        Ok(image.f_to_kind(dtype)?.f_mul_scalar(factor)?)
    }
}

/// `F.rgb_to_grayscale(img, num_output_channels)`: luma
/// `0.2989 R + 0.587 G + 0.114 B` (1 or 3 equal channels; a one-channel
/// image stays one channel, as in torchvision).
///
/// ```
/// use cnn_lab::data::transforms::functional::rgb_to_grayscale;
/// let x = cnn_lab::Tensor::rand([3, 4, 4], cnn_lab::FLOAT_CPU);
/// assert_eq!(rgb_to_grayscale(&x, 1)?.size(), [1, 4, 4]);
/// assert_eq!(rgb_to_grayscale(&x, 3)?.size(), [3, 4, 4]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn rgb_to_grayscale(img: &Tensor, num_output_channels: i64) -> Result<Tensor> {
    let c = check_channels("rgb_to_grayscale", img)?;
    if num_output_channels != 1 && num_output_channels != 3 {
        return Err(Error::InvalidArgument(format!(
            "rgb_to_grayscale: num_output_channels should be either 1 or 3, got \
             {num_output_channels}"
        )));
    }
    let l = if c == 3 {
        let x = img.f_to_kind(work_kind(img))?;
        let ch = |i: i64| x.select(-3, i);
        (ch(0) * 0.2989 + ch(1) * 0.587 + ch(2) * 0.114)
            .f_to_kind(img.kind())?
            .f_unsqueeze(-3)?
    } else {
        img.copy()
    };
    if num_output_channels == 3 {
        // torchvision expands to the input's shape: a one-channel image
        // stays one channel.
        return Ok(l.f_expand(img.size(), false)?.f_contiguous()?);
    }
    Ok(l)
}

/// `F.adjust_brightness(img, brightness_factor)`: `factor` × the image
/// (0 black, 1 the original).
///
/// ```
/// use cnn_lab::data::transforms::functional::adjust_brightness;
/// let x = cnn_lab::Tensor::full([1, 2, 2], 0.4, cnn_lab::FLOAT_CPU);
/// assert!((adjust_brightness(&x, 2.0)?.double_value(&[0, 0, 0]) - 0.8).abs() < 1e-6);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn adjust_brightness(img: &Tensor, brightness_factor: f64) -> Result<Tensor> {
    check_factor("adjust_brightness", "brightness_factor", brightness_factor)?;
    check_channels("adjust_brightness", img)?;
    blend(img, &img.f_zeros_like()?, brightness_factor)
}

/// `F.adjust_contrast(img, contrast_factor)`: blended with the mean grey
/// level (0 a grey image, 1 the original).
///
/// ```
/// use cnn_lab::data::transforms::functional::adjust_contrast;
/// let x = cnn_lab::Tensor::rand([3, 4, 4], cnn_lab::FLOAT_CPU);
/// let g = adjust_contrast(&x, 0.0)?;
/// assert!((g.max().double_value(&[]) - g.min().double_value(&[])).abs() < 1e-6);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn adjust_contrast(img: &Tensor, contrast_factor: f64) -> Result<Tensor> {
    check_factor("adjust_contrast", "contrast_factor", contrast_factor)?;
    let c = check_channels("adjust_contrast", img)?;
    let kind = work_kind(img);
    let grey = if c == 3 {
        rgb_to_grayscale(img, 1)?
    } else {
        img.shallow_clone()
    };
    let mean = grey
        .f_to_kind(kind)?
        .f_mean_dim([-3i64, -2, -1].as_slice(), true, None::<Kind>)?;
    blend(img, &mean, contrast_factor)
}

/// `F.adjust_saturation(img, saturation_factor)`: blended with its
/// greyscale (0 grey, 1 the original); a one-channel image is returned
/// as it is.
///
/// ```
/// use cnn_lab::data::transforms::functional::{adjust_saturation, rgb_to_grayscale};
/// let x = cnn_lab::Tensor::rand([3, 4, 4], cnn_lab::FLOAT_CPU);
/// let g = adjust_saturation(&x, 0.0)?;
/// assert!(g.allclose(&rgb_to_grayscale(&x, 3)?, 1e-6, 1e-6, false));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn adjust_saturation(img: &Tensor, saturation_factor: f64) -> Result<Tensor> {
    check_factor("adjust_saturation", "saturation_factor", saturation_factor)?;
    if check_channels("adjust_saturation", img)? == 1 {
        return Ok(img.shallow_clone());
    }
    blend(img, &rgb_to_grayscale(img, 1)?, saturation_factor)
}

/// torchvision's `_rgb2hsv` (float images).
fn rgb2hsv(img: &Tensor) -> Result<Tensor> {
    let (r, g, b) = (img.select(-3, 0), img.select(-3, 1), img.select(-3, 2));
    let maxc = img.f_amax([-3i64].as_slice(), false)?;
    let minc = img.f_amin([-3i64].as_slice(), false)?;
    let eqc = maxc.f_eq_tensor(&minc)?;
    let cr = &maxc - &minc;
    let ones = maxc.f_ones_like()?;
    let s = cr.f_div(&ones.f_where_self(&eqc, &maxc)?)?;
    let cr_divisor = ones.f_where_self(&eqc, &cr)?;
    let rc = (&maxc - &r).f_div(&cr_divisor)?;
    let gc = (&maxc - &g).f_div(&cr_divisor)?;
    let bc = (&maxc - &b).f_div(&cr_divisor)?;
    let kind = img.kind();
    let max_r = maxc.f_eq_tensor(&r)?;
    let max_g = maxc.f_eq_tensor(&g)?;
    let hr = max_r.f_to_kind(kind)? * (&bc - &gc);
    let hg = max_g
        .f_logical_and(&max_r.f_logical_not()?)?
        .f_to_kind(kind)?
        * ((&rc + 2.0) - &bc);
    let hb = max_g
        .f_logical_not()?
        .f_logical_and(&max_r.f_logical_not()?)?
        .f_to_kind(kind)?
        * ((&gc + 4.0) - &rc);
    let h = hr + hg + hb;
    let h = (h / 6.0 + 1.0).f_fmod(1.0)?;
    Ok(Tensor::f_stack(&[h, s, maxc], -3)?)
}

/// torchvision's `_hsv2rgb` (float images).
fn hsv2rgb(img: &Tensor) -> Result<Tensor> {
    let (h, s, v) = (img.select(-3, 0), img.select(-3, 1), img.select(-3, 2));
    let i = (&h * 6.0).f_floor()?;
    let f = (&h * 6.0) - &i;
    let i = i.f_to_kind(Kind::Int)?;
    let p = (&v * (s.f_neg()? + 1.0)).f_clamp(0.0, 1.0)?;
    let q = (&v * ((&s * &f).f_neg()? + 1.0)).f_clamp(0.0, 1.0)?;
    let t = (&v * ((&s * (f.f_neg()? + 1.0)).f_neg()? + 1.0)).f_clamp(0.0, 1.0)?;
    let i = i.f_remainder(6)?;
    let arange = Tensor::f_arange(6, (Kind::Int64, img.device()))?.view([-1, 1, 1]);
    let mask = i.f_unsqueeze(-3)?.f_eq_tensor(&arange)?;
    let a1 = Tensor::f_stack(&[&v, &q, &p, &p, &t, &v], -3)?;
    let a2 = Tensor::f_stack(&[&t, &v, &v, &q, &p, &p], -3)?;
    let a3 = Tensor::f_stack(&[&p, &p, &t, &v, &v, &q], -3)?;
    let a4 = Tensor::f_stack(&[a1, a2, a3], -4)?;
    Ok(Tensor::f_einsum(
        "...ijk, ...xijk -> ...xjk",
        &[mask.f_to_kind(img.kind())?, a4],
        None::<&[i64]>,
    )?)
}

/// `F.adjust_hue(img, hue_factor)`: the hue turned by `hue_factor` of a
/// full turn (`-0.5..=0.5`), in HSV; a one-channel image is returned as
/// it is.
///
/// ```
/// use cnn_lab::data::transforms::functional::adjust_hue;
/// let x = cnn_lab::Tensor::rand([3, 4, 4], cnn_lab::FLOAT_CPU);
/// assert!(adjust_hue(&x, 0.0)?.allclose(&x, 1e-5, 1e-5, false));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn adjust_hue(img: &Tensor, hue_factor: f64) -> Result<Tensor> {
    if !(-0.5..=0.5).contains(&hue_factor) {
        return Err(Error::InvalidArgument(format!(
            "adjust_hue: hue_factor ({hue_factor}) is not in [-0.5, 0.5]."
        )));
    }
    if check_channels("adjust_hue", img)? == 1 {
        return Ok(img.shallow_clone());
    }
    let orig = img.kind();
    let x = convert_image_dtype(img, Kind::Float)?;
    let hsv = rgb2hsv(&x)?;
    let h = (hsv.select(-3, 0) + hue_factor).f_remainder(1.0)?;
    let hsv = Tensor::f_stack(&[h, hsv.select(-3, 1), hsv.select(-3, 2)], -3)?;
    convert_image_dtype(&hsv2rgb(&hsv)?, orig)
}

/// `F.adjust_sharpness(img, sharpness_factor)`: blended with a smoothed
/// copy (0 smoothed, 1 the original, 2 twice as sharp); the border pixels
/// stay.
///
/// ```
/// use cnn_lab::data::transforms::functional::adjust_sharpness;
/// let x = cnn_lab::Tensor::rand([3, 6, 6], cnn_lab::FLOAT_CPU);
/// assert!(adjust_sharpness(&x, 1.0)?.allclose(&x, 1e-6, 1e-6, false));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn adjust_sharpness(img: &Tensor, sharpness_factor: f64) -> Result<Tensor> {
    check_factor("adjust_sharpness", "sharpness_factor", sharpness_factor)?;
    let c = check_channels("adjust_sharpness", img)?;
    let d = dims("adjust_sharpness", img)?;
    if d.w <= 2 || d.h <= 2 {
        return Ok(img.shallow_clone());
    }
    let kind = work_kind(img);
    let kernel = Tensor::f_ones([3, 3], (kind, img.device()))?;
    let _ = kernel.get(1).get(1).f_fill_(5.0)?;
    let kernel = (&kernel / kernel.sum(kind)).expand([c, 1, 3, 3], false);
    let (x, squeeze, out) = cast_squeeze_in(img, &[kind])?;
    let smooth = x.f_conv2d(&kernel, None::<Tensor>, [1, 1], [0, 0], [1, 1], c)?;
    let smooth = cast_squeeze_out(smooth, squeeze, out)?;
    let degenerate = img.copy();
    degenerate
        .f_narrow(-2, 1, d.h - 2)?
        .f_narrow(-1, 1, d.w - 2)?
        .f_copy_(&smooth)?;
    blend(img, &degenerate, sharpness_factor)
}

/// `F.invert(img)`: `255 - img` (uint8) or `1 - img` (float).
///
/// ```
/// use cnn_lab::data::transforms::functional::invert;
/// let x = cnn_lab::Tensor::from_slice(&[0u8, 200]).view([1, 1, 2]);
/// assert_eq!(invert(&x)?.int64_value(&[0, 0, 1]), 55);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn invert(img: &Tensor) -> Result<Tensor> {
    check_channels("invert", img)?;
    if img.is_floating_point() {
        return Ok(img.f_neg()?.f_add_scalar(max_value(img.kind()))?);
    }
    // In the image's own integer kind, as `255 - img`.
    Ok(img.f_neg()?.f_add_scalar(max_value(img.kind()) as i64)?)
}

/// `F.gaussian_blur(img, kernel_size, sigma)`: `kernel_size` `[kx, ky]`
/// (odd, positive), `sigma` `[sx, sy]` (default `0.3 * ((k - 1) * 0.5 -
/// 1) + 0.8`, i.e. `k * 0.15 + 0.35`); reflect padding, as torchvision.
///
/// ```
/// use cnn_lab::data::transforms::functional::gaussian_blur;
/// let x = cnn_lab::Tensor::rand([3, 9, 9], cnn_lab::FLOAT_CPU);
/// assert_eq!(gaussian_blur(&x, [5, 3], Some([1.0, 1.0]))?.size(), [3, 9, 9]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn gaussian_blur(
    img: &Tensor,
    kernel_size: [i64; 2],
    sigma: Option<[f64; 2]>,
) -> Result<Tensor> {
    let d = dims("gaussian_blur", img)?;
    if kernel_size.iter().any(|&k| k <= 0 || k % 2 == 0) {
        return Err(Error::InvalidArgument(format!(
            "gaussian_blur: kernel_size should have odd and positive integers. Got {kernel_size:?}"
        )));
    }
    let sigma = sigma.unwrap_or(kernel_size.map(|k| k as f64 * 0.15 + 0.35));
    if sigma.iter().any(|&s| s <= 0.0 || !s.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "gaussian_blur: sigma should have positive values. Got {sigma:?}"
        )));
    }
    if kernel_size[0] / 2 >= d.w || kernel_size[1] / 2 >= d.h {
        return Err(Error::InvalidArgument(format!(
            "gaussian_blur: kernel_size {kernel_size:?} needs an image wider and taller than half \
             of it (reflect padding), got {} x {}",
            d.h, d.w
        )));
    }
    let kind = work_kind(img);
    let device = img.device();
    let kernel1d = |k: i64, s: f64| -> Result<Tensor> {
        let half = (k - 1) as f64 * 0.5;
        let x = Tensor::f_linspace(-half, half, k, (kind, device))?;
        let pdf = (x / s)
            .f_pow_tensor_scalar(2)?
            .f_mul_scalar(-0.5)?
            .f_exp()?;
        Ok(&pdf / pdf.sum(kind))
    };
    let kx = kernel1d(kernel_size[0], sigma[0])?;
    let ky = kernel1d(kernel_size[1], sigma[1])?;
    let kernel = ky.unsqueeze(1).f_mm(&kx.unsqueeze(0))?;
    let kernel = kernel.expand([d.c, 1, kernel_size[1], kernel_size[0]], false);
    let (x, squeeze, out) = cast_squeeze_in(img, &[kind])?;
    let (px, py) = (kernel_size[0] / 2, kernel_size[1] / 2);
    let x = x.f_pad([px, px, py, py], "reflect", None::<f64>)?;
    let y = x.f_conv2d(&kernel, None::<Tensor>, [1, 1], [0, 0], [1, 1], d.c)?;
    cast_squeeze_out(y, squeeze, out)
}

/// `F.erase(img, i, j, h, w, v)`: the `h` × `w` box at row `i`, column
/// `j` set to `v` (broadcast: one value, one per channel `[C, 1, 1]`, or
/// `[C, h, w]`).
///
/// ```
/// use cnn_lab::{data::transforms::functional::erase, Tensor};
/// let x = Tensor::ones([3, 4, 4], cnn_lab::FLOAT_CPU);
/// let y = erase(&x, 1, 1, 2, 2, &Tensor::from(0.0f32))?;
/// assert_eq!(y.sum(cnn_lab::Kind::Float).double_value(&[]), 36.0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn erase(img: &Tensor, i: i64, j: i64, h: i64, w: i64, v: &Tensor) -> Result<Tensor> {
    let d = dims("erase", img)?;
    if i < 0 || j < 0 || h < 0 || w < 0 || i + h > d.h || j + w > d.w {
        return Err(Error::InvalidArgument(format!(
            "erase: box at ({i}, {j}) of {h} x {w} is outside the {} x {} image",
            d.h, d.w
        )));
    }
    let out = img.copy();
    out.f_narrow(-2, i, h)?
        .f_narrow(-1, j, w)?
        .f_copy_(&v.to_device(img.device()))?;
    Ok(out)
}

/// `F.normalize(tensor, mean, std)`: `(x - mean) / std` per channel, on a
/// float image or batch (see [`Normalize`](crate::Normalize)).
///
/// ```
/// use cnn_lab::data::transforms::functional::normalize;
/// let x = cnn_lab::Tensor::full([3, 2, 2], 0.5, cnn_lab::FLOAT_CPU);
/// let y = normalize(&x, &[0.5, 0.5, 0.5], &[0.25, 0.25, 0.25])?;
/// assert_eq!(y.double_value(&[0, 0, 0]), 0.0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn normalize(tensor: &Tensor, mean: &[f64], std: &[f64]) -> Result<Tensor> {
    normalize_by(&Normalize::new(mean, std), tensor)
}

/// [`Normalize::apply`] on one image `[C, H, W]` or a batch.
pub(crate) fn normalize_by(n: &Normalize, x: &Tensor) -> Result<Tensor> {
    let d = dims("Normalize", x)?;
    if d.batch.is_some() {
        n.apply(x)
    } else {
        Ok(n.apply(&x.f_unsqueeze(0)?)?.f_squeeze_dim(0)?)
    }
}
