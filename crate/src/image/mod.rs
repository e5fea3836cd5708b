//! Photos from files: `torchvision.io.read_image` and a small PIL `Image`.
//!
//! [`read_image`] gives what `torchvision.io.read_image(path)` gives: a
//! `uint8` tensor `[C, H, W]` with the file's own channels (1 gray, 2 gray
//! and alpha, 3 RGB, 4 RGBA). [`read_image_mode`] takes torchvision's
//! [`ImageReadMode`]; [`decode_image`] does the same from bytes in memory.
//!
//! Formats: JPEG, PNG, GIF, WebP (what torchvision.io reads) and BMP
//! (which torchvision.io does not read; PIL does). Where the pixels come
//! from, the limits on hostile files and every known difference from
//! torchvision and PIL: `docs/images.md`.
//!
//! ```no_run
//! use cnn_lab::image::{read_image, read_image_mode, ImageReadMode};
//! let x = read_image("cat.jpg")?; // uint8 [3, H, W]
//! let g = read_image_mode("cat.jpg", ImageReadMode::GRAY)?; // uint8 [1, H, W]
//! # Ok::<(), cnn_lab::Error>(())
//! ```

mod decode;
pub mod limits;
mod pil;

pub use pil::{pil_to_tensor, to_pil_image, Image};

use std::path::Path;

use tch::Tensor;

use crate::error::{Error, Result};
use decode::{Pixels, Samples};

/// How [`read_image_mode`] maps the file's channels: torchvision's
/// `torchvision.io.ImageReadMode`, spelt as torchvision spells it.
///
/// | mode | channels | torchvision |
/// |---|---|---|
/// | `UNCHANGED` | the file's own | `ImageReadMode.UNCHANGED` |
/// | `GRAY` | 1 | `ImageReadMode.GRAY` |
/// | `GRAY_ALPHA` | 2 | `ImageReadMode.GRAY_ALPHA` |
/// | `RGB` | 3 | `ImageReadMode.RGB` |
/// | `RGB_ALPHA` | 4 | `ImageReadMode.RGB_ALPHA` |
///
/// As in torchvision, a JPEG reads only as UNCHANGED, GRAY or RGB; a GIF
/// is always RGB (the mode is ignored); a WebP ignores the gray modes.
///
/// ```
/// use cnn_lab::image::ImageReadMode;
/// assert_eq!(ImageReadMode::default(), ImageReadMode::UNCHANGED);
/// ```
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ImageReadMode {
    /// The file's own channels.
    #[default]
    UNCHANGED,
    /// One channel of luma.
    GRAY,
    /// Luma and alpha.
    GRAY_ALPHA,
    /// Red, green, blue.
    RGB,
    /// Red, green, blue, alpha.
    RGB_ALPHA,
}

/// Reads a JPEG, PNG, GIF, WebP or BMP file into a `[C, H, W]` tensor:
/// `torchvision.io.read_image(path)` (mode `UNCHANGED`).
///
/// 8-bit files give `uint8`; a 16-bit PNG keeps its 0–65535 range, as an
/// `int32` tensor (torchvision gives `uint16`, which tch has no kind for).
/// An animated GIF gives `[N, 3, H, W]`, as torchvision does.
///
/// A file that is missing, empty, truncated, corrupt, not an image, or
/// whose header claims more than [`limits::MAX_IMAGE_PIXELS`] pixels is an
/// [`Error`] naming the file.
///
/// ```no_run
/// let x = cnn_lab::image::read_image("photos/cat.png")?;
/// assert_eq!(x.kind(), cnn_lab::Kind::Uint8);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn read_image(path: impl AsRef<Path>) -> Result<Tensor> {
    read_image_mode(path, ImageReadMode::UNCHANGED)
}

/// `torchvision.io.read_image(path, mode)`: [`read_image`] with the
/// channels that `mode` asks for (see [`ImageReadMode`]).
///
/// ```no_run
/// use cnn_lab::image::{read_image_mode, ImageReadMode};
/// let x = read_image_mode("photos/cat.png", ImageReadMode::RGB)?; // [3, H, W]
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn read_image_mode(path: impl AsRef<Path>, mode: ImageReadMode) -> Result<Tensor> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    decode_image_named(&bytes, mode, path)
}

/// `torchvision.io.decode_image(data, mode)`: decodes an encoded image
/// held in memory (errors name it `<bytes>`).
///
/// ```
/// use cnn_lab::image::{decode_image, ImageReadMode};
/// assert!(decode_image(b"not an image", ImageReadMode::UNCHANGED).is_err());
/// ```
pub fn decode_image(data: &[u8], mode: ImageReadMode) -> Result<Tensor> {
    decode_image_named(data, mode, Path::new("<bytes>"))
}

fn decode_image_named(data: &[u8], mode: ImageReadMode, name: &Path) -> Result<Tensor> {
    let pixels = decode::decode(data, mode, name)?;
    to_tensor(&pixels)
}

/// A file's bytes, refusing one larger than [`limits::MAX_ALLOC_BYTES`].
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::format(path, "is a folder, not an image file"));
    }
    if meta.len() > limits::MAX_ALLOC_BYTES {
        return Err(Error::format(
            path,
            format!(
                "the file has {} bytes, more than the {} read as an image",
                meta.len(),
                limits::MAX_ALLOC_BYTES
            ),
        ));
    }
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// `[frames?, H, W, C]` samples as a `[frames?, C, H, W]` tensor.
pub(crate) fn to_tensor(p: &Pixels) -> Result<Tensor> {
    let mut shape = vec![p.height as i64, p.width as i64, p.channels as i64];
    if let Some(n) = p.frames {
        shape.insert(0, n as i64);
    }
    let hwc = match &p.samples {
        Samples::U8(v) => Tensor::f_from_slice(v)?,
        Samples::U16(v) => {
            let wide: Vec<i32> = v.iter().map(|&x| x as i32).collect();
            Tensor::f_from_slice(&wide)?
        }
    };
    let hwc = hwc.f_view(shape.as_slice())?;
    let chw = if p.frames.is_some() {
        hwc.f_permute([0, 3, 1, 2])?
    } else {
        hwc.f_permute([2, 0, 1])?
    };
    Ok(chw.f_contiguous()?)
}
