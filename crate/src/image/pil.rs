//! A small PIL `Image`: open, `mode`, `size`, `convert`, save, show; and
//! torchvision's `pil_to_tensor` / `to_pil_image` between it and tensors.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::decode::{self, cmyk_to_rgb, pil_gray, Format};
use crate::display::{Png, Show};
use crate::error::{Error, Result};

/// The samples of an [`Image`]: 8-bit, or 16-bit for mode `I;16`.
#[derive(Clone, PartialEq)]
enum Data {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

/// A picture in memory, as PIL's `PIL.Image.Image`: a mode (`"L"`,
/// `"LA"`, `"RGB"`, `"RGBA"`, `"P"`, `"CMYK"`, `"I;16"`, `"1"`), a size and
/// the pixels.
///
/// ```no_run
/// use cnn_lab::image::{pil_to_tensor, Image};
/// let im = Image::open("photos/cat.png")?;
/// println!("{} {:?}", im.mode(), im.size()); // RGBA (640, 480)
/// let x = pil_to_tensor(&im.convert("RGB")?); // uint8 [3, 480, 640]
/// # Ok::<(), cnn_lab::Error>(())
/// ```
///
/// In a notebook, an `Image` that is a cell's last value shows as the
/// picture.
#[derive(Clone, PartialEq)]
pub struct Image {
    mode: &'static str,
    width: usize,
    height: usize,
    data: Data,
    /// RGBA of each palette entry (mode `P`); alpha from the file's
    /// transparency (PNG tRNS, GIF transparent index), else 255.
    palette: Vec<[u8; 4]>,
    /// Where it was read from, for errors.
    source: Option<PathBuf>,
}

/// The channels of each mode's pixels.
fn mode_channels(mode: &str) -> Option<usize> {
    Some(match mode {
        "1" | "L" | "P" | "I;16" => 1,
        "LA" => 2,
        "RGB" => 3,
        "RGBA" | "CMYK" => 4,
        _ => return None,
    })
}

impl Image {
    /// `PIL.Image.open(path)` (and its `load()`): reads a JPEG, PNG, GIF
    /// (the first frame), WebP or BMP file, keeping the file's own mode.
    ///
    /// Errors (naming the file) as [`super::read_image`]'s.
    ///
    /// ```no_run
    /// let im = cnn_lab::image::Image::open("photos/cat.jpg")?;
    /// assert_eq!(im.mode(), "RGB");
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Image> {
        let path = path.as_ref();
        let bytes = super::read_file(path)?;
        let mut im = Image::decode(&bytes, path)?;
        im.source = Some(path.to_path_buf());
        Ok(im)
    }

