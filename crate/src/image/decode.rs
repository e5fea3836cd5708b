//! Decoding a file's bytes into interleaved samples, per format, with
//! torchvision's channel rules for each [`ImageReadMode`].
//!
//! PNG goes through the `png` crate (raw palette indices, 16-bit samples,
//! torchvision's libpng transformations redone here), JPEG through
//! `zune-jpeg` in strict mode (a truncated file is an error, as in
//! libjpeg-turbo; CMYK kept as stored), GIF through the `gif` crate (each
//! frame as stored, as torchvision's giflib loop), BMP and WebP through the
//! `image` crate's decoders. Every decoder gets the limits of
//! [`super::limits`] before it allocates the pixels.

use std::io::Cursor;
use std::path::Path;

use super::limits::{self, MAX_ALLOC_BYTES};
use super::ImageReadMode;
use crate::error::{Error, Result};

/// The formats read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Jpeg,
    Png,
    Gif,
    Bmp,
    WebP,
}

/// The format from the first bytes (torchvision's signatures, plus BMP's `BM`).
pub(crate) fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        Some(Format::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(Format::Gif)
    } else if bytes.len() >= 15 && bytes.starts_with(b"RIFF") && &bytes[8..15] == b"WEBPVP8" {
        Some(Format::WebP)
    } else if bytes.starts_with(b"BM") {
        Some(Format::Bmp)
    } else {
        None
    }
}

/// The error for bytes that are none of the formats read.
pub(crate) fn unknown_format(name: &Path, bytes: &[u8]) -> Error {
    if bytes.is_empty() {
        return Error::format(name, "the file is empty, not an image");
    }
    let head: String = bytes
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    Error::format(
        name,
        format!(
            "not a JPEG, PNG, GIF, BMP or WebP image (the file starts with bytes {head}); \
             only those formats are read"
        ),
    )
}

/// Decoded samples: 8-bit, or 16-bit for a 16-bit PNG.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

/// Interleaved pixels `[frames?][height][width][channels]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Pixels {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    /// `Some(n)` for an animated GIF (torchvision's `[N, C, H, W]`), else `None`.
    pub frames: Option<usize>,
    pub samples: Samples,
}

/// Decodes `bytes` (named `name` in errors) with torchvision's rules for `mode`.
pub(crate) fn decode(bytes: &[u8], mode: ImageReadMode, name: &Path) -> Result<Pixels> {
    match sniff(bytes) {
        Some(Format::Png) => png_torchvision(bytes, mode, name),
        Some(Format::Jpeg) => jpeg_torchvision(bytes, mode, name),
        Some(Format::Gif) => gif_torchvision(bytes, name),
        Some(Format::WebP) => webp_torchvision(bytes, mode, name),
        Some(Format::Bmp) => bmp(bytes, mode, name),
        None => Err(unknown_format(name, bytes)),
    }
}

fn corrupt(name: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::format(name, format!("cannot decode this {what} file: {e}"))
}

// ---------------------------------------------------------------- PNG ----

/// A PNG's samples as stored: palette indices unpacked to one byte each,
/// gray of 1, 2 or 4 bits scaled to 8 bits (libpng's
/// `png_set_expand_gray_1_2_4_to_8`), 16-bit samples as they are.
pub(crate) struct PngRaw {
    pub width: usize,
    pub height: usize,
    pub color: png::ColorType,
    /// 1, 2, 4, 8 or 16, as in the header.
    pub bit_depth: u8,
    /// One value per sample, `width * height * color.samples()`.
    pub samples: Vec<u16>,
    /// RGB entries (up to 256), for an indexed PNG.
    pub palette: Vec<[u8; 3]>,
    /// The tRNS chunk's bytes, if any.
    pub trns: Option<Vec<u8>>,
}

impl PngRaw {
    pub(crate) fn is_16(&self) -> bool {
        self.bit_depth == 16
    }

