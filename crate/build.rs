//! Three jobs:
//!
//! - Compiles `csrc/ops.cpp`, the libtorch calls tch does not bind (see
//!   `src/ops.rs`), against the headers of the libtorch torch-sys linked.
//! - Where that libtorch has a CUDA backend and the CUDA runtime headers are
//!   found, builds `csrc/cuda_graph.cpp` into `libcnn_lab_cuda.so`, which
//!   cnn_lab embeds and loads only on a GPU (see `src/cuda/graph.rs`), and
//!   sets the `cnn_lab_cuda_graphs` cfg.
//! - Gives this package's own tests, examples, benches and binaries an rpath
//!   to that libtorch, so `cargo test` runs without `LD_LIBRARY_PATH`. (Cargo
//!   does not pass these flags on to crates that depend on cnn_lab; notebooks
//!   get `LD_LIBRARY_PATH` from the kernel.)

use std::path::{Path, PathBuf};

fn main() {
    // Without rerun-if-changed lines cargo reruns this script — and so
    // rebuilds cnn_lab in every kernel build slot — whenever any file in the
    // package changes, tests and notebooks included.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=csrc/ops.cpp");
    println!("cargo:rerun-if-changed=csrc/cuda_graph.cpp");
    println!("cargo:rerun-if-changed=csrc/guarded.h");
    println!("cargo:rerun-if-env-changed=CNN_LAB_CUDA_INCLUDE");
    println!("cargo:rustc-check-cfg=cfg(cnn_lab_cuda_graphs)");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        panic!("torch-sys did not say where libtorch is (DEP_TCH_LIBTORCH_LIB is unset)");
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    // pip's torch and the libtorch archives both keep `include` beside `lib`.
    let include = PathBuf::from(&lib).join("../include");
    // The ABI pip's torch 2.x is built with; torch-sys reads the same variable.
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .pic(true)
        .std("c++17")
        .warnings(false)
        .include(&include)
        .define("_GLIBCXX_USE_CXX11_ABI", abi.as_str());
    build.clone().file("csrc/ops.cpp").compile("cnn_lab_ops");
    cuda_graph_shim(&build, Path::new(&lib));
}

/// The folder with `cuda_runtime_api.h` and `crt/host_config.h`:
/// `CNN_LAB_CUDA_INCLUDE`, else pip's `nvidia/cu13/include` beside pip's
/// torch, else `$CUDA_HOME/include` or `/usr/local/cuda/include`.
fn cuda_include(lib: &Path) -> Option<PathBuf> {
    let complete =
        |d: &Path| d.join("cuda_runtime_api.h").exists() && d.join("crt/host_config.h").exists();
    if let Some(dir) = std::env::var_os("CNN_LAB_CUDA_INCLUDE") {
        return Some(PathBuf::from(dir)).filter(|d| complete(d));
    }
    let mut candidates = vec![lib.join("../../nvidia/cu13/include")];
    if let Some(home) = std::env::var_os("CUDA_HOME") {
        candidates.push(PathBuf::from(home).join("include"));
    }
    candidates.push("/usr/local/cuda/include".into());
    candidates.into_iter().find(|d| complete(d))
}

/// Builds `libcnn_lab_cuda.so` into OUT_DIR and tells the crate where
/// (`CNN_LAB_CUDA_SHIM`, cfg `cnn_lab_cuda_graphs`), when libtorch has a
/// CUDA backend and the headers are found. A CPU-only libtorch skips it
/// quietly; a CUDA one without headers says so once per build.
fn cuda_graph_shim(build: &cc::Build, lib: &Path) {
    if !lib.join("libtorch_cuda.so").exists() {
        return;
    }
    let Some(cuda_include) = cuda_include(lib) else {
        println!(
            "cargo:warning=cnn_lab: no CUDA runtime headers found (pip install \
             nvidia-cuda-crt, or set CNN_LAB_CUDA_INCLUDE): CUDA graphs are off in this build"
        );
        return;
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("libcnn_lab_cuda.so");
    let mut cmd = build.get_compiler().to_command();
    cmd.arg("-shared")
        .arg("-O2")
        // Embedded in every build of cnn_lab: no debug info (~40 KB, not ~800).
        .arg("-g0")
        .arg("-I")
        .arg(&cuda_include)
        .arg("csrc/cuda_graph.cpp")
        .arg("-o")
        .arg(&out)
        // Every symbol must come from these libraries, checked now rather
        // than when a GPU machine loads it.
        .arg("-Wl,-z,defs")
        .arg(format!("-L{}", lib.display()))
        .args(["-ltorch_cuda", "-lc10_cuda", "-ltorch_cpu", "-lc10"]);
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        status.success(),
        "building {}: {cmd:?} failed",
        out.display()
    );
    println!("cargo:rustc-env=CNN_LAB_CUDA_SHIM={}", out.display());
    println!("cargo:rustc-cfg=cnn_lab_cuda_graphs");
}
