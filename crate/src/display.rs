//! evcxr's rich-display protocol, in one place.
//!
//! evcxr (the Rust Jupyter kernel) shows a cell's output as rich content when
//! the program writes a block to stdout:
//!
//! ```text
//! EVCXR_BEGIN_CONTENT image/png
//! <base64 of the PNG bytes>
//! EVCXR_END_CONTENT
//! ```
//!
//! Every displayable type in this crate (charts, image grids, the model
//! printout, the summary table) goes through [`emit`] — directly or via the
//! [`Show`] trait — so there is exactly one place that knows the format.
//! Outside Jupyter the same values can be saved with [`Png::save`].
//!
//! Pictures are drawn with plotters through [`render_png`], which registers
//! the bundled DejaVu Sans first ([`register_fonts`]) so that text renders on
//! a machine without system fonts.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;

use crate::error::{Error, Result};

/// Writes one display block for `mime` with `payload` (already encoded as
/// text: base64 for binary types, raw for `text/html` and `text/plain`).
///
/// The whole block is written under one stdout lock so that output from other
/// threads (e.g. a progress line) cannot interleave with it.
pub fn emit(mime: &str, payload: &str) {
    emit_multi(&[(mime, payload)]);
}

/// Writes several representations of one value in a single block, so that
/// Jupyter picks the richest (e.g. `text/html` with a `text/plain` fallback).
pub fn emit_multi(parts: &[(&str, &str)]) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // A closed stdout is not worth a panic in a notebook: drop the output.
    let _ = write_blocks(&mut out, parts);
}

/// The text of one display block:
/// `EVCXR_BEGIN_CONTENT <mime>\n<payload>\nEVCXR_END_CONTENT\n`.
pub fn display_block(mime: &str, payload: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT {mime}\n{payload}\nEVCXR_END_CONTENT\n")
}

/// Writes the blocks for `parts` to `out` with a single `write_all` and a
/// flush — what [`emit_multi`] does to stdout; tests pass a `Vec<u8>`.
pub fn write_blocks(out: &mut impl Write, parts: &[(&str, &str)]) -> std::io::Result<()> {
    let text: String = parts
        .iter()
        .map(|(mime, payload)| display_block(mime, payload))
        .collect();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// True when running inside an evcxr kernel (it sets `EVCXR_IS_RUNTIME`).
pub fn in_evcxr() -> bool {
    crate::env::is_set("EVCXR_IS_RUNTIME")
}

/// True when the kernel can replace an output in place: the project's
/// kernel (the patch series in scripts/kernel/patches/) sets `EVCXR_DISPLAY_UPDATES=1` and
/// understands the blocks [`DisplayHandle`] writes. A plain evcxr does not.
pub fn display_updates_supported() -> bool {
    crate::env::is("EVCXR_DISPLAY_UPDATES", "1")
}

/// An output that is shown once and then replaced in place — Jupyter's
/// `display(obj, display_id=True)` and `handle.update(obj)`, as tqdm's bar
/// and d2l's `Animator` use it.
///
/// The project's kernel turns the blocks
///
/// ```text
/// EVCXR_BEGIN_DISPLAY <id> <mime>        EVCXR_BEGIN_UPDATE <id> <mime>
/// <payload>                              <payload>
/// EVCXR_END_CONTENT                      EVCXR_END_CONTENT
/// ```
///
/// into `display_data` and `update_display_data` messages with
/// `transient.display_id = <id>`, in order with the cell's printed lines.
/// Where that is not supported ([`display_updates_supported`] is false) the
/// handle writes nothing: callers keep a plain fallback (a printed line, a
/// picture at the end).
#[derive(Debug)]
pub struct DisplayHandle {
    id: String,
    shown: bool,
}

impl DisplayHandle {
    /// A handle with a new id; nothing is shown until [`DisplayHandle::show`].
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        // Unique across cells (each cell's library has its own counter) and kernels.
        DisplayHandle {
            id: format!("cnn_lab-{}-{nanos:x}-{n}", std::process::id()),
            shown: false,
        }
    }

    /// The display id Jupyter sees.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Shows `payload` (`mime` as in [`emit`]) the first time, and replaces
    /// what this handle showed on later calls. Returns false (and writes
    /// nothing) where in-place updates are not supported.
    pub fn show(&mut self, mime: &str, payload: &str) -> bool {
        if !display_updates_supported() {
            return false;
        }
        let kind = if self.shown { "UPDATE" } else { "DISPLAY" };
        let block = format!(
            "EVCXR_BEGIN_{kind} {} {mime}\n{payload}\nEVCXR_END_CONTENT\n",
            self.id
        );
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        if out
            .write_all(block.as_bytes())
            .and_then(|_| out.flush())
            .is_ok()
        {
            self.shown = true;
        }
        true
    }

    /// Whether something has been shown through this handle.
    pub fn is_shown(&self) -> bool {
        self.shown
    }
}

impl Default for DisplayHandle {
    fn default() -> Self {
        Self::new()
    }
}

/// Something that can show itself in a notebook.
///
/// Types implement [`Show::show`]; evcxr finds the inherent
/// `evcxr_display` method that each displayable type forwards to it.
pub trait Show {
    /// Emits this value's display block(s) (see [`emit`]).
    fn show(&self);
}

/// An encoded PNG image.
#[derive(Clone, PartialEq, Eq)]
pub struct Png {
    bytes: Vec<u8>,
    width: u32,
    height: u32,
}