    /// The RGBA of palette entry `i` (libpng's expansion: black past the
    /// palette's end, opaque past the tRNS entries).
    pub(crate) fn palette_rgba(&self, i: u16) -> [u16; 4] {
        let rgb = self.palette.get(i as usize).copied().unwrap_or([0, 0, 0]);
        let a = self
            .trns
            .as_ref()
            .and_then(|t| t.get(i as usize).copied())
            .unwrap_or(255);
        [rgb[0] as u16, rgb[1] as u16, rgb[2] as u16, a as u16]
    }
}

pub(crate) fn png_raw(bytes: &[u8], name: &Path) -> Result<PngRaw> {
    let bad = |e: png::DecodingError| corrupt(name, "PNG", e);
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: MAX_ALLOC_BYTES as usize,
        },
    );
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(bad)?;
    let (width, height, color, depth) = {
        let info = reader.info();
        (info.width, info.height, info.color_type, info.bit_depth)
    };
    let bit_depth = depth as u8;
    let channels = color.samples();
    limits::check(
        name,
        width as u64,
        height as u64,
        channels as u64,
        if bit_depth == 16 { 2 } else { 1 },
        1,
    )?;
    let (palette, trns) = {
        let info = reader.info();
        let palette = info
            .palette
            .as_ref()
            .map(|p| {
                p.chunks_exact(3)
                    .map(|c| [c[0], c[1], c[2]])
                    .collect::<Vec<[u8; 3]>>()
            })
            .unwrap_or_default();
        (palette, info.trns.as_ref().map(|t| t.to_vec()))
    };
    if color == png::ColorType::Indexed && palette.is_empty() {
        return Err(Error::format(
            name,
            "cannot decode this PNG file: an indexed image without a PLTE chunk",
        ));
    }
    let mut buf = vec![0u8; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).map_err(bad)?;
    let line = frame.line_size;
    let (w, h) = (width as usize, height as usize);
    let mut samples = Vec::with_capacity(w * h * channels);
    for row in buf.chunks(line).take(h) {
        match bit_depth {
            16 => samples.extend(
                row.chunks_exact(2)
                    .take(w * channels)
                    .map(|b| u16::from_be_bytes([b[0], b[1]])),
            ),
            8 => samples.extend(row.iter().take(w * channels).map(|&b| b as u16)),
            bits => {
                // 1, 2 or 4 bits: gray or palette indices, one sample a pixel.
                let per_byte = 8 / bits as usize;
                let mask = (1u16 << bits) - 1;
                let scale = if color == png::ColorType::Indexed {
                    1
                } else {
                    255 / mask
                };
                for x in 0..w {
                    let byte = row[x / per_byte] as u16;
                    let shift = 8 - bits as usize * (x % per_byte + 1);
                    samples.push(((byte >> shift) & mask) * scale);
                }
            }
        }
    }
    if samples.len() != w * h * channels {
        return Err(Error::format(
            name,
            "cannot decode this PNG file: the image data is shorter than the header says",
        ));
    }
    Ok(PngRaw {
        width: w,
        height: h,
        color,
        bit_depth,
        samples,
        palette,
        trns,
    })
}

/// libpng's `png_set_rgb_to_gray(png_ptr, 1, 0.2989, 0.587)` as torchvision
/// calls it: coefficients 9794, 19234, 3740 (of 32768), truncated for
/// 8-bit samples, rounded for 16-bit ones.
fn png_gray(r: u16, g: u16, b: u16, sixteen: bool) -> u16 {
    if r == g && g == b {
        return r;
    }
    let sum = 9794 * r as u32 + 19234 * g as u32 + 3740 * b as u32;
    if sixteen {
        ((sum + 16384) >> 15) as u16
    } else {
        (sum >> 15) as u16
    }
}

