//! Two jobs:
//!
//! - Compiles `csrc/ops.cpp`, the libtorch calls tch does not bind (see
//!   `src/ops.rs`), against the headers of the libtorch torch-sys linked.
//! - Gives this package's own tests, examples, benches and binaries an rpath
//!   to that libtorch, so `cargo test` runs without `LD_LIBRARY_PATH`. (Cargo
//!   does not pass these flags on to crates that depend on cnn_lab; notebooks
//!   get `LD_LIBRARY_PATH` from the kernel.)

use std::path::PathBuf;

fn main() {
    // Without rerun-if-changed lines cargo reruns this script — and so
    // rebuilds cnn_lab in every kernel build slot — whenever any file in the
    // package changes, tests and notebooks included.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=csrc/ops.cpp");
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
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .std("c++17")
        .warnings(false)
        .include(&include)
        .define("_GLIBCXX_USE_CXX11_ABI", abi.as_str())
        .file("csrc/ops.cpp")
        .compile("cnn_lab_ops");
}
