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
