//! Gives this package's own tests, examples, benches and binaries an rpath to
//! the libtorch that torch-sys linked against, so `cargo test` runs without
//! `LD_LIBRARY_PATH`. (Cargo does not pass these flags on to crates that
//! depend on cnn_lab; notebooks get `LD_LIBRARY_PATH` from the kernel.)

fn main() {
    // Without a rerun-if-changed line cargo reruns this script — and so
    // rebuilds cnn_lab in every kernel build slot — whenever any file in the
    // package changes, tests and notebooks included.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
