//! Helpers shared by the integration tests (`tests/*.rs`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (the folder holding `Cargo.toml` and `crate/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crate/ has a parent")
        .to_path_buf()
}

/// The datasets root: `$CNN_LAB_DATA`, else `../shared/datasets` beside the
/// repository, else the repository's `data/`.
pub fn datasets_root() -> PathBuf {
    if let Some(p) = std::env::var_os("CNN_LAB_DATA") {
        return PathBuf::from(p);
    }
    let shared = repo_root().join("../shared/datasets");
    if shared.join("MNIST").exists() {
        return shared;
    }
    repo_root().join("data")
}

/// The project venv's python (`$CNN_LAB_PYTHON` overrides), which carries
/// torch 2.11.0, torchvision, torchinfo and safetensors for reference values.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("CNN_LAB_PYTHON") {
        return PathBuf::from(p);
    }
    repo_root().join(".venv/bin/python")
}

/// Runs `tests/python/<script>` with the venv's python and `args`; returns
/// its stdout, failing the test with stderr when it exits non-zero.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let path = repo_root().join("tests/python").join(script);
    let out = Command::new(python())
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python().display()));
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python printed UTF-8")
}

/// A fresh scratch folder under the target dir, removed first if present.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = repo_root().join("target/test-scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Whether the venv's torch ships a CUDA backend (`libtorch_cuda.so` beside
/// the libtorch this process loaded); the CUDA tests say so and pass
/// vacuously when it is a CPU-only build.
pub fn torch_has_cuda() -> bool {
    let _ = tch::Tensor::from(0.0f32);
    let has =
        cnn_lab::cuda::libtorch_lib_dir().is_some_and(|d| d.join("libtorch_cuda.so").exists());
    if !has {
        eprintln!("this libtorch has no libtorch_cuda.so; nothing to check");
    }
    has
}

/// Line-by-line text comparison, so a failure points at the first
/// differing line (printouts, summaries).
pub fn assert_same_lines(case: &str, ours: &str, theirs: &str) {
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(
            x,
            y,
            "{case}: line {} differs\nours:\n{ours}\ntorch:\n{theirs}",
            i + 1
        );
    }
    assert_eq!(
        a.len(),
        b.len(),
        "{case}: line count\nours:\n{ours}\ntorch:\n{theirs}"
    );
    assert_eq!(ours, theirs, "{case}: trailing whitespace/newline");
}

/// The largest absolute elementwise difference of two tensors of one shape.
pub fn max_abs_diff(a: &tch::Tensor, b: &tch::Tensor) -> f64 {
    assert_eq!(a.size(), b.size(), "shapes differ");
    (a - b).abs().max().double_value(&[])
}

/// `summary`'s figures, rows (type, depth, output shape) and text against
/// torchinfo's, as `tests/python/*.py` write them: `{text, total_params,
/// trainable_params, total_mult_adds, rows: [[class_name, depth, output_size]]}`.
pub fn assert_summary_equals(case: &str, ours: &cnn_lab::Summary, theirs: &serde_json::Value) {
    let int = |key: &str| theirs[key].as_i64().unwrap();
    assert_eq!(ours.total_params(), int("total_params"), "{case}");
    assert_eq!(ours.trainable_params(), int("trainable_params"), "{case}");
    assert_eq!(ours.total_mult_adds(), int("total_mult_adds"), "{case}");
    let rows: Vec<(String, usize, Vec<i64>)> = ours
        .rows()
        .iter()
        .map(|r| (r.type_name.clone(), r.depth, r.output_shape.clone()))
        .collect();
    let their_rows: Vec<(String, usize, Vec<i64>)> = theirs["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let shape = r[2].as_array().unwrap();
            (
                r[0].as_str().unwrap().to_string(),
                r[1].as_u64().unwrap() as usize,
                shape.iter().map(|d| d.as_i64().unwrap()).collect(),
            )
        })
        .collect();
    assert_eq!(rows, their_rows, "{case}: rows (type, depth, output shape)");
    assert_same_lines(case, &ours.to_string(), theirs["text"].as_str().unwrap());
}
