//! Hostile image files: truncated at many points, bit-flipped (seeded),
//! headers claiming enormous images, empty and text files. Every one is an
//! `Err` naming the file (or, for a bit flip the format cannot notice, a
//! decoded image), never a panic, and the process's peak memory (VmHWM)
//! stays bounded.

mod common;

use std::path::{Path, PathBuf};

use cnn_lab::image::{read_image, Image};
use image::ImageEncoder;

/// A 48 x 40 RGB test picture (smooth gradients and a few edges).
fn picture() -> (u32, u32, Vec<u8>) {
    let (w, h) = (48u32, 40u32);
    let mut v = Vec::new();
    for y in 0..h {
        for x in 0..w {
            v.extend([
                (x * 5) as u8,
                (y * 6) as u8,
                if (x / 8 + y / 8) % 2 == 0 { 200 } else { 30 },
            ]);
        }
    }
    (w, h, v)
}

/// The picture in each format, written with the `image` crate's encoders.
fn files() -> Vec<(&'static str, Vec<u8>)> {
    use image::ExtendedColorType::Rgb8;
    let (w, h, rgb) = picture();
    let mut out = Vec::new();
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&rgb, w, h, Rgb8)
        .unwrap();
    out.push(("png", png));
    let mut jpg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpg, 90)
        .write_image(&rgb, w, h, Rgb8)
        .unwrap();
    out.push(("jpg", jpg));
    let mut gif = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut gif);
        enc.encode(&rgb, w, h, Rgb8).unwrap();
    }
    out.push(("gif", gif));
    let mut bmp = Vec::new();
    image::codecs::bmp::BmpEncoder::new(&mut bmp)
        .write_image(&rgb, w, h, Rgb8)
        .unwrap();
    out.push(("bmp", bmp));
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .write_image(&rgb, w, h, Rgb8)
        .unwrap();
    out.push(("webp", webp));
    out
}

/// xorshift64*: the seeded bit flips.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}

/// The file with its header claiming a huge image: 100,000 x 100,000 for
/// PNG, BMP and WebP (VP8X canvas); 65,535 x 65,535, the most the header
/// holds, for JPEG and GIF.
fn huge(ext: &str, bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    match ext {
        "png" => {
            // IHDR data at 16..29, its CRC (over type and data) at 29..33.
            b[16..20].copy_from_slice(&100_000u32.to_be_bytes());
            b[20..24].copy_from_slice(&100_000u32.to_be_bytes());
            let crc = crc32(&b[12..29]);
            b[29..33].copy_from_slice(&crc.to_be_bytes());
        }
        "jpg" => {
            // SOF0: FF C0, length (2), precision (1), height (2), width (2).
            let at = b.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
            b[at + 5..at + 7].copy_from_slice(&65_535u16.to_be_bytes());
            b[at + 7..at + 9].copy_from_slice(&65_535u16.to_be_bytes());
        }
        "gif" => {
            // Logical screen (6..10), then the image descriptor's size.
            b[6..8].copy_from_slice(&65_535u16.to_le_bytes());
            b[8..10].copy_from_slice(&65_535u16.to_le_bytes());
            let at = b.iter().position(|&x| x == 0x2C).unwrap();
            b[at + 5..at + 7].copy_from_slice(&65_535u16.to_le_bytes());
            b[at + 7..at + 9].copy_from_slice(&65_535u16.to_le_bytes());
        }
        "bmp" => {
            b[18..22].copy_from_slice(&100_000i32.to_le_bytes());
            b[22..26].copy_from_slice(&100_000i32.to_le_bytes());
        }
        "webp" => {
            // Insert a VP8X chunk whose canvas is 100,000 x 100,000.
            let mut vp8x = b"VP8X".to_vec();
            vp8x.extend(10u32.to_le_bytes());
            vp8x.extend([0, 0, 0, 0]);
            let side = (100_000u32 - 1).to_le_bytes();
            vp8x.extend(&side[..3]);
            vp8x.extend(&side[..3]);
            b.splice(12..12, vp8x);
            let riff = (b.len() - 8) as u32;
            b[4..8].copy_from_slice(&riff.to_le_bytes());
        }
        _ => unreachable!(),
    }
    b
}

