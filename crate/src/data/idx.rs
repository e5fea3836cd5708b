//! Strict reading of IDX files (the format of MNIST and Fashion-MNIST),
//! raw or gzipped.
//!
//! torchvision's reader `assert`s a few things and trusts the rest; here
//! every check (gzip stream, magic number, dimension count, sizes, file
//! length) is an [`Error::Format`] naming the file and saying what was
//! expected and what was found.

use std::io::Read;
use std::path::Path;

use tch::{Kind, Tensor};

use crate::error::{Error, Result};

/// IDX element type code for unsigned bytes, the only one MNIST uses.
const UBYTE: u8 = 0x08;

/// The contents of an IDX file of unsigned bytes: its dimensions and its
/// data, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Sizes from the header, e.g. `[60000, 28, 28]`.
    pub dims: Vec<usize>,
    /// The whole file, header included: stripping it would move 47 MB.
    bytes: Vec<u8>,
}

impl IdxArray {
    /// The `dims.iter().product()` data bytes, header stripped.
    pub fn data(&self) -> &[u8] {
        &self.bytes[4 + 4 * self.dims.len()..]
    }

    /// The data as a `uint8` tensor of shape `dims` (one copy).
    pub fn to_tensor(&self) -> Tensor {
        let dims: Vec<i64> = self.dims.iter().map(|&d| d as i64).collect();
        Tensor::from_slice(self.data()).view(dims.as_slice())
    }
}

/// Reads `path` whole, gunzipping it when its name ends in `.gz`.
///
/// ```no_run
/// let bytes = cnn_lab::data::idx::read_maybe_gz("data/MNIST/raw/t10k-labels-idx1-ubyte.gz")?;
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn read_maybe_gz(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if path.extension().is_none_or(|e| e != "gz") {
        return Ok(raw);
    }
    if raw.len() < 18 || raw[0] != 0x1f || raw[1] != 0x8b {
        let head: Vec<String> = raw.iter().take(2).map(|b| format!("{b:02x}")).collect();
        return Err(Error::format(
            path,
            format!(
                "not a gzip file: expected at least 18 bytes starting 1f 8b, found {} bytes starting [{}]",
                raw.len(),
                head.join(" ")
            ),
        ));
    }
    // The gzip trailer's ISIZE is the decompressed length mod 2^32: a good
    // capacity hint that saves the repeated doublings of a 47 MB buffer.
    let isize_hint = u32::from_le_bytes(raw[raw.len() - 4..].try_into().unwrap()) as usize;
    let mut out = Vec::with_capacity(isize_hint.min(1 << 30));
    flate2::read::GzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| Error::format(path, format!("corrupt gzip data: {e}")))?;
    Ok(out)
}

/// Parses IDX `bytes` (read from `path`, named in errors) that must hold
/// unsigned bytes in `ndim` dimensions.
pub fn parse_idx(path: &Path, bytes: Vec<u8>, ndim: usize) -> Result<IdxArray> {
    let err = |m: String| Error::format(path, m);
    if bytes.is_empty() {
        return Err(err(format!(
            "empty file (0 bytes), expected an IDX file with a {}-byte header",
            4 + 4 * ndim
        )));
    }
    if bytes.len() < 4 {
        return Err(err(format!(
            "file is {} bytes, too short for the 4-byte IDX magic number",
            bytes.len()
        )));
    }
    let magic = u32::from_be_bytes(bytes[..4].try_into().unwrap());
    let expected_magic = ((UBYTE as u32) << 8) | ndim as u32;
    if magic != expected_magic {
        return Err(err(format!(
            "wrong magic number: expected 0x{expected_magic:08x} (IDX of unsigned bytes, \
             {ndim} dimension{}), found 0x{magic:08x}",
            if ndim == 1 { "" } else { "s" }
        )));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(err(format!(
            "truncated header: expected {header} bytes for {ndim} dimension sizes, found {}",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let body = dims.iter().product::<usize>();
    let found = bytes.len() - header;
    if found != body {
        let shape: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
        return Err(err(format!(
            "{}: header says {} = {body} data bytes, found {found} \
             (file is {} bytes, expected {})",
            if found < body {
                "truncated file"
            } else {
                "trailing bytes"
            },
            shape.join("×"),
            bytes.len(),
            header + body
        )));
    }
    Ok(IdxArray { dims, bytes })
}

/// Reads an IDX image file (`idx3-ubyte`, raw or `.gz`) whose images are
/// `rows`×`cols`.
pub fn read_images(path: impl AsRef<Path>, rows: usize, cols: usize) -> Result<IdxArray> {
    let path = path.as_ref();
    let a = parse_idx(path, read_maybe_gz(path)?, 3)?;
    if a.dims[1..] != [rows, cols] {
        return Err(Error::format(
            path,
            format!(
                "wrong image size: expected {rows}×{cols}, found {}×{}",
                a.dims[1], a.dims[2]
            ),
        ));
    }
    Ok(a)
}

/// Reads an IDX label file (`idx1-ubyte`, raw or `.gz`) whose labels must
/// all be below `num_classes`.
pub fn read_labels(path: impl AsRef<Path>, num_classes: usize) -> Result<IdxArray> {
    let path = path.as_ref();
    let a = parse_idx(path, read_maybe_gz(path)?, 1)?;
    if let Some(i) = a.data().iter().position(|&l| l as usize >= num_classes) {
        return Err(Error::format(
            path,
            format!(
                "label out of range: expected labels 0..={}, found {} at index {i}",
                num_classes - 1,
                a.data()[i]
            ),
        ));
    }
    Ok(a)
}

/// `uint8` images `[N, H, W]` → `float32` `[N, 1, H, W]` in `[0, 1]`,
/// computed as torchvision's `ToTensor()` does (`x.to(float32).div(255)`),
/// so values match it bit for bit.
pub fn to_float_images(images: &Tensor) -> Result<Tensor> {
    let s = images.size();
    if s.len() != 3 {
        return Err(Error::Shape(format!(
            "to_float_images: expected uint8 images [N, H, W], found shape {s:?}"
        )));
    }
    // In place: one 4-byte-per-pixel buffer instead of two (188 MB each for
    // MNIST train), which is most of the conversion's time.
    Ok(images
        .f_to_kind(Kind::Float)?
        .f_div_scalar_(255.0)?
        .f_unsqueeze(1)?)
}