    fn decode(bytes: &[u8], name: &Path) -> Result<Image> {
        let u8s = |mode, width, height, samples| Image {
            mode,
            width,
            height,
            data: Data::U8(samples),
            palette: Vec::new(),
            source: None,
        };
        match decode::sniff(bytes) {
            Some(Format::Png) => {
                use png::ColorType as C;
                let raw = decode::png_raw(bytes, name)?;
                let (w, h) = (raw.width, raw.height);
                let top = |v: &[u16]| -> Vec<u8> {
                    if raw.is_16() {
                        v.iter().map(|&x| (x >> 8) as u8).collect()
                    } else {
                        v.iter().map(|&x| x as u8).collect()
                    }
                };
                Ok(match raw.color {
                    C::Grayscale if raw.is_16() => Image {
                        data: Data::U16(raw.samples.clone()),
                        ..u8s("I;16", w, h, Vec::new())
                    },
                    C::Grayscale if raw.bit_depth == 1 => u8s("1", w, h, top(&raw.samples)),
                    C::Grayscale => u8s("L", w, h, top(&raw.samples)),
                    C::GrayscaleAlpha => u8s("LA", w, h, top(&raw.samples)),
                    C::Rgb => u8s("RGB", w, h, top(&raw.samples)),
                    C::Rgba => u8s("RGBA", w, h, top(&raw.samples)),
                    C::Indexed => {
                        let palette = (0..raw.palette.len().max(1) as u16)
                            .map(|i| {
                                let [r, g, b, a] = raw.palette_rgba(i);
                                [r as u8, g as u8, b as u8, a as u8]
                            })
                            .collect();
                        Image {
                            palette,
                            ..u8s("P", w, h, top(&raw.samples))
                        }
                    }
                })
            }
            Some(Format::Jpeg) => {
                let raw = decode::jpeg_raw(bytes, name)?;
                let (w, h) = (raw.width, raw.height);
                Ok(match raw.channels {
                    1 => u8s("L", w, h, raw.samples),
                    // Adobe CMYK is stored inverted; PIL's CMYK is not.
                    4 => u8s("CMYK", w, h, raw.samples.iter().map(|v| 255 - v).collect()),
                    _ => u8s("RGB", w, h, raw.samples),
                })
            }
            Some(Format::Gif) => {
                let raw = decode::gif_raw(bytes, name, true)?;
                let frame = &raw.frames[0];
                let (sw, sh) = raw.screen;
                let (w, h) = (sw.max(1), sh.max(1));
                super::limits::check(name, w as u64, h as u64, 1, 1, 1)?;
                // The first frame pasted on the logical screen at its offset.
                let fill = frame.transparent.unwrap_or(0);
                let mut indices = vec![fill; w * h];
                for y in 0..frame.height {
                    for x in 0..frame.width {
                        let (cx, cy) = (frame.left + x, frame.top + y);
                        let stored = frame.indices.get(y * frame.width + x);
                        if let (true, Some(&i)) = (cx < w && cy < h, stored) {
                            indices[cy * w + cx] = i;
                        }
                    }
                }
                let palette = frame
                    .palette
                    .chunks_exact(3)
                    .enumerate()
                    .map(|(i, c)| {
                        let a = if frame.transparent == Some(i as u8) {
                            0
                        } else {
                            255
                        };
                        [c[0], c[1], c[2], a]
                    })
                    .collect();
                Ok(Image {
                    palette,
                    ..u8s("P", w, h, indices)
                })
            }
            Some(Format::WebP) => {
                let raw = decode::webp_raw(bytes, name)?;
                let mode = if raw.channels == 4 { "RGBA" } else { "RGB" };
                Ok(u8s(mode, raw.width, raw.height, raw.samples))
            }
            Some(Format::Bmp) => {
                let raw = decode::bmp_raw(bytes, name)?;
                let (w, h) = (raw.width, raw.height);
                if raw.channels == 3 && decode::bmp_gray_palette(bytes) {
                    // PIL reads an 8-bit BMP whose palette is the gray ramp as L.
                    let gray = raw.samples.chunks_exact(3).map(|p| p[0]).collect();
                    return Ok(u8s("L", w, h, gray));
                }
                let mode = if raw.channels == 4 { "RGBA" } else { "RGB" };
                Ok(u8s(mode, w, h, raw.samples))
            }
            None => Err(decode::unknown_format(name, bytes)),
        }
    }

    /// PIL's `mode`: `"1"`, `"L"`, `"LA"`, `"P"`, `"RGB"`, `"RGBA"`,
    /// `"CMYK"` or `"I;16"`.
    ///
    /// ```
    /// let im = cnn_lab::image::to_pil_image(&cnn_lab::Tensor::zeros([3, 2, 2], cnn_lab::FLOAT_CPU))?;
    /// assert_eq!(im.mode(), "RGB");
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn mode(&self) -> &str {
        self.mode
    }