/// Peak resident memory of this process so far, in KiB (VmHWM).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

enum Expect {
    Error,
    ErrorOrImage,
}

/// Reads `path` with `read_image` and `Image::open`; checks the outcome.
fn check(path: &Path, expect: Expect, failures: &mut Vec<String>) -> bool {
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    let mut errored = false;
    let outcomes = [read_image(path).map(|_| ()), Image::open(path).map(|_| ())];
    for (what, outcome) in ["read_image", "Image::open"].iter().zip(outcomes) {
        match (outcome, &expect) {
            (Err(e), _) => {
                errored = true;
                let text = e.to_string();
                if !text.contains(&name) {
                    failures.push(format!(
                        "{what}({name}): error does not name the file: {text}"
                    ));
                }
            }
            (Ok(()), Expect::Error) => failures.push(format!("{what}({name}): read without error")),
            (Ok(()), Expect::ErrorOrImage) => {}
        }
    }
    errored
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn hostile_files_are_errors_naming_the_file_in_bounded_memory() {
    let dir = common::scratch_dir("image_fuzz");
    let files = files();
    // The valid files read (so the cases below start from readable files).
    for (ext, bytes) in &files {
        let path = write(&dir, &format!("valid.{ext}"), bytes);
        let _ = read_image(&path).unwrap_or_else(|e| panic!("{e}"));
        let _ = Image::open(&path).unwrap_or_else(|e| panic!("{e}"));
    }
    let before = peak_rss_kib();
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut flips_refused = 0;
    let mut flips = 0;
    for (ext, bytes) in &files {
        // What may go: the bytes after the pixel data that no decoder needs
        // (PNG's IEND chunk, GIF's trailer; nothing for JPEG: EOI is required,
        // nor for BMP and WebP, whose sizes are in the header).
        let tail = match *ext {
            "png" => 12,
            "gif" => 1,
            _ => 0,
        };
        let n = bytes.len() - tail;
        for k in 0..48 {
            let cut = n * k / 48 + k % 3;
            if cut >= n {
                continue;
            }
            let path = write(&dir, &format!("truncated_{k}.{ext}"), &bytes[..cut]);
            check(&path, Expect::Error, &mut failures);
            cases += 1;
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ bytes.len() as u64);
        for k in 0..64 {
            let mut b = bytes.clone();
            for _ in 0..1 + k % 4 {
                let at = (rng.next() % b.len() as u64) as usize;
                b[at] ^= 1 << (rng.next() % 8);
            }
            let path = write(&dir, &format!("flipped_{k}.{ext}"), &b);
            if check(&path, Expect::ErrorOrImage, &mut failures) {
                flips_refused += 1;
            }
            flips += 1;
            cases += 1;
        }
        let path = write(&dir, &format!("huge.{ext}"), &huge(ext, bytes));
        check(&path, Expect::Error, &mut failures);
        cases += 1;
    }
    check(&write(&dir, "empty.png", b""), Expect::Error, &mut failures);
    check(
        &write(&dir, "notes.jpg", b"this is a text file, not a photo\n"),
        Expect::Error,
        &mut failures,
    );
    check(&dir, Expect::Error, &mut failures);
    check(&dir.join("missing.png"), Expect::Error, &mut failures);
    cases += 4;
    let after = peak_rss_kib();
    println!(
        "{cases} hostile files; {flips_refused} of {flips} bit-flipped files refused, the \
         rest decoded; peak RSS {} MiB before, {} MiB after (+{} MiB)",
        before / 1024,
        after / 1024,
        (after - before) / 1024
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        after - before < 256 * 1024,
        "peak memory grew by {} MiB",
        (after - before) / 1024
    );
}
