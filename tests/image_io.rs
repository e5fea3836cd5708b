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