fn png_torchvision(bytes: &[u8], mode: ImageReadMode, name: &Path) -> Result<Pixels> {
    use png::ColorType as C;
    let raw = png_raw(bytes, name)?;
    let sixteen = raw.is_16();
    let max: u16 = if sixteen { 65535 } else { 255 };
    let n_in = raw.color.samples();
    // Each pixel as RGBA (palette looked up), for the conversions.
    let rgba = |px: &[u16]| -> [u16; 4] {
        match raw.color {
            C::Grayscale => [px[0], px[0], px[0], max],
            C::GrayscaleAlpha => [px[0], px[0], px[0], px[1]],
            C::Rgb => [px[0], px[1], px[2], max],
            C::Rgba => [px[0], px[1], px[2], px[3]],
            C::Indexed => raw.palette_rgba(px[0]),
        }
    };
    let out_channels = match mode {
        ImageReadMode::UNCHANGED => n_in,
        ImageReadMode::GRAY => 1,
        ImageReadMode::GRAY_ALPHA => 2,
        ImageReadMode::RGB => 3,
        ImageReadMode::RGB_ALPHA => 4,
    };
    let samples: Vec<u16> = if mode == ImageReadMode::UNCHANGED {
        raw.samples
    } else {
        let mut out = Vec::with_capacity(raw.width * raw.height * out_channels);
        for px in raw.samples.chunks_exact(n_in) {
            let [r, g, b, a] = rgba(px);
            match mode {
                ImageReadMode::GRAY => out.push(png_gray(r, g, b, sixteen)),
                ImageReadMode::GRAY_ALPHA => {
                    out.extend([png_gray(r, g, b, sixteen), a]);
                }
                ImageReadMode::RGB => out.extend([r, g, b]),
                _ => out.extend([r, g, b, a]),
            }
        }
        out
    };
    Ok(Pixels {
        width: raw.width,
        height: raw.height,
        channels: out_channels,
        frames: None,
        samples: if sixteen {
            Samples::U16(samples)
        } else {
            Samples::U8(samples.into_iter().map(|v| v as u8).collect())
        },
    })
}

// --------------------------------------------------------------- JPEG ----

/// A JPEG's pixels: RGB (from YCbCr), gray, or CMYK as stored.
pub(crate) struct JpegRaw {
    pub width: usize,
    pub height: usize,
    /// 1 (gray), 3 (RGB) or 4 (CMYK as stored: Adobe files inverted).
    pub channels: usize,
    pub samples: Vec<u8>,
}

/// Decodes a JPEG with `zune-jpeg` to `out` colours, refusing truncated
/// or corrupt files (strict mode) as libjpeg-turbo does.
fn jpeg_decode(bytes: &[u8], name: &Path, gray: bool) -> Result<JpegRaw> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let bad = |e: zune_jpeg::errors::DecodeErrors| corrupt(name, "JPEG", e);
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(limits::MAX_IMAGE_DIMENSION as usize)
        .set_max_height(limits::MAX_IMAGE_DIMENSION as usize);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(bad)?;
    let input = decoder.input_colorspace().unwrap_or(ColorSpace::Unknown);
    let out = match input {
        ColorSpace::CMYK | ColorSpace::YCCK => ColorSpace::CMYK,
        ColorSpace::Luma => ColorSpace::Luma,
        _ if gray => ColorSpace::Luma,
        _ => ColorSpace::RGB,
    };
    decoder.set_options(options.jpeg_set_out_colorspace(out));
    let info = decoder
        .info()
        .ok_or_else(|| Error::format(name, "cannot decode this JPEG file: no frame header"))?;
    let channels = out.num_components();
    limits::check(
        name,
        info.width as u64,
        info.height as u64,
        channels as u64,
        1,
        1,
    )?;
    let samples = decoder.decode().map_err(bad)?;
    let (width, height) = (info.width as usize, info.height as usize);
    if samples.len() != width * height * channels {
        return Err(Error::format(
            name,
            format!(
                "cannot decode this JPEG file: {} samples for a {width} x {height} x {channels} \
                 image",
                samples.len()
            ),
        ));
    }
    Ok(JpegRaw {
        width,
        height,
        channels,
        samples,
    })
}

