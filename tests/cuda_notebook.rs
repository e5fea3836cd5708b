//! The notebooks' order of calls through the real kernel (issue 15): a
//! kernel whose first torch call is `tch::manual_seed` already has the CUDA
//! backend loaded, because cnn_lab's start-up constructor ran when the cell
//! library bringing cnn_lab in was loaded; `device_from_env()` then agrees
//! with `tch::Cuda::is_available()`. `CNN_LAB_CUDA_BACKEND=load` stands in
//! for a driver, which this machine lacks.

mod common;

use std::process::Command;

use serde_json::Value;

#[test]
fn a_kernel_that_seeds_first_has_the_cuda_backend_loaded_already() {
    let root = common::repo_root();
    assert!(
        common::torch_has_cuda(),
        "the venv's torch has no CUDA backend (scripts/requirements.txt pins PyPI's CUDA build)"
    );
    let out = Command::new("bash")
        .arg(root.join("scripts/run_notebooks.sh"))
        .arg(root.join("tests/notebooks/cuda_seed_first.ipynb"))
        .env(cnn_lab::cuda::BACKEND_MODE_VAR, "load")
        .env_remove("CNN_LAB_DEVICE")
        .output()
        .expect("run scripts/run_notebooks.sh");
    assert!(
        out.status.success(),
        "the notebook failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let path = root.join("target/notebooks/cuda_seed_first.ipynb");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let nb: Value = serde_json::from_str(&text).expect("executed notebook is JSON");
    let printed: String = nb["cells"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|cell| cell["outputs"].as_array().into_iter().flatten())
        .flat_map(|o| match &o["text"] {
            Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
            Value::String(s) => vec![s.as_str()],
            _ => vec![],
        })
        .collect();
    assert!(
        printed.contains("mapped_before_seeding=true backend=Loaded("),
        "{printed}"
    );
    // The cell asserts the agreement; without a GPU the device is the CPU.
    assert!(printed.contains("device="), "{printed}");
}