impl Png {
    /// Encodes an 8-bit RGB buffer (`width * height * 3` bytes, row-major).
    pub fn from_rgb(width: u32, height: u32, rgb: &[u8]) -> Result<Png> {
        let expected = width as usize * height as usize * 3;
        if rgb.len() != expected {
            return Err(Error::InvalidArgument(format!(
                "RGB buffer for a {width}x{height} PNG: expected {expected} bytes, got {}",
                rgb.len()
            )));
        }
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, width, height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder
                .write_header()
                .map_err(|e| Error::InvalidArgument(format!("PNG encoding: {e}")))?;
            writer
                .write_image_data(rgb)
                .map_err(|e| Error::InvalidArgument(format!("PNG encoding: {e}")))?;
        }
        Ok(Png {
            bytes,
            width,
            height,
        })
    }

    /// The encoded file contents.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Writes the PNG to `path` (the way to keep a picture outside Jupyter).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, &self.bytes).map_err(|e| Error::io(path, e))
    }

    /// Called by evcxr for the last expression of a cell.
    pub fn evcxr_display(&self) {
        self.show();
    }
}

impl Png {
    /// The PNG bytes in base64, as the display block carries them.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.bytes)
    }

    /// Writes this image's `image/png` display block to `out` (what
    /// [`Show::show`] writes to stdout).
    pub fn write_display(&self, out: &mut impl Write) -> std::io::Result<()> {
        write_blocks(out, &[("image/png", &self.base64())])
    }
}

impl Show for Png {
    fn show(&self) {
        emit("image/png", &self.base64());
    }
}

impl std::fmt::Debug for Png {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Png({}x{}, {} bytes)",
            self.width,
            self.height,
            self.bytes.len()
        )
    }
}

/// HTML with a plain-text fallback (tables such as `summary`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Html {
    /// The HTML fragment.
    pub html: String,
    /// What a terminal or a plain-text front end shows.
    pub text: String,
}

impl Show for Html {
    fn show(&self) {
        emit_multi(&[("text/html", &self.html), ("text/plain", &self.text)]);
    }
}

/// Escapes `&`, `<`, `>` and `"` for HTML text and attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Shows preformatted text (e.g. a model printout) in a notebook, monospaced.
pub fn show_pre(text: &str) {
    let html = format!("<pre>{}</pre>", escape_html(text));
    emit_multi(&[("text/html", &html), ("text/plain", text)]);
}

/// DejaVu Sans, bundled so that text renders on a headless machine with no
/// system fonts configured (license: `crate/assets/DejaVuSans-LICENSE.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the bundled DejaVu Sans with plotters' `ab_glyph` font table
/// (`plotters::style::register_font`) under the family names `sans-serif`,
/// `serif` and `monospace`, once per process. Every chart in this crate is
/// drawn through [`render_png`], which calls this first; call it yourself
/// only when drawing with plotters directly.
pub fn register_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for family in ["sans-serif", "serif", "monospace"] {
            // The bytes are a valid TrueType file checked by a test; a
            // failure here would only mean text is not drawn.
            let _ = plotters::style::register_font(
                family,
                plotters::style::FontStyle::Normal,
                DEJAVU_SANS,
            );
        }
    });
}

/// The drawing area [`render_png`] hands to its closure.
pub type Canvas<'a> =
    plotters::drawing::DrawingArea<plotters::backend::BitMapBackend<'a>, plotters::coord::Shift>;

/// Draws a `width`×`height` picture with plotters on a white background and
/// encodes it as a [`Png`]. `draw` receives the whole area; errors it returns
/// (see [`drawing_error`]) are passed through.
///
/// ```
/// use cnn_lab::display::{drawing_error, render_png};
/// use plotters::prelude::*;
///
/// let png = render_png(120, 40, |area| {
///     area.draw(&Text::new("hello", (10, 10), ("sans-serif", 16)))
///         .map_err(drawing_error("hello picture"))
/// })?;
/// assert_eq!((png.width(), png.height()), (120, 40));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn render_png(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Canvas<'_>) -> Result<()>,
) -> Result<Png> {
    use plotters::prelude::*;
    if width == 0 || height == 0 {
        return Err(Error::InvalidArgument(format!(
            "picture size must be positive, got {width}x{height}"
        )));
    }
    register_fonts();
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        area.fill(&WHITE).map_err(drawing_error("background"))?;
        draw(&area)?;
        area.present()
            .map_err(drawing_error("finishing the picture"))?;
    }
    Png::from_rgb(width, height, &rgb)
}

/// Turns a plotters error into an [`Error::InvalidArgument`] naming `what`
/// was being drawn, for `.map_err(drawing_error("loss chart"))`.
pub fn drawing_error<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> Error + '_ {
    move |e| Error::InvalidArgument(format!("drawing {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_from_rgb_roundtrips_through_decoder() {
        let (w, h) = (3u32, 2u32);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 10) as u8).collect();
        let png = Png::from_rgb(w, h, &rgb).unwrap();
        let decoder = png::Decoder::new(png.bytes());
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (w, h));
        assert_eq!(&buf[..info.buffer_size()], &rgb[..]);
    }

    #[test]
    fn png_from_rgb_rejects_wrong_buffer_length() {
        let err = Png::from_rgb(4, 4, &[0; 10]).unwrap_err().to_string();
        assert!(err.contains("expected 48 bytes, got 10"), "{err}");
    }

    #[test]
    fn escape_html_escapes_markup() {
        assert_eq!(escape_html("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
    }
}
