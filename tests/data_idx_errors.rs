//! Strict IDX parsing: every malformed input is an `Err` that names the file
//! and says what was expected and what was found — never a panic.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use cnn_lab::data::{FashionMNIST, MNIST};
use cnn_lab::Error;

/// IDX bytes: magic `0x0000_08<ndim>`, big-endian sizes, then `data`.
fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend(data);
    v
}

fn images(n: u32) -> Vec<u8> {
    idx(0x803, &[n, 28, 28], &vec![7u8; n as usize * 784])
}

fn labels(ls: &[u8]) -> Vec<u8> {
    idx(0x801, &[ls.len() as u32], ls)
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A scratch root holding `MNIST/raw/t10k-*` with the given file names and bytes.
fn root_with(test: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let root = common::scratch_dir(&format!("data_idx_errors_{test}"));
    let raw = root.join("MNIST/raw");
    std::fs::create_dir_all(&raw).unwrap();
    for (name, bytes) in files {
        std::fs::write(raw.join(name), bytes).unwrap();
    }
    root
}

const IMG: &str = "t10k-images-idx3-ubyte";
const LBL: &str = "t10k-labels-idx1-ubyte";

/// Loads the test split of `root` and returns the error's text, checking it
/// is a format error naming `file`.
fn format_error(root: &Path, file: &str) -> String {
    let err = MNIST::new(root).train(false).load().unwrap_err();
    let text = err.to_string();
    match &err {
        Error::Format { path, .. } => assert!(path.ends_with(file), "{text}"),
        other => panic!("expected a format error for {file}, got {other:?}"),
    }
    assert!(text.contains(file), "{text}");
    text
}

#[test]
fn well_formed_files_load() {
    let root = root_with("ok", &[(IMG, images(3)), (LBL, labels(&[0, 9, 4]))]);
    let ds = MNIST::new(&root).train(false).load().unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.data.size(), [3, 28, 28]);
    assert_eq!(ds.targets.int64_value(&[1]), 9);
}

#[test]
fn gz_and_raw_files_give_the_same_data() {
    let root = root_with(
        "gz",
        &[
            (&format!("{IMG}.gz"), gz(&images(2))),
            (&format!("{LBL}.gz"), gz(&labels(&[1, 2]))),
        ],
    );
    let ds = MNIST::new(&root).train(false).load().unwrap();
    assert_eq!(ds.len(), 2);
    assert_eq!(ds.data.int64_value(&[1, 27, 27]), 7);
}

#[test]
fn truncated_image_file_is_an_error() {
    let mut img = images(3);
    img.truncate(img.len() - 100);
    let root = root_with("truncated", &[(IMG, img), (LBL, labels(&[0, 1, 2]))]);
    let text = format_error(&root, IMG);
    assert!(
        text.contains("truncated file: header says 3×28×28 = 2352 data bytes, found 2252"),
        "{text}"
    );
    assert!(text.contains("expected 2368"), "{text}");
}

#[test]
fn wrong_magic_is_an_error() {
    let mut img = images(1);
    img[3] = 0x01;
    let root = root_with("magic", &[(IMG, img), (LBL, labels(&[0]))]);
    let text = format_error(&root, IMG);
    assert!(
        text.contains("wrong magic number: expected 0x00000803 (IDX of unsigned bytes, 3 dimensions), found 0x00000801"),
        "{text}"
    );
}

#[test]
fn label_file_with_image_magic_is_an_error() {
    let root = root_with("lblmagic", &[(IMG, images(1)), (LBL, images(1))]);
    let text = format_error(&root, LBL);
    assert!(text.contains("expected 0x00000801"), "{text}");
    assert!(text.contains("found 0x00000803"), "{text}");
}

#[test]
fn count_larger_than_the_data_is_an_error() {
    let lbl = idx(0x801, &[5], &[1, 2, 3, 4]);
    let root = root_with("count", &[(IMG, images(4)), (LBL, lbl)]);
    let text = format_error(&root, LBL);
    assert!(
        text.contains("truncated file: header says 5 = 5 data bytes, found 4"),
        "{text}"
    );
}

#[test]
fn count_smaller_than_the_data_is_an_error() {
    let lbl = idx(0x801, &[3], &[1, 2, 3, 4]);
    let root = root_with("count_small", &[(IMG, images(4)), (LBL, lbl)]);
    let text = format_error(&root, LBL);
    assert!(
        text.contains("trailing bytes: header says 3 = 3 data bytes, found 4"),
        "{text}"
    );
}