pub(crate) fn jpeg_raw(bytes: &[u8], name: &Path) -> Result<JpegRaw> {
    jpeg_decode(bytes, name, false)
}

/// Pillow's CMYK to RGB step, as torchvision copies it:
/// `k - k * cmy / 255` rounded, with `cmy = 255 - c`.
fn cmyk_channel(k: u8, cmy: u8) -> u8 {
    let v = k as i32 * cmy as i32 + 128;
    let v = ((v >> 8) + v) >> 8;
    (k as i32 - v).clamp(0, 255) as u8
}

pub(crate) fn cmyk_to_rgb(px: &[u8]) -> [u8; 3] {
    let (c, m, y, k) = (px[0], px[1], px[2], px[3]);
    [
        cmyk_channel(k, 255 - c),
        cmyk_channel(k, 255 - m),
        cmyk_channel(k, 255 - y),
    ]
}

/// Pillow's `L` formula (ITU-R 601-2 luma, rounded), as torchvision's CMYK
/// path and PIL's `convert("L")` use it.
pub(crate) fn pil_gray(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 19595 + g as u32 * 38470 + b as u32 * 7471 + 0x8000) >> 16) as u8
}

fn jpeg_torchvision(bytes: &[u8], mode: ImageReadMode, name: &Path) -> Result<Pixels> {
    match mode {
        ImageReadMode::GRAY_ALPHA | ImageReadMode::RGB_ALPHA => {
            return Err(Error::format(
                name,
                format!(
                    "ImageReadMode::{mode:?} is not supported for JPEG files (torchvision's \
                     decode_jpeg reads UNCHANGED, GRAY and RGB)"
                ),
            ))
        }
        _ => {}
    }
    let raw = jpeg_decode(bytes, name, mode == ImageReadMode::GRAY)?;
    let (channels, samples) = match (mode, raw.channels) {
        (ImageReadMode::UNCHANGED, c) => (c, raw.samples),
        (ImageReadMode::GRAY, 1) => (1, raw.samples),
        (ImageReadMode::GRAY, 4) => (
            1,
            raw.samples
                .chunks_exact(4)
                .map(|px| {
                    let [r, g, b] = cmyk_to_rgb(px);
                    pil_gray(r, g, b)
                })
                .collect(),
        ),
        (_, 1) => (3, raw.samples.iter().flat_map(|&v| [v, v, v]).collect()),
        (_, 4) => (
            3,
            raw.samples.chunks_exact(4).flat_map(cmyk_to_rgb).collect(),
        ),
        (_, c) => (c, raw.samples),
    };
    Ok(Pixels {
        width: raw.width,
        height: raw.height,
        channels,
        frames: None,
        samples: Samples::U8(samples),
    })
}

// ---------------------------------------------------------------- GIF ----

/// A GIF's frames as stored: palette indices and each frame's palette.
pub(crate) struct GifRaw {
    /// The logical screen's size.
    pub screen: (usize, usize),
    pub frames: Vec<GifFrame>,
}

pub(crate) struct GifFrame {
    pub width: usize,
    pub height: usize,
    pub left: usize,
    pub top: usize,
    pub indices: Vec<u8>,
    /// The frame's local palette, else the global one (RGB triplets).
    pub palette: Vec<u8>,
    pub transparent: Option<u8>,
}

