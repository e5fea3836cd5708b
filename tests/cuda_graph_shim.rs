//! The CUDA graph shim (`csrc/cuda_graph.cpp`, see `cnn_lab::cuda::graph`),
//! as far as a machine without a GPU can tell: it is built and embedded
//! when the venv's torch has a CUDA backend; it is never mapped where that
//! backend is not loaded; where the backend is loaded (forced here with
//! `CNN_LAB_CUDA_BACKEND=load`) it loads from memory, its symbols resolve
//! against libtorch's CUDA libraries, and libtorch's C++ exception for the
//! missing GPU comes back as an `Error::Cuda` rather than an abort.
//! `scripts/gpu_check.sh --run` captures and replays real graphs on a GPU.
//!
//! Each case runs in a process of its own (the backend is chosen at
//! start-up): this test binary runs itself with `--exact probe`.

mod common;

use std::process::Command;

use cnn_lab::cuda::CudaGraph;
use cnn_lab::cuda::{graph::cuda_graphs_built, mapped_library, BACKEND_MODE_VAR};
use cnn_lab::{Device, Tensor};

const PROBE_VAR: &str = "CNN_LAB_TEST_CUDA_GRAPH_PROBE";

/// In the child: try to make a graph; print what happened and whether the
/// shim got mapped.
#[test]
#[ignore = "the child process of this file's other tests, which run it themselves"]
fn probe() {
    if std::env::var_os(PROBE_VAR).is_none() {
        return;
    }
    let _ = Tensor::from(1.0f32);
    let result = CudaGraph::new(Device::Cuda(0)).map(|_| ());
    println!("RESULT {result:?}");
    println!(
        "SHIM_MAPPED {}",
        mapped_library("memfd:libcnn_lab_cuda").is_some()
    );
}

fn run_probe(mode: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "probe",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROBE_VAR, "1")
        .env(BACKEND_MODE_VAR, mode)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "probe ({mode}) failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn the_shim_is_built_where_torch_has_cuda() {
    // The venv's pip torch is the CUDA build and scripts/requirements.txt
    // brings the headers, so the project's own builds always carry it.
    assert_eq!(cuda_graphs_built(), common::torch_has_cuda());
}

#[test]
fn without_the_backend_the_shim_is_not_mapped_and_the_error_says_why() {
    let out = run_probe("skip");
    assert!(out.contains("SHIM_MAPPED false"), "{out}");
    assert!(out.contains("CUDA graphs are not available"), "{out}");
}

#[test]
fn with_the_backend_the_shim_loads_and_reports_libtorchs_error() {
    if !cuda_graphs_built() || cnn_lab::cuda::nvidia_driver_present() {
        // No shim to load, or a GPU: gpu_check.sh covers that machine.
        return;
    }
    let out = run_probe("load");
    assert!(out.contains("SHIM_MAPPED true"), "{out}");
    let result = out
        .lines()
        .find(|l| l.contains("RESULT "))
        .unwrap_or_default();
    assert!(
        result.contains("Err(Cuda(\"creating a CUDA graph: "),
        "{out}"
    );
    assert!(!result.contains("not available"), "{out}");
}