    /// PIL's `size`: `(width, height)`.
    ///
    /// ```
    /// let im = cnn_lab::image::to_pil_image(&cnn_lab::Tensor::zeros([1, 2, 5], cnn_lab::FLOAT_CPU))?;
    /// assert_eq!(im.size(), (5, 2));
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// PIL's `width`.
    ///
    /// ```
    /// let im = cnn_lab::image::to_pil_image(&cnn_lab::Tensor::zeros([2, 3], cnn_lab::FLOAT_CPU))?;
    /// assert_eq!((im.width(), im.height()), (3, 2));
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn width(&self) -> usize {
        self.width
    }

    /// PIL's `height` (see [`Image::width`]).
    pub fn height(&self) -> usize {
        self.height
    }

    /// One pixel's RGBA, as PIL's `convert("RGBA")` computes it.
    fn rgba_at(&self, i: usize) -> [u8; 4] {
        match &self.data {
            Data::U16(v) => {
                let g = scale16(v[i]);
                [g, g, g, 255]
            }
            Data::U8(v) => match self.mode {
                "1" | "L" => [v[i], v[i], v[i], 255],
                "P" => self
                    .palette
                    .get(v[i] as usize)
                    .copied()
                    .unwrap_or([0, 0, 0, 255]),
                "LA" => [v[2 * i], v[2 * i], v[2 * i], v[2 * i + 1]],
                "RGB" => [v[3 * i], v[3 * i + 1], v[3 * i + 2], 255],
                "CMYK" => {
                    // PIL's CMYK is not inverted; the conversion takes the stored form.
                    let px: Vec<u8> = v[4 * i..4 * i + 4].iter().map(|x| 255 - x).collect();
                    let [r, g, b] = cmyk_to_rgb(&px);
                    [r, g, b, 255]
                }
                _ => [v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]],
            },
        }
    }

