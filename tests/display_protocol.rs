//! evcxr's display protocol as `crate::display` writes it.

use base64::Engine as _;
use cnn_lab::display::{display_block, render_png, write_blocks, Png};

fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(bytes).read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn png_display_block_is_evcxr_format_and_base64_decodes_to_the_png() {
    let rgb: Vec<u8> = (0..4 * 3 * 3).map(|i| (i * 7) as u8).collect();
    let png = Png::from_rgb(4, 3, &rgb).unwrap();
    let mut out = Vec::new();
    png.write_display(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let body = text
        .strip_prefix("EVCXR_BEGIN_CONTENT image/png\n")
        .and_then(|t| t.strip_suffix("\nEVCXR_END_CONTENT\n"))
        .unwrap_or_else(|| panic!("not one image/png block: {text:?}"));
    assert!(!body.contains('\n'), "base64 must be one line");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    assert_eq!(bytes, png.bytes());
    assert_eq!(decode_png(&bytes), (4, 3, rgb));
}

#[test]
fn write_blocks_writes_every_part_in_order() {
    let mut out = Vec::new();
    write_blocks(&mut out, &[("text/html", "<b>x</b>"), ("text/plain", "x")]).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "EVCXR_BEGIN_CONTENT text/html\n<b>x</b>\nEVCXR_END_CONTENT\n\
         EVCXR_BEGIN_CONTENT text/plain\nx\nEVCXR_END_CONTENT\n"
    );
    assert_eq!(
        display_block("text/plain", "hi"),
        "EVCXR_BEGIN_CONTENT text/plain\nhi\nEVCXR_END_CONTENT\n"
    );
}

/// One `write_all` per call: a writer that counts writes sees exactly one.
#[test]
fn write_blocks_is_a_single_write() {
    struct Counting(usize);
    impl std::io::Write for Counting {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = Counting(0);
    write_blocks(&mut w, &[("text/html", "a"), ("text/plain", "b")]).unwrap();
    assert_eq!(w.0, 1);
}

/// The bundled font draws text with no system font configured: the same
/// picture with and without a text has dark pixels only with it.
#[test]
fn bundled_font_draws_text() {
    use plotters::prelude::*;
    let draw = |text: &'static str| {
        render_png(200, 50, move |area| {
            area.draw(&Text::new(text, (10, 10), ("sans-serif", 24)))
                .map_err(cnn_lab::display::drawing_error("text"))
        })
        .unwrap()
    };
    let dark = |png: &Png| {
        let (w, h, rgb) = decode_png(png.bytes());
        assert_eq!((w, h), (200, 50));
        rgb.chunks(3).filter(|p| p.iter().all(|&c| c < 100)).count()
    };
    assert_eq!(dark(&draw("")), 0);
    assert!(dark(&draw("Loss 0.123")) > 100);
}

#[test]
fn render_png_rejects_empty_size() {
    let err = render_png(0, 10, |_| Ok(())).unwrap_err().to_string();
    assert!(err.contains("0x10"), "{err}");
}