#[test]
fn image_and_label_counts_must_match() {
    let root = root_with("mismatch", &[(IMG, images(3)), (LBL, labels(&[0, 1]))]);
    let text = format_error(&root, LBL);
    assert!(text.contains("2 labels but"), "{text}");
    assert!(
        text.contains("has 3 images: expected equal counts"),
        "{text}"
    );
}

#[test]
fn wrong_image_size_is_an_error() {
    let img = idx(0x803, &[1, 27, 28], &[0u8; 27 * 28]);
    let root = root_with("size", &[(IMG, img), (LBL, labels(&[0]))]);
    let text = format_error(&root, IMG);
    assert!(
        text.contains("wrong image size: expected 28×28, found 27×28"),
        "{text}"
    );
}

#[test]
fn label_out_of_range_is_an_error() {
    let root = root_with("range", &[(IMG, images(3)), (LBL, labels(&[0, 9, 10]))]);
    let text = format_error(&root, LBL);
    assert!(
        text.contains("label out of range: expected labels 0..=9, found 10 at index 2"),
        "{text}"
    );
}

#[test]
fn fashion_labels_are_checked_too() {
    let root = common::scratch_dir("data_idx_errors_fashion");
    let raw = root.join("FashionMNIST/raw");
    std::fs::create_dir_all(&raw).unwrap();
    std::fs::write(raw.join(IMG), images(1)).unwrap();
    std::fs::write(raw.join(LBL), labels(&[200])).unwrap();
    let text = FashionMNIST::new(&root)
        .train(false)
        .load()
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("FashionMNIST/raw/t10k-labels-idx1-ubyte"),
        "{text}"
    );
    assert!(text.contains("found 200 at index 0"), "{text}");
}

#[test]
fn empty_file_is_an_error() {
    let root = root_with("empty", &[(IMG, Vec::new()), (LBL, labels(&[0]))]);
    let text = format_error(&root, IMG);
    assert!(
        text.contains("empty file (0 bytes), expected an IDX file with a 16-byte header"),
        "{text}"
    );
}

#[test]
fn short_header_is_an_error() {
    let root = root_with(
        "short",
        &[(IMG, images(1)[..10].to_vec()), (LBL, labels(&[0]))],
    );
    let text = format_error(&root, IMG);
    assert!(
        text.contains("truncated header: expected 16 bytes for 3 dimension sizes, found 10"),
        "{text}"
    );
}

#[test]
fn corrupt_gzip_is_an_error() {
    let mut bytes = gz(&images(50));
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 16] {
        *b ^= 0x5a;
    }
    let img = format!("{IMG}.gz");
    let root = root_with("corrupt_gz", &[(&img, bytes), (LBL, labels(&[0; 50]))]);
    let text = format_error(&root, &img);
    assert!(text.contains("corrupt gzip data"), "{text}");
}

#[test]
fn truncated_gzip_is_an_error() {
    let mut bytes = gz(&images(50));
    bytes.truncate(bytes.len() * 2 / 3);
    let img = format!("{IMG}.gz");
    let root = root_with("truncated_gz", &[(&img, bytes), (LBL, labels(&[0; 50]))]);
    let text = format_error(&root, &img);
    assert!(text.contains("corrupt gzip data"), "{text}");
}

#[test]
fn gz_name_without_gzip_data_is_an_error() {
    let img = format!("{IMG}.gz");
    let root = root_with("not_gz", &[(&img, images(1)), (LBL, labels(&[0]))]);
    let text = format_error(&root, &img);
    assert!(
        text.contains("not a gzip file: expected at least 18 bytes starting 1f 8b"),
        "{text}"
    );
}

#[test]
fn missing_files_are_named_with_where_to_put_them() {
    let root = root_with("missing", &[(LBL, labels(&[0]))]);
    let text = MNIST::new(&root)
        .train(false)
        .load()
        .unwrap_err()
        .to_string();
    let raw = root.join("MNIST/raw");
    assert!(
        text.contains(&format!(
            "MNIST test split not found: missing {IMG} in {}",
            raw.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("Put t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz"),
        "{text}"
    );
    assert!(text.contains(".download(true)"), "{text}");
}

#[test]
fn empty_root_names_both_files() {
    let root = common::scratch_dir("data_idx_errors_none");
    let text = FashionMNIST::new(&root).load().unwrap_err().to_string();
    assert!(
        text.contains("FashionMNIST train split not found: missing train-images-idx3-ubyte and train-labels-idx1-ubyte in"),
        "{text}"
    );
}