    /// PIL's `convert(mode)` to `"RGB"`, `"RGBA"`, `"L"` or `"LA"`: gray
    /// by PIL's `L = R * 299/1000 + G * 587/1000 + B * 114/1000`, a
    /// palette looked up (its transparency becomes alpha for `RGBA`),
    /// alpha dropped without compositing, CMYK by PIL's formula. A 16-bit
    /// (`I;16`) image is scaled to 8 bits (PIL clips it instead: values
    /// past 255 become white).
    ///
    /// ```
    /// let im = cnn_lab::image::to_pil_image(&cnn_lab::Tensor::ones([3, 2, 2], cnn_lab::FLOAT_CPU))?;
    /// assert_eq!(im.convert("L")?.mode(), "L");
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn convert(&self, mode: &str) -> Result<Image> {
        let target: &'static str = match mode {
            "RGB" => "RGB",
            "RGBA" => "RGBA",
            "L" => "L",
            "LA" => "LA",
            other => {
                return Err(Error::InvalidArgument(format!(
                    "Image::convert: mode {other:?} is not supported (\"RGB\", \"RGBA\", \"L\" \
                     or \"LA\")"
                )))
            }
        };
        if target == self.mode {
            return Ok(self.clone());
        }
        let n = self.width * self.height;
        let channels = mode_channels(target).unwrap_or(1);
        let mut out = Vec::with_capacity(n * channels);
        // L from RGB by PIL's formula; a gray source keeps its value.
        let gray_source = matches!(self.mode, "1" | "L" | "LA" | "I;16");
        for i in 0..n {
            let [r, g, b, a] = self.rgba_at(i);
            let l = if gray_source { r } else { pil_gray(r, g, b) };
            match target {
                "RGB" => out.extend([r, g, b]),
                "RGBA" => out.extend([r, g, b, a]),
                "L" => out.push(l),
                _ => out.extend([l, a]),
            }
        }
        Ok(Image {
            mode: target,
            width: self.width,
            height: self.height,
            data: Data::U8(out),
            palette: Vec::new(),
            source: self.source.clone(),
        })
    }

    /// `Image.save(path)`: PNG or JPEG (quality 75, PIL's default), by the
    /// extension. A palette image is saved as RGB(A), CMYK as RGB; JPEG
    /// refuses alpha as PIL does (`cannot write mode RGBA as JPEG`).
    ///
    /// ```no_run
    /// let im = cnn_lab::image::Image::open("photos/cat.png")?;
    /// im.convert("L")?.save("cat_gray.jpg")?;
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        use image::ExtendedColorType as E;
        use image::ImageEncoder;
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .unwrap_or_default();
        let (w, h) = (self.width as u32, self.height as u32);
        let fail = |e: image::ImageError| Error::format(path, format!("cannot save: {e}"));
        let mut bytes = Vec::new();
        match ext.as_str() {
            "png" => {
                let encoder = image::codecs::png::PngEncoder::new(Cursor::new(&mut bytes));
                match (&self.data, self.mode) {
                    (Data::U16(v), _) => {
                        let raw: Vec<u8> = v.iter().flat_map(|x| x.to_ne_bytes()).collect();
                        encoder.write_image(&raw, w, h, E::L16)
                    }
                    (Data::U8(v), "1" | "L") => encoder.write_image(v, w, h, E::L8),
                    (Data::U8(v), "LA") => encoder.write_image(v, w, h, E::La8),
                    (Data::U8(v), "RGB") => encoder.write_image(v, w, h, E::Rgb8),
                    (Data::U8(v), "RGBA") => encoder.write_image(v, w, h, E::Rgba8),
                    _ => {
                        let keep_alpha = self.palette.iter().any(|p| p[3] != 255);
                        let im = self.convert(if keep_alpha { "RGBA" } else { "RGB" })?;
                        let color = if keep_alpha { E::Rgba8 } else { E::Rgb8 };
                        encoder.write_image(im.bytes_u8(), w, h, color)
                    }
                }
                .map_err(fail)?;
            }
            "jpg" | "jpeg" => {
                let encoder =
                    image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut bytes), 75);
                match self.mode {
                    "LA" | "RGBA" => {
                        return Err(Error::format(
                            path,
                            format!("cannot write mode {} as JPEG", self.mode),
                        ))
                    }
                    "1" | "L" if matches!(self.data, Data::U8(_)) => {
                        encoder.write_image(self.bytes_u8(), w, h, E::L8)
                    }
                    "RGB" => encoder.write_image(self.bytes_u8(), w, h, E::Rgb8),
                    _ => {
                        let im = self.convert("RGB")?;
                        encoder.write_image(im.bytes_u8(), w, h, E::Rgb8)
                    }
                }
                .map_err(fail)?;
            }
            _ => {
                return Err(Error::format(
                    path,
                    "cannot save: unknown extension (Image::save writes .png, .jpg and .jpeg)",
                ))
            }
        }
        std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
    }

    fn bytes_u8(&self) -> &[u8] {
        match &self.data {
            Data::U8(v) => v,
            Data::U16(_) => &[],
        }
    }

    /// The picture as an RGB PNG (what a notebook shows).
    ///
    /// ```
    /// let im = cnn_lab::image::to_pil_image(&cnn_lab::Tensor::zeros([4, 6], cnn_lab::FLOAT_CPU))?;
    /// assert_eq!(im.to_png()?.width(), 6);
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn to_png(&self) -> Result<Png> {
        let rgb = self.convert("RGB")?;
        Png::from_rgb(self.width as u32, self.height as u32, rgb.bytes_u8())
    }

    /// Called by evcxr for the last expression of a cell: shows the picture
    /// (an `image/png` block, as [`Png::evcxr_display`]).
    pub fn evcxr_display(&self) {
        self.show();
    }
}

impl Show for Image {
    fn show(&self) {
        match self.to_png() {
            Ok(png) => png.show(),
            Err(e) => crate::display::emit("text/plain", &format!("{self:?}: {e}")),
        }
    }
}

impl std::fmt::Debug for Image {
    /// PIL's repr: `<PIL.Image.Image image mode=RGB size=640x480>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<PIL.Image.Image image mode={} size={}x{}>",
            self.mode, self.width, self.height
        )
    }
}

