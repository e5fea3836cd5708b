//! How large a picture a file may make: checked from the header, before the
//! pixels are allocated, so a hostile header costs no memory.
//!
//! ```
//! use cnn_lab::image::limits::{MAX_IMAGE_DIMENSION, MAX_IMAGE_PIXELS};
//! assert_eq!(MAX_IMAGE_PIXELS, 178_956_970);
//! assert_eq!(MAX_IMAGE_DIMENSION, 65_535);
//! ```

use std::path::Path;

use crate::error::{Error, Result};

/// The most pixels one image (one frame) may have: PIL's
/// `Image.MAX_IMAGE_PIXELS * 2` (178,956,970), the size past which PIL
/// refuses a file as a decompression bomb.
pub const MAX_IMAGE_PIXELS: u64 = 2 * 89_478_485;

/// The largest width or height: 65,535, the most a JPEG or GIF header can
/// hold (PNG, BMP and WebP headers could claim more).
pub const MAX_IMAGE_DIMENSION: u32 = 65_535;

/// The most bytes the decoded pixels of one file may take (all frames of a
/// GIF together): 1 GiB.
pub const MAX_ALLOC_BYTES: u64 = 1 << 30;

/// Refuses a `width` × `height` image of `channels` samples of
/// `bytes_per_sample` bytes (times `frames`) that passes the limits above.
pub(crate) fn check(
    name: &Path,
    width: u64,
    height: u64,
    channels: u64,
    bytes_per_sample: u64,
    frames: u64,
) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::format(
            name,
            format!("the header claims a {width} x {height} image (no pixels)"),
        ));
    }
    if width > MAX_IMAGE_DIMENSION as u64 || height > MAX_IMAGE_DIMENSION as u64 {
        return Err(Error::format(
            name,
            format!(
                "the header claims a {width} x {height} image; the largest side read is \
                 {MAX_IMAGE_DIMENSION} pixels"
            ),
        ));
    }
    let pixels = width * height;
    if pixels > MAX_IMAGE_PIXELS {
        return Err(Error::format(
            name,
            format!(
                "the header claims a {width} x {height} image ({pixels} pixels), more than \
                 the {MAX_IMAGE_PIXELS} read (a decompression bomb?)"
            ),
        ));
    }
    let bytes = pixels
        .saturating_mul(channels)
        .saturating_mul(bytes_per_sample)
        .saturating_mul(frames.max(1));
    if bytes > MAX_ALLOC_BYTES {
        return Err(Error::format(
            name,
            format!(
                "the decoded image would take {bytes} bytes ({width} x {height} x {channels} \
                 x {frames} frame(s)), more than the {MAX_ALLOC_BYTES} allowed"
            ),
        ));
    }
    Ok(())
}

/// The `image` crate's limits with the values above.
pub(crate) fn image_limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_DIMENSION);
    limits.max_image_height = Some(MAX_IMAGE_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC_BYTES);
    limits
}
