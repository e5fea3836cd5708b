//! Images from files against torchvision.io and PIL: tests/python/
//! image_reference.py makes PNG, GIF, WebP, BMP and JPEG files from
//! scikit-image's photos with PIL and writes what `torchvision.io.read_image`
//! (each mode) and PIL (`mode`, `size`, `convert`) read from them.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cnn_lab::image::{read_image, read_image_mode, ImageReadMode};
use cnn_lab::{Kind, Tensor};
use serde_json::Value;

const MODES: [(&str, ImageReadMode); 5] = [
    ("UNCHANGED", ImageReadMode::UNCHANGED),
    ("GRAY", ImageReadMode::GRAY),
    ("GRAY_ALPHA", ImageReadMode::GRAY_ALPHA),
    ("RGB", ImageReadMode::RGB),
    ("RGB_ALPHA", ImageReadMode::RGB_ALPHA),
];

struct Reference {
    dir: PathBuf,
    cases: Value,
    tensors: HashMap<String, Tensor>,
}

// Tensors are only read after the reference is built; tch's Tensor is Send.
struct Shared(Reference);
unsafe impl Sync for Shared {}

fn reference() -> &'static Reference {
    static REF: OnceLock<Shared> = OnceLock::new();
    &REF.get_or_init(|| {
        let dir = common::scratch_dir("image_io");
        common::run_python("image_reference.py", &[dir.to_str().unwrap()]);
        let cases: Value =
            serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap();
        let tensors = Tensor::read_safetensors(dir.join("ref.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
        Shared(Reference {
            dir,
            cases,
            tensors,
        })
    })
    .0
}

impl Reference {
    fn file(&self, name: &str) -> PathBuf {
        self.dir.join("files").join(name)
    }

    fn names(&self) -> Vec<String> {
        self.cases["files"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    fn case(&self, name: &str) -> &Value {
        &self.cases["files"][name]
    }

    fn tensor(&self, key: &str) -> &Tensor {
        self.tensors
            .get(key)
            .unwrap_or_else(|| panic!("no reference tensor {key}"))
    }
}

fn ext(name: &str) -> &str {
    Path::new(name).extension().unwrap().to_str().unwrap()
}

/// The torchvision reads that are torchvision bugs, where cnn_lab gives
/// the correct pixels instead (docs/images.md lists them):
/// - an indexed PNG without tRNS read as GRAY_ALPHA or RGB_ALPHA: libpng
///   expands the palette to 3 channels, torchvision's buffer has 2 or 4 a
///   pixel, so the rows come out scrambled;
/// - an indexed PNG of 1, 2 or 4 bits read UNCHANGED: torchvision returns
///   the packed bytes (two 4-bit indices in one value), not the indices;
/// - a 1-bit gray PNG read with alpha: libpng's filler is `(1 << 1) - 1`,
///   so torchvision's alpha is 1 (almost transparent), not 255.
fn torchvision_bug(name: &str, mode: &str) -> bool {
    match name {
        "palette.png" => matches!(mode, "GRAY_ALPHA" | "RGB_ALPHA"),
        "palette16.png" => matches!(mode, "UNCHANGED" | "GRAY_ALPHA" | "RGB_ALPHA"),
        "bilevel.png" => matches!(mode, "GRAY_ALPHA" | "RGB_ALPHA"),
        _ => false,
    }
}

/// `None` when `ours` and `theirs` are the same tensor, else what differs.
fn difference(case: &str, ours: &Tensor, theirs: &Tensor) -> Option<String> {
    if ours.size() != theirs.size() {
        return Some(format!(
            "{case}: shape {:?}, reference {:?}",
            ours.size(),
            theirs.size()
        ));
    }
    if ours.kind() != theirs.kind() {
        return Some(format!(
            "{case}: kind {:?}, reference {:?}",
            ours.kind(),
            theirs.kind()
        ));
    }
    let diff = (ours.to_kind(Kind::Int) - theirs.to_kind(Kind::Int)).abs();
    let max = diff.max().int64_value(&[]);
    let count = diff.gt(0).sum(Kind::Int64).int64_value(&[]);
    (max != 0).then(|| format!("{case}: {count} values differ, by up to {max}"))
}

fn assert_none_differ(failures: &[String]) {
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn read_image_is_torchvisions_exactly_on_png_gif_webp() {
    let r = reference();
    let mut checked = 0;
    let mut failures = Vec::new();
    for name in r.names() {
        if !matches!(ext(&name), "png" | "gif" | "webp") {
            continue;
        }
        for (mode_name, mode) in MODES {
            let want = &r.case(&name)["torchvision"][mode_name];
            let case = format!("{name} {mode_name}");
            let ours = read_image_mode(r.file(&name), mode);
            if let Some(err) = want.get("error") {
                panic!("{case}: torchvision refused it ({err}) but the reference has no such case");
            }
            if torchvision_bug(&name, mode_name) {
                continue;
            }
            match ours {
                Ok(ours) => failures.extend(difference(
                    &case,
                    &ours,
                    r.tensor(want["key"].as_str().unwrap()),
                )),
                Err(e) => failures.push(format!("{case}: {e}")),
            }
            checked += 1;
        }
        if !torchvision_bug(&name, "UNCHANGED") {
            let unchanged = read_image(r.file(&name)).unwrap();
            let want = r.tensor(
                r.case(&name)["torchvision"]["UNCHANGED"]["key"]
                    .as_str()
                    .unwrap(),
            );
            failures.extend(difference(&format!("{name} read_image"), &unchanged, want));
        }
    }
    assert_none_differ(&failures);
    assert!(checked >= 60, "only {checked} cases compared");
}

/// max and mean absolute difference of two same-shaped tensors.
fn max_mean(ours: &Tensor, theirs: &Tensor) -> (i64, f64) {
    let d = (ours.to_kind(Kind::Int) - theirs.to_kind(Kind::Int)).abs();
    (
        d.max().int64_value(&[]),
        d.to_kind(Kind::Double).mean(Kind::Double).double_value(&[]),
    )
}

#[test]
fn jpeg_is_within_the_decoders_difference_of_torchvisions() {
    // zune-jpeg against libjpeg-turbo (torchvision's and PIL's): the IDCT
    // and chroma upsampling round differently. Bounds: what was measured
    // (printed below) with a little room.
    let r = reference();
    let mut failures = Vec::new();
    let mut checked = 0;
    for name in r.names() {
        if ext(&name) != "jpg" {
            continue;
        }
        for (mode_name, mode) in MODES {
            let want = &r.case(&name)["torchvision"][mode_name];
            let case = format!("{name} {mode_name}");
            let ours = read_image_mode(r.file(&name), mode);
            if let Some(err) = want.get("error") {
                // torchvision refuses GRAY_ALPHA and RGB_ALPHA for JPEG; so do we.
                match ours {
                    Ok(_) => failures.push(format!("{case}: read, torchvision refused ({err})")),
                    Err(e) => assert!(e.to_string().contains(&name), "{case}: {e}"),
                }
                continue;
            }
            let theirs = r.tensor(want["key"].as_str().unwrap());
            let ours = match ours {
                Ok(t) => t,
                Err(e) => {
                    failures.push(format!("{case}: {e}"));
                    continue;
                }
            };
            if ours.size() != theirs.size() || ours.kind() != theirs.kind() {
                failures.push(format!(
                    "{case}: {:?} {:?}, torchvision {:?} {:?}",
                    ours.size(),
                    ours.kind(),
                    theirs.size(),
                    theirs.kind()
                ));
                continue;
            }
            let (max, mean) = max_mean(&ours, theirs);
            println!("{case:<28} max abs difference {max:>3}, mean {mean:.4}");
            if max > 6 || mean > 0.5 {
                failures.push(format!("{case}: max {max}, mean {mean:.4}"));
            }
            checked += 1;
        }
    }
    assert_none_differ(&failures);
    assert_eq!(checked, 18, "6 JPEG files x UNCHANGED, GRAY, RGB");
}

#[test]
fn bmp_reads_as_pil_reads_it() {
    // torchvision.io does not read BMP; PIL is the reference.
    let r = reference();
    let mut failures = Vec::new();
    for name in ["rgb.bmp", "gray.bmp", "palette.bmp"] {
        let conv = &r.case(name)["pil"]["convert"];
        for (mode, pil) in [
            (ImageReadMode::RGB, "RGB"),
            (ImageReadMode::GRAY, "L"),
            (ImageReadMode::RGB_ALPHA, "RGBA"),
        ] {
            let want = r.tensor(conv[pil].as_str().unwrap());
            match read_image_mode(r.file(name), mode) {
                Ok(t) => failures.extend(difference(&format!("{name} {mode:?}"), &t, want)),
                Err(e) => failures.push(format!("{name} {mode:?}: {e}")),
            }
        }
    }
    let rgb = read_image(r.file("rgb.bmp")).unwrap();
    failures.extend(difference(
        "rgb.bmp read_image",
        &rgb,
        r.tensor(r.case("rgb.bmp")["pil"]["convert"]["RGB"].as_str().unwrap()),
    ));
    assert_none_differ(&failures);
}

#[test]
fn image_mode_size_and_convert_are_pils() {
    use cnn_lab::image::{pil_to_tensor, Image};
    let r = reference();
    let mut failures = Vec::new();
    for name in r.names() {
        let pil = &r.case(&name)["pil"];
        let im = match Image::open(r.file(&name)) {
            Ok(im) => im,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let (w, h) = im.size();
        let want_size = (
            pil["size"][0].as_u64().unwrap(),
            pil["size"][1].as_u64().unwrap(),
        );
        if (w as u64, h as u64) != want_size {
            failures.push(format!("{name}: size {:?}, PIL {want_size:?}", im.size()));
        }
        let lossy = ext(&name) == "jpg";
        // An 8-bit BMP with a colour palette: PIL says P; the image crate
        // expands it, so we say RGB (docs/images.md); its convert()s match.
        let pil_mode = match (name.as_str(), pil["mode"].as_str().unwrap()) {
            ("palette.bmp", "P") => "RGB",
            (_, m) => m,
        };
        if im.mode() != pil_mode {
            failures.push(format!("{name}: mode {}, PIL {}", im.mode(), pil["mode"]));
        } else if let (Some(key), true) = (pil["pil_to_tensor"].as_str(), pil_mode == pil["mode"]) {
            let ours = pil_to_tensor(&im);
            if lossy {
                let (max, _) = max_mean(&ours, r.tensor(key));
                if max > 6 {
                    failures.push(format!("{name} pil_to_tensor: max difference {max}"));
                }
            } else {
                failures.extend(difference(
                    &format!("{name} pil_to_tensor"),
                    &ours,
                    r.tensor(key),
                ));
            }
        }
        for target in ["RGB", "L", "RGBA"] {
            let case = format!("{name} convert({target:?})");
            let want = r.tensor(pil["convert"][target].as_str().unwrap());
            let ours = match im.convert(target) {
                Ok(c) => pil_to_tensor(&c),
                Err(e) => {
                    failures.push(format!("{case}: {e}"));
                    continue;
                }
            };
            if name == "gray16.png" {
                // PIL clips 16-bit values to 255; we scale (docs/images.md).
                continue;
            }
            if lossy {
                let (max, mean) = max_mean(&ours, want);
                if max > 6 || mean > 0.5 {
                    failures.push(format!("{case}: max {max}, mean {mean:.4}"));
                }
            } else {
                failures.extend(difference(&case, &ours, want));
            }
        }
    }
    assert_none_differ(&failures);
}

#[test]
fn sixteen_bit_convert_scales_to_eight_bits() {
    use cnn_lab::image::{pil_to_tensor, Image};
    let r = reference();
    let im = Image::open(r.file("gray16.png")).unwrap();
    assert_eq!(im.mode(), "I;16");
    let wide = read_image(r.file("gray16.png")).unwrap();
    let l = pil_to_tensor(&im.convert("L").unwrap());
    let want = (wide.to_kind(Kind::Double) * 255.0 / 65535.0)
        .round()
        .to_kind(Kind::Uint8);
    assert!(difference("gray16 convert(L)", &l, &want).is_none());
}

#[test]
fn to_pil_image_is_torchvisions() {
    use cnn_lab::image::{pil_to_tensor, to_pil_image};
    let r = reference();
    for case in ["to_pil/float", "to_pil/float1"] {
        let im = to_pil_image(r.tensor(case)).unwrap();
        let back = pil_to_tensor(&im);
        let want = r.tensor(&format!("{case}/back"));
        assert!(difference(case, &back, want).is_none(), "{case}");
    }
    let rgb = r.tensor(
        r.case("rgb.png")["torchvision"]["UNCHANGED"]["key"]
            .as_str()
            .unwrap(),
    );
    let im = to_pil_image(rgb).unwrap();
    assert_eq!((im.mode(), im.size()), ("RGB", (96, 72)));
    assert!(difference("uint8 round trip", &pil_to_tensor(&im), rgb).is_none());
    let err = to_pil_image(&Tensor::zeros(
        [5, 2, 2],
        (Kind::Float, cnn_lab::Device::Cpu),
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("channels"), "{err}");
}

#[test]
fn save_writes_png_and_jpeg_that_read_back() {
    use cnn_lab::image::{pil_to_tensor, Image};
    let r = reference();
    let dir = common::scratch_dir("image_io_save");
    let im = Image::open(r.file("rgba.png")).unwrap();
    im.save(dir.join("copy.png")).unwrap();
    let back = Image::open(dir.join("copy.png")).unwrap();
    assert_eq!(back.mode(), "RGBA");
    assert!(difference("png round trip", &pil_to_tensor(&back), &pil_to_tensor(&im)).is_none());
    let err = im.save(dir.join("x.jpg")).unwrap_err().to_string();
    assert!(
        err.contains("cannot write mode RGBA as JPEG") && err.contains("x.jpg"),
        "{err}"
    );
    let rgb = im.convert("RGB").unwrap();
    rgb.save(dir.join("copy.jpg")).unwrap();
    let back = Image::open(dir.join("copy.jpg")).unwrap();
    assert_eq!((back.mode(), back.size()), ("RGB", (96, 72)));
    let (max, mean) = max_mean(&pil_to_tensor(&back), &pil_to_tensor(&rgb));
    assert!(
        max < 80 && mean < 4.0,
        "JPEG quality 75 round trip: max {max}, mean {mean}"
    );
    assert!(im.save(dir.join("x.tiff")).is_err());
}

#[test]
fn image_shows_as_a_png_in_a_notebook() {
    use cnn_lab::image::Image;
    let im = Image::open(reference().file("palette.png")).unwrap();
    let png = im.to_png().unwrap();
    assert_eq!((png.width(), png.height()), (100, 75));
    assert!(png.bytes().starts_with(&[0x89, b'P', b'N', b'G']));
    let mut out = Vec::new();
    png.write_display(&mut out).unwrap();
    assert!(String::from_utf8(out)
        .unwrap()
        .starts_with("EVCXR_BEGIN_CONTENT image/png\n"));
    assert_eq!(
        format!("{im:?}"),
        "<PIL.Image.Image image mode=P size=100x75>"
    );
}

#[test]
fn a_half_truncated_jpeg_is_refused_as_pil_and_torchvision_refuse_it() {
    use cnn_lab::image::Image;
    let r = reference();
    let theirs = &r.cases["refused"]["rocket_half.jpg"];
    for lib in ["PIL", "torchvision"] {
        assert!(
            theirs[lib].is_string(),
            "{lib} read the half file: {theirs}"
        );
    }
    let path = r.file("rocket_half.jpg");
    for err in [
        read_image(&path).map(|_| ()).unwrap_err(),
        Image::open(&path).map(|_| ()).unwrap_err(),
    ] {
        let text = err.to_string();
        assert!(text.contains("rocket_half.jpg"), "{text}");
    }
}

#[test]
fn decode_image_from_bytes_is_read_image() {
    use cnn_lab::image::decode_image;
    let r = reference();
    for name in [
        "rgba.png",
        "anim.gif",
        "lossy.webp",
        "chelsea.jpg",
        "rgb.bmp",
    ] {
        let bytes = std::fs::read(r.file(name)).unwrap();
        for (_, mode) in MODES {
            let from_file = read_image_mode(r.file(name), mode);
            let from_bytes = decode_image(&bytes, mode);
            match (from_file, from_bytes) {
                (Ok(a), Ok(b)) => assert!(difference(name, &a, &b).is_none(), "{name} {mode:?}"),
                (Err(_), Err(e)) => assert!(e.to_string().contains("<bytes>"), "{e}"),
                (a, b) => panic!(
                    "{name} {mode:?}: file {:?}, bytes {:?}",
                    a.is_ok(),
                    b.is_ok()
                ),
            }
        }
    }
}
