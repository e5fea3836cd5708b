//! CUDA is found whatever the first torch call (issue 15), as far as a
//! machine without a GPU can tell: pip torch's `libtorch_cuda` is loaded
//! before `main`, so the CUDA hooks libtorch settles on at its first query
//! are the CUDA library's own, not the "no CUDA" stub, even when that first
//! query is `tch::manual_seed`.
//!
//! Each case needs a process of its own (libtorch decides once per
//! process): this test binary runs itself with `--exact probe` and the case
//! in [`PROBE_VAR`]. Which hooks libtorch settled on is read from the hooks
//! object itself ([`cuda_hooks_library`]). Without a GPU
//! `tch::Cuda::is_available()` is false either way, so that is what a CPU
//! can prove; `scripts/gpu_check.sh --run` checks the devices on a GPU.

mod common;

use std::process::Command;

use cnn_lab::cuda::{libtorch_lib_dir, mapped_library, nvidia_driver_present, BACKEND_MODE_VAR};
use cnn_lab::*;

/// Set in the child process: the first torch call to make, then what to report.
const PROBE_VAR: &str = "CNN_LAB_TEST_CUDA_ORDER_PROBE";
/// Set in the child process: `dlopen` `libtorch_cuda.so` by hand after the
/// first call, as cnn_lab used to do lazily in `cuda_if_available()`.
const LATE_LOAD_VAR: &str = "CNN_LAB_TEST_CUDA_LATE_LOAD";

/// What a probe process saw.
#[derive(Debug)]
struct Probe {
    /// `libtorch_cuda` was mapped when the probe began, before any torch call.
    mapped_at_start: bool,
    /// File name of the library whose code implements the CUDA hooks in use.
    hooks: String,
    /// `cuda_if_available()` gave a CUDA device.
    cuda_device: bool,
    /// `tch::Cuda::is_available()`.
    is_available: bool,
    /// `load_cuda_backend()`'s state, `Debug`-printed.
    backend: String,
}

/// The library mapped at `addr` in this process (`/proc/self/maps`).
fn library_at(addr: usize) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        let (range, rest) = line.split_once(' ')?;
        let (start, end) = range.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let end = usize::from_str_radix(end, 16).ok()?;
        let path = rest.split_whitespace().nth(4)?;
        (start <= addr && addr < end).then(|| {
            std::path::Path::new(path)
                .file_name()
                .map_or(path.to_string(), |n| n.to_string_lossy().into_owned())
        })
    })
}

/// The library that implements the CUDA hooks libtorch uses, asking
/// `at::detail::getCUDAHooks()` (which fixes the answer if nothing had
/// asked yet). Under the Itanium C++ ABI the function returns a pointer to
/// the hooks object and the object's first word points to its class's
/// vtable, which lies in the library defining the class: `libtorch_cuda`
/// for the real `at::cuda::detail::CUDAHooks`, `libtorch_cpu` for the
/// stub `at::CUDAHooksInterface` that reports no CUDA.
fn cuda_hooks_library() -> String {
    // SAFETY: dlsym with a valid C string.
    let sym = unsafe {
        libc::dlsym(
            libc::RTLD_DEFAULT,
            c"_ZN2at6detail12getCUDAHooksEv".as_ptr(),
        )
    };
    assert!(
        !sym.is_null(),
        "libtorch exports no at::detail::getCUDAHooks()"
    );
    // SAFETY: `const CUDAHooksInterface& getCUDAHooks()` takes nothing and
    // returns a pointer in the C calling convention; the object it points
    // to is polymorphic, so its first word is a vtable pointer.
    let vptr = unsafe {
        let get: extern "C" fn() -> *const usize = std::mem::transmute(sym);
        *get()
    };
    library_at(vptr).unwrap_or_else(|| format!("unmapped {vptr:#x}"))
}