pub(crate) fn gif_raw(bytes: &[u8], name: &Path, first_only: bool) -> Result<GifRaw> {
    let bad = |e: gif::DecodingError| corrupt(name, "GIF", e);
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    if let Some(limit) = std::num::NonZeroU64::new(MAX_ALLOC_BYTES) {
        options.set_memory_limit(gif::MemoryLimit::Bytes(limit));
    }
    let mut decoder = options.read_info(Cursor::new(bytes)).map_err(bad)?;
    let screen = (decoder.width() as usize, decoder.height() as usize);
    let global = decoder.global_palette().map(|p| p.to_vec());
    let mut frames = Vec::new();
    let mut total: u64 = 0;
    while let Some(frame) = decoder.read_next_frame().map_err(bad)? {
        let (w, h) = (frame.width as u64, frame.height as u64);
        limits::check(name, w, h, 3, 1, 1)?;
        total += w * h * 3;
        if total > MAX_ALLOC_BYTES {
            return Err(Error::format(
                name,
                format!(
                    "the GIF's frames would take more than the {MAX_ALLOC_BYTES} bytes allowed"
                ),
            ));
        }
        let palette = frame
            .palette
            .clone()
            .or_else(|| global.clone())
            .ok_or_else(|| {
                Error::format(
                    name,
                    "cannot decode this GIF file: a frame has neither a local nor a global \
                     color table",
                )
            })?;
        frames.push(GifFrame {
            width: w as usize,
            height: h as usize,
            left: frame.left as usize,
            top: frame.top as usize,
            indices: frame.buffer.to_vec(),
            palette,
            transparent: frame.transparent,
        });
        if first_only {
            break;
        }
    }
    if frames.is_empty() {
        return Err(Error::format(
            name,
            "cannot decode this GIF file: it holds no image",
        ));
    }
    Ok(GifRaw { screen, frames })
}

/// torchvision's `decode_gif`: every frame as stored (offsets and canvas
/// ignored, no transparency, no disposal), RGB through its colour table;
/// `[3, H, W]` for one frame, `[N, 3, H, W]` for several. The read mode
/// is ignored, as torchvision ignores it for GIFs.
fn gif_torchvision(bytes: &[u8], name: &Path) -> Result<Pixels> {
    let raw = gif_raw(bytes, name, false)?;
    let (w, h) = (raw.frames[0].width, raw.frames[0].height);
    let mut samples = Vec::with_capacity(raw.frames.len() * w * h * 3);
    for frame in &raw.frames {
        if frame.width != w || frame.height != h {
            return Err(Error::format(
                name,
                format!(
                    "All images in the gif should have the same dimensions (torchvision's \
                     rule): the first frame is {w} x {h}, another {} x {}",
                    frame.width, frame.height
                ),
            ));
        }
        for &i in &frame.indices {
            let at = i as usize * 3;
            let rgb = frame.palette.get(at..at + 3).unwrap_or(&[0, 0, 0]);
            samples.extend_from_slice(rgb);
        }
    }
    let n = raw.frames.len();
    Ok(Pixels {
        width: w,
        height: h,
        channels: 3,
        frames: (n > 1).then_some(n),
        samples: Samples::U8(samples),
    })
}

// ----------------------------------------------------- WebP and BMP ----

/// An 8-bit RGB or RGBA image from one of the `image` crate's decoders.
pub(crate) struct Rgbx {
    pub width: usize,
    pub height: usize,
    /// 3 or 4.
    pub channels: usize,
    pub samples: Vec<u8>,
}