/// A 16-bit sample scaled to 8 bits (rounded).
fn scale16(v: u16) -> u8 {
    ((v as u32 * 255 + 32767) / 65535) as u8
}

/// torchvision's `F.pil_to_tensor(pic)`: the image's own channels as a
/// `[C, H, W]` tensor, `uint8` (palette indices for `P`), `bool` for
/// mode `1` (as torchvision), `int32` holding 0–65535 for `I;16` (where
/// torchvision gives `uint16`, which tch has no kind for).
///
/// ```
/// use cnn_lab::image::{pil_to_tensor, to_pil_image};
/// let im = to_pil_image(&cnn_lab::Tensor::zeros([3, 4, 5], cnn_lab::FLOAT_CPU))?;
/// assert_eq!(pil_to_tensor(&im).size(), [3, 4, 5]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn pil_to_tensor(pic: &Image) -> Tensor {
    let c = mode_channels(pic.mode).unwrap_or(1) as i64;
    let shape = [pic.height as i64, pic.width as i64, c];
    let hwc = match (&pic.data, pic.mode) {
        (Data::U16(v), _) => {
            let wide: Vec<i32> = v.iter().map(|&x| x as i32).collect();
            Tensor::from_slice(&wide)
        }
        (Data::U8(v), "1") => {
            let bits: Vec<bool> = v.iter().map(|&x| x != 0).collect();
            Tensor::from_slice(&bits)
        }
        (Data::U8(v), _) => Tensor::from_slice(v),
    };
    hwc.view(shape).permute([2, 0, 1]).contiguous()
}

/// torchvision's `F.to_pil_image(pic)` for a `[C, H, W]` or `[H, W]`
/// tensor: `uint8` as it is, a float tensor (values in `[0, 1]`) as
/// `pic.mul(255).byte()` (truncated, as torchvision); 1 channel gives
/// `L`, 2 `LA`, 3 `RGB`, 4 `RGBA`.
///
/// ```
/// let t = cnn_lab::Tensor::rand([3, 8, 8], cnn_lab::FLOAT_CPU);
/// let im = cnn_lab::image::to_pil_image(&t)?;
/// assert_eq!((im.mode(), im.size()), ("RGB", (8, 8)));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn to_pil_image(pic: &Tensor) -> Result<Image> {
    let chw = match pic.dim() {
        2 => pic.unsqueeze(0),
        3 => pic.shallow_clone(),
        d => {
            return Err(Error::Shape(format!(
                "to_pil_image: pic should be 2 or 3 dimensional, got a {d}-dimensional tensor \
                 of shape {:?}",
                pic.size()
            )))
        }
    };
    let size = chw.size();
    let (c, h, w) = (size[0], size[1], size[2]);
    let mode = match c {
        1 => "L",
        2 => "LA",
        3 => "RGB",
        4 => "RGBA",
        _ => {
            return Err(Error::Shape(format!(
                "to_pil_image: pic should not have > 4 channels, got {c} channels (shape {:?})",
                pic.size()
            )))
        }
    };
    let bytes = match chw.kind() {
        Kind::Uint8 => chw.to_device(tch::Device::Cpu),
        Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16 => chw
            .to_device(tch::Device::Cpu)
            .f_mul_scalar(255.0)?
            .f_to_kind(Kind::Uint8)?,
        k => {
            return Err(Error::Shape(format!(
                "to_pil_image: expected a uint8 or floating-point tensor, got {k:?}"
            )))
        }
    };
    let hwc = bytes.f_permute([1, 2, 0])?.f_contiguous()?;
    let n = (c * h * w) as usize;
    let mut samples = vec![0u8; n];
    hwc.f_copy_data(&mut samples, n)?;
    Ok(Image {
        mode,
        width: w as usize,
        height: h as usize,
        data: Data::U8(samples),
        palette: Vec::new(),
        source: None,
    })
}