/// The child's side: make the first call `PROBE_VAR` names, then report.
/// In the parent (no `PROBE_VAR`) it does nothing.
#[test]
#[ignore = "the child process of this file's other tests, which run it themselves"]
fn probe() {
    let Ok(first) = std::env::var(PROBE_VAR) else {
        return;
    };
    let mapped_at_start = mapped_library("libtorch_cuda.").is_some();
    match first.as_str() {
        "nothing" => {}
        "tensor" => drop(Tensor::zeros([2, 3], (Kind::Float, Device::Cpu))),
        "conv" => drop(Conv2d::new(1, 8, 3)),
        "tch-seed" => tch::manual_seed(0),
        "cnn_lab-seed" => manual_seed(0),
        other => panic!("unknown first call {other}"),
    }
    if std::env::var_os(LATE_LOAD_VAR).is_some() {
        let path = libtorch_lib_dir().unwrap().join("libtorch_cuda.so");
        let c_path = std::ffi::CString::new(path.into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: dlopen with a valid C string; the library stays loaded.
        let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        assert!(!handle.is_null(), "dlopen libtorch_cuda.so failed");
    }
    let hooks = cuda_hooks_library();
    let cuda_device = cuda_if_available().is_cuda();
    println!(
        "probe: mapped_at_start={mapped_at_start} hooks={hooks} cuda_device={cuda_device} \
         is_available={} backend={:?}",
        tch::Cuda::is_available(),
        cuda::load_cuda_backend()
    );
}

/// Runs [`probe`] in a fresh process with `first` as its first call and
/// `CNN_LAB_CUDA_BACKEND=mode`.
fn run_probe(first: &str, mode: &str, late_load: bool) -> Probe {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "probe",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(PROBE_VAR, first)
    .env(BACKEND_MODE_VAR, mode);
    if late_load {
        cmd.env(LATE_LOAD_VAR, "1");
    } else {
        cmd.env_remove(LATE_LOAD_VAR);
    }
    let out = cmd.output().expect("the test binary runs itself");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "probe {first} ({mode}) failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("probe: ").map(|(_, report)| report))
        .unwrap_or_else(|| panic!("no probe line in\n{stdout}"));
    let field = |name: &str| -> String {
        let start = line.find(&format!("{name}=")).expect(name) + name.len() + 1;
        let rest = &line[start..];
        let end = if name == "backend" {
            rest.len()
        } else {
            rest.find(' ').unwrap_or(rest.len())
        };
        rest[..end].to_string()
    };
    Probe {
        mapped_at_start: field("mapped_at_start") == "true",
        hooks: field("hooks"),
        cuda_device: field("cuda_device") == "true",
        is_available: field("is_available") == "true",
        backend: field("backend"),
    }
}

/// These tests read libtorch's CUDA backend: a CPU-only torch fails them
/// rather than letting them pass with nothing checked.
fn require_cuda_torch() {
    assert!(
        common::torch_has_cuda(),
        "the venv's torch has no CUDA backend (scripts/requirements.txt pins PyPI's CUDA build)"
    );
}

fn assert_real_cuda_hooks(first: &str, p: &Probe) {
    assert!(
        p.mapped_at_start,
        "{first}: libtorch_cuda not loaded at start: {p:?}"
    );
    assert!(p.hooks.starts_with("libtorch_cuda."), "{first}: {p:?}");
    assert!(p.backend.starts_with("Loaded("), "{first}: {p:?}");
    assert_eq!(p.cuda_device, p.is_available, "{first}: {p:?}");
}

#[test]
fn the_cuda_backend_is_registered_before_the_first_call_whatever_it_is() {
    require_cuda_torch();
    for first in ["nothing", "tensor", "conv", "tch-seed", "cnn_lab-seed"] {
        assert_real_cuda_hooks(first, &run_probe(first, "load", false));
    }
}

#[test]
fn a_backend_loaded_after_seeding_comes_too_late() {
    require_cuda_torch();
    // What cnn_lab did before: load the library when a device is asked for.
    // The table, as the hooks show it: seeding first makes libtorch
    // settle on the stub for good; the other first calls do not ask.
    for (first, settles_on) in [
        ("nothing", "libtorch_cuda."),
        ("tensor", "libtorch_cuda."),
        ("conv", "libtorch_cuda."),
        ("tch-seed", "libtorch_cpu."),
        ("cnn_lab-seed", "libtorch_cpu."),
    ] {
        let p = run_probe(first, "skip", true);
        assert!(!p.mapped_at_start, "{first}: {p:?}");
        assert!(p.hooks.starts_with(settles_on), "{first}: {p:?}");
    }
}

#[test]
fn the_backend_is_not_loaded_when_skipped_or_without_a_driver() {
    require_cuda_torch();
    let skipped = run_probe("tch-seed", "skip", false);
    assert!(!skipped.mapped_at_start, "{skipped:?}");
    assert_eq!(skipped.backend, "Skipped", "{skipped:?}");
    assert!(skipped.hooks.starts_with("libtorch_cpu."), "{skipped:?}");
    assert!(!skipped.cuda_device && !skipped.is_available, "{skipped:?}");

    let auto = run_probe("tch-seed", "auto", false);
    if nvidia_driver_present() {
        assert_real_cuda_hooks("tch-seed (auto)", &auto);
    } else {
        assert!(!auto.mapped_at_start, "{auto:?}");
        assert_eq!(auto.backend, "NoDriver", "{auto:?}");
    }
}
