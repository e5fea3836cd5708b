//! Whether CUDA is found after a given first torch call (issue 15), for
//! `scripts/gpu_check.sh --run`: each order runs as a fresh process, since
//! libtorch decides once per process.
//!
//! ```text
//! gpu_order --first nothing|tensor|conv|tch-seed|cnn_lab-seed|notebook
//!           [--expect cuda|cpu]
//! ```
//!
//! `notebook` is `notebooks/mnist_cnn.ipynb`'s order: `tch::manual_seed(0)`
//! and a layer in one cell, `device_from_env()` in a later one. Prints one
//! JSON line; with `--expect`, exits non-zero when `cuda_if_available()`
//! (or `device_from_env()`) gives another device, or disagrees with
//! `tch::Cuda::is_available()`.

use cnn_lab::*;

fn main() -> std::process::ExitCode {
    let mapped_at_start = cuda::mapped_library("libtorch_cuda.").is_some();
    let mut first = String::from("nothing");
    let mut expect = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--first" => first = value,
            "--expect" => expect = Some(value),
            _ => {
                eprintln!("gpu_order: unknown option {flag}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let device = match first.as_str() {
        "nothing" => cuda_if_available(),
        "tensor" => {
            drop(Tensor::zeros([2, 3], (Kind::Float, Device::Cpu)));
            cuda_if_available()
        }
        "conv" => {
            drop(Conv2d::new(1, 8, 3));
            cuda_if_available()
        }
        "tch-seed" => {
            tch::manual_seed(0);
            cuda_if_available()
        }
        "cnn_lab-seed" => {
            manual_seed(0);
            cuda_if_available()
        }
        "notebook" => {
            tch::manual_seed(0);
            drop(Conv2d::new(1, 8, 3).padding("same"));
            device_from_env()
        }
        other => {
            eprintln!("gpu_order: unknown first call {other}");
            return std::process::ExitCode::from(2);
        }
    };
    let is_available = tch::Cuda::is_available();
    let ok = device.is_cuda() == is_available
        && expect
            .as_deref()
            .is_none_or(|e| (e == "cuda") == device.is_cuda());
    println!(
        "{{\"kind\": \"order\", \"first\": \"{first}\", \"device\": \"{device:?}\", \
         \"is_available\": {is_available}, \"devices\": {}, \"mapped_at_start\": {mapped_at_start}, \
         \"driver\": {}, \"backend\": {:?}, \"ok\": {ok}}}",
        tch::Cuda::device_count(),
        cuda::nvidia_driver_present(),
        // A Debug-quoted string is valid JSON for the ASCII text printed here.
        format!("{:?}", cuda::load_cuda_backend())
    );
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