fn image_decode(mut decoder: impl image::ImageDecoder, name: &Path, what: &str) -> Result<Rgbx> {
    use image::ColorType;
    decoder
        .set_limits(limits::image_limits())
        .map_err(|e| corrupt(name, what, e))?;
    let (w, h) = decoder.dimensions();
    let color = decoder.color_type();
    let channels = match color {
        ColorType::Rgb8 => 3,
        ColorType::Rgba8 => 4,
        ColorType::L8 => 1,
        ColorType::La8 => 2,
        other => {
            return Err(Error::format(
                name,
                format!("cannot decode this {what} file: unexpected pixel type {other:?}"),
            ))
        }
    };
    limits::check(name, w as u64, h as u64, channels as u64, 1, 1)?;
    let mut samples = vec![0u8; decoder.total_bytes() as usize];
    decoder
        .read_image(&mut samples)
        .map_err(|e| corrupt(name, what, e))?;
    // Gray from a decoder (not from WebP or BMP in practice) becomes RGB(A).
    let (channels, samples) = match channels {
        1 => (3, samples.iter().flat_map(|&v| [v, v, v]).collect()),
        2 => (
            4,
            samples
                .chunks_exact(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
        ),
        c => (c, samples),
    };
    Ok(Rgbx {
        width: w as usize,
        height: h as usize,
        channels,
        samples,
    })
}

pub(crate) fn webp_raw(bytes: &[u8], name: &Path) -> Result<Rgbx> {
    let decoder = image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
        .map_err(|e| corrupt(name, "WebP", e))?;
    if decoder.has_animation() {
        return Err(Error::format(
            name,
            "Animated webp files are not supported (as in torchvision)",
        ));
    }
    image_decode(decoder, name, "WebP")
}

pub(crate) fn bmp_raw(bytes: &[u8], name: &Path) -> Result<Rgbx> {
    let decoder = image::codecs::bmp::BmpDecoder::new(Cursor::new(bytes))
        .map_err(|e| corrupt(name, "BMP", e))?;
    image_decode(decoder, name, "BMP")
}

/// Whether a BMP of 8 bits or fewer has the gray ramp as its palette
/// (entry i = (i, i, i)), which PIL reads as mode `L`.
pub(crate) fn bmp_gray_palette(bytes: &[u8]) -> bool {
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(dib), Some(bpp)) = (u32_at(14), u16_at(28)) else {
        return false;
    };
    if bpp > 8 || dib < 40 {
        return false;
    }
    let used = u32_at(46).unwrap_or(0) as usize;
    let colors = if used == 0 {
        1usize << bpp
    } else {
        used.min(256)
    };
    let start = 14 + dib as usize;
    (0..colors).all(|i| {
        let want = if colors == 2 {
            (i * 255) as u8
        } else {
            i as u8
        };
        bytes
            .get(start + 4 * i..start + 4 * i + 3)
            .is_some_and(|bgr| bgr.iter().all(|&v| v == want))
    })
}

/// torchvision's `decode_webp`: RGB, or RGBA when the file has alpha;
/// RGB and RGB_ALPHA force 3 and 4 channels; the gray modes are ignored.
fn webp_torchvision(bytes: &[u8], mode: ImageReadMode, name: &Path) -> Result<Pixels> {
    let raw = webp_raw(bytes, name)?;
    let channels = match mode {
        ImageReadMode::RGB => 3,
        ImageReadMode::RGB_ALPHA => 4,
        _ => raw.channels,
    };
    Ok(rgbx_to(raw, channels))
}

/// BMP, which torchvision does not read: the decoder's RGB or RGBA for
/// UNCHANGED, PIL's conversions for the other modes.
fn bmp(bytes: &[u8], mode: ImageReadMode, name: &Path) -> Result<Pixels> {
    let raw = bmp_raw(bytes, name)?;
    let channels = match mode {
        ImageReadMode::UNCHANGED => raw.channels,
        ImageReadMode::GRAY => 1,
        ImageReadMode::GRAY_ALPHA => 2,
        ImageReadMode::RGB => 3,
        ImageReadMode::RGB_ALPHA => 4,
    };
    Ok(rgbx_to(raw, channels))
}

/// RGB(A) to 1–4 channels: gray by PIL's formula, alpha added as 255 or
/// dropped.
fn rgbx_to(raw: Rgbx, channels: usize) -> Pixels {
    let n = raw.channels;
    let samples = if channels == n {
        raw.samples
    } else {
        let mut out = Vec::with_capacity(raw.width * raw.height * channels);
        for px in raw.samples.chunks_exact(n) {
            let a = if n == 4 { px[3] } else { 255 };
            match channels {
                1 => out.push(pil_gray(px[0], px[1], px[2])),
                2 => out.extend([pil_gray(px[0], px[1], px[2]), a]),
                3 => out.extend_from_slice(&px[..3]),
                _ => out.extend([px[0], px[1], px[2], a]),
            }
        }
        out
    };
    Pixels {
        width: raw.width,
        height: raw.height,
        channels,
        frames: None,
        samples: Samples::U8(samples),
    }
}
