//! Notebook execution is a test: every notebook runs headless through the
//! real cnn_lab kernel (`scripts/run_notebooks.sh`), and the runner itself
//! must fail on the ways evcxr hides failures.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use base64::Engine as _;
use serde_json::Value;

/// Kernels share warm build slots; running notebooks one at a time keeps
/// every kernel on a warm slot.
static KERNEL: Mutex<()> = Mutex::new(());

fn run_notebooks(paths: &[&Path]) -> Output {
    let _guard = KERNEL.lock().unwrap_or_else(|e| e.into_inner());
    let script = common::repo_root().join("scripts/run_notebooks.sh");
    Command::new("bash")
        .arg(script)
        .args(paths)
        .output()
        .expect("run scripts/run_notebooks.sh")
}

fn executed_copy(name: &str) -> Value {
    let path = common::repo_root().join("target/notebooks").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("executed notebook is JSON")
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// Every (cell index, output) pair of an executed notebook.
fn outputs(nb: &Value) -> Vec<(usize, Value)> {
    nb["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            c["outputs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |o| (i, o))
        })
        .collect()
}

/// The PNG images shown by a notebook, decoded: (cell, width, height).
fn pngs(nb: &Value) -> Vec<(usize, u32, u32)> {
    outputs(nb)
        .into_iter()
        .filter_map(|(i, o)| {
            let b64 = text_of(&o["data"]["image/png"]);
            if b64.is_empty() {
                return None;
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .expect("image/png output is base64");
            let reader = png::Decoder::new(bytes.as_slice())
                .read_info()
                .expect("image/png output is a PNG");
            let info = reader.info();
            Some((i, info.width, info.height))
        })
        .collect()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    common::repo_root().join("tests/notebooks").join(name)
}

#[test]
fn quickstart_notebook_runs_and_shows_a_png_chart() {
    let nb_path = common::repo_root().join("notebooks/00_quickstart.ipynb");
    let out = run_notebooks(&[&nb_path]);
    assert!(out.status.success(), "runner failed:\n{}", stderr_of(&out));
    let nb = executed_copy("00_quickstart.ipynb");
    let images = pngs(&nb);
    assert!(
        !images.is_empty(),
        "no image/png output in the executed quickstart"
    );
    for (cell, w, h) in images {
        assert!(w >= 200 && h >= 100, "cell {cell}: tiny PNG {w}x{h}");
    }
    let printed: String = outputs(&nb)
        .iter()
        .map(|(_, o)| text_of(&o["text"]))
        .collect();
    assert!(
        printed.contains("first loss"),
        "training output missing: {printed}"
    );
}

#[test]
fn runner_fails_on_a_panicking_cell_and_names_it() {
    let out = run_notebooks(&[&fixture("fail_panic.ipynb")]);
    let err = stderr_of(&out);
    assert!(!out.status.success(), "a panicking notebook passed:\n{err}");
    assert!(err.contains("FAILED fail_panic.ipynb: cell 3"), "{err}");
    assert!(err.contains("panicked at"), "{err}");
}

#[test]
fn runner_fails_on_an_err_returned_by_question_mark() {
    let out = run_notebooks(&[&fixture("fail_err.ipynb")]);
    let err = stderr_of(&out);
    assert!(
        !out.status.success(),
        "a notebook returning Err passed:\n{err}"
    );
    assert!(err.contains("FAILED fail_err.ipynb"), "{err}");
    assert!(err.contains("deliberate failure"), "{err}");
}

#[test]
fn runner_fails_on_a_compile_error_and_names_the_cell() {
    let out = run_notebooks(&[&fixture("fail_compile.ipynb")]);
    let err = stderr_of(&out);
    assert!(
        !out.status.success(),
        "a notebook that does not compile passed:\n{err}"
    );
    assert!(err.contains("FAILED fail_compile.ipynb: cell 3"), "{err}");
    assert!(err.contains("mismatched types"), "{err}");
}
