//! Making CUDA visible when libtorch came from pip, whatever runs first.
//!
//! Two things about libtorch decide how this has to be done.
//!
//! - **Nothing links the CUDA backend.** No Rust code references
//!   `libtorch_cuda.so`, so the linker drops it (`--as-needed`). Its static
//!   initialisers are what register the CUDA backend
//!   (`REGISTER_CUDA_HOOKS(CUDAHooks)` in `ATen/cuda/detail/CUDAHooks.cpp`
//!   adds `"CUDAHooks"` to `at::CUDAHooksRegistry`), so they run only if
//!   someone `dlopen`s the library.
//! - **libtorch looks the backend up once.** `at::detail::getCUDAHooks()`
//!   (`ATen/detail/CUDAHooksInterface.cpp`) keeps its first answer in a
//!   function-local static: the registered `CUDAHooks`, or, when none is
//!   registered yet, a stub `CUDAHooksInterface` that reports no CUDA. Its
//!   own comment: "if you try to call any CUDA functionality before
//!   libATen_cuda.so is loaded, CUDA is permanently disabled for that copy
//!   of ATen". Seeding asks: `tch::manual_seed` is `torch::manual_seed`, i.e.
//!   `at::manual_seed` (`ATen/Context.h`), which seeds the CPU generator and
//!   then calls `at::getAccelerator()` to seed the GPUs' too, and that asks
//!   `getCUDAHooks().isBuilt()`. Creating a CPU tensor or a layer does not
//!   ask, which is why only some first calls lost the GPU.
//!
//! So loading the backend when a device is asked for ([`cuda_if_available`])
//! is too late if anything seeded first. This module loads it from an ELF
//! constructor (an `.init_array` entry) instead. The dynamic loader runs it
//! when cnn_lab's code is loaded: before `main` in a binary, and during the
//! `dlopen` of the evcxr cell library that brings cnn_lab in. In both cases
//! libtorch itself (a `DT_NEEDED` dependency) is loaded and initialised
//! first, and no torch call of the program has run yet. rustc keeps a
//! `#[used]` static of a library crate in every binary that links the
//! crate, so a program that only calls `cnn_lab::tch::manual_seed` gets it
//! too.
//!
//! Loading pip torch's `libtorch_cuda.so` is not free (the README's CUDA
//! section has the figures), so the constructor loads it only where an
//! NVIDIA driver shows ([`nvidia_driver_present`]); without one CUDA cannot
//! work anyway. `CNN_LAB_CUDA_BACKEND` ([`BackendMode`]) overrides that
//! choice: `load` always loads it, `skip` never does, `auto` (the default)
//! decides by the driver. [`cuda_if_available`] makes the same choice, so a
//! process where the constructor did not run still finds a GPU, provided it
//! asks before it seeds.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use tch::Device;

pub mod graph;

pub use graph::CudaGraph;

/// The environment variable read by [`BackendMode::from_env`].
pub const BACKEND_MODE_VAR: &str = "CNN_LAB_CUDA_BACKEND";

/// Whether to load libtorch's CUDA backend at start-up
/// (`CNN_LAB_CUDA_BACKEND`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendMode {
    /// Load it when an NVIDIA driver is present ([`nvidia_driver_present`]).
    #[default]
    Auto,
    /// Always load it (where the libtorch in use ships one).
    Load,
    /// Never load it: CUDA stays unavailable in this process.
    Skip,
}

impl FromStr for BackendMode {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim() {
            "auto" => Ok(BackendMode::Auto),
            "load" => Ok(BackendMode::Load),
            "skip" => Ok(BackendMode::Skip),
            other => Err(format!("{other:?}: expected auto, load or skip")),
        }
    }
}

impl BackendMode {
    /// The mode `CNN_LAB_CUDA_BACKEND` asks for; [`BackendMode::Auto`] when
    /// it is unset, empty or not one of `auto`, `load`, `skip` (reported on
    /// stdout, as [`crate::env_or`] does).
    pub fn from_env() -> BackendMode {
        crate::env::env_or(BACKEND_MODE_VAR, BackendMode::Auto)
    }
}

/// What [`load_cuda_backend`] found or did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CudaBackend {
    /// `libtorch_cuda.so` is loaded (it was already, or we loaded it from this path).
    Loaded(PathBuf),
    /// This process has no libtorch, or its libtorch has no CUDA library
    /// beside it (a CPU-only build).
    NotPresent,
    /// Not loaded: no NVIDIA driver is present ([`BackendMode::Auto`]).
    NoDriver,
    /// Not loaded: `CNN_LAB_CUDA_BACKEND=skip`.
    Skipped,
    /// The library exists but could not be loaded; the text is `dlerror()`'s.
    Failed(String),
}

/// The path of a `/proc/self/maps` line: the sixth field, which runs to the
/// end of the line (it may hold spaces). `None` for anonymous mappings.
fn maps_line_path(line: &str) -> Option<&str> {
    let mut rest = line;
    for _ in 0..5 {
        rest = rest.trim_start();
        rest = &rest[rest.find(char::is_whitespace)?..];
    }
    let path = rest.trim_start();
    path.starts_with('/').then_some(path)
}

/// The first file mapped into this process (`/proc/self/maps`, Linux) whose
/// file name satisfies `wanted`.
fn mapped_file(wanted: impl Fn(&str) -> bool) -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(maps_line_path)
        .find(|path| {
            Path::new(path)
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(&wanted)
        })
        .map(PathBuf::from)
}

/// The path of the shared library mapped into this process whose file name
/// starts with `name_prefix` (e.g. `"libtorch_cuda."`), read from
/// `/proc/self/maps` (Linux). `None` when there is none or it cannot be told.
///
/// ```
/// # #[cfg(target_os = "linux")]
/// assert!(cnn_lab::cuda::mapped_library("libc.").is_some());
/// ```
pub fn mapped_library(name_prefix: &str) -> Option<PathBuf> {
    mapped_file(|name| name.starts_with(name_prefix))
}

/// The folder holding the libtorch this process has loaded, read from
/// `/proc/self/maps` (Linux). `None` where it cannot be told.
pub fn libtorch_lib_dir() -> Option<PathBuf> {
    mapped_file(|name| name.starts_with("libtorch_cpu.") || name.starts_with("libc10."))
        .and_then(|path| path.parent().map(Path::to_path_buf))
}

/// Whether this machine shows an NVIDIA driver: the kernel module's
/// `/proc/driver/nvidia/version` or the `/dev/nvidiactl` device (a native
/// Linux or a container given the GPU), WSL2's `/dev/dxg`, or else the
/// driver's user-space library `libcuda.so.1` loads. CUDA needs that
/// library whatever the device, so where none of these holds no GPU can be
/// used and loading the CUDA backend would only cost time and memory.
///
/// `CUDA_VISIBLE_DEVICES` is not consulted: a program may still change it
/// before its first CUDA call, after this is decided.
pub fn nvidia_driver_present() -> bool {
    ["/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg"]
        .iter()
        .any(|p| Path::new(p).exists())
        || dlopen(c"libcuda.so.1", libc::RTLD_LAZY | libc::RTLD_LOCAL).is_ok()
}

/// `dlopen(path, flags)`; the error is `dlerror()`'s text. The handle is
/// never closed: what it loaded stays for the process.
fn dlopen(path: &CStr, flags: libc::c_int) -> std::result::Result<*mut libc::c_void, String> {
    // SAFETY: dlopen with a valid C string.
    let handle = unsafe { libc::dlopen(path.as_ptr(), flags) };
    if handle.is_null() {
        Err(dlerror())
    } else {
        Ok(handle)
    }
}

/// The text of the last `dl*` error on this thread.
fn dlerror() -> String {
    // SAFETY: dlerror returns a thread-local C string or null.
    unsafe {
        let e = libc::dlerror();
        if e.is_null() {
            "unknown dlopen error".to_string()
        } else {
            CStr::from_ptr(e).to_string_lossy().into_owned()
        }
    }
}

/// Loads libtorch's CUDA backend as [`BackendMode::from_env`] says, if the
/// libtorch in use has one. Runs once per process, normally from the
/// start-up constructor (see the module docs); later calls return the first
/// answer.
pub fn load_cuda_backend() -> &'static CudaBackend {
    static STATE: OnceLock<CudaBackend> = OnceLock::new();
    STATE.get_or_init(|| load(BackendMode::from_env()))
}

fn load(mode: BackendMode) -> CudaBackend {
    if let Some(path) = mapped_library("libtorch_cuda.") {
        return CudaBackend::Loaded(path);
    }
    let Some(dir) = libtorch_lib_dir() else {
        return CudaBackend::NotPresent;
    };
    let path = dir.join("libtorch_cuda.so");
    if !path.exists() {
        return CudaBackend::NotPresent;
    }
    match mode {
        BackendMode::Skip => return CudaBackend::Skipped,
        BackendMode::Auto if !nvidia_driver_present() => return CudaBackend::NoDriver,
        _ => {}
    }
    let Ok(c_path) = CString::new(path.as_os_str().as_encoded_bytes()) else {
        return CudaBackend::Failed(format!("{}: path has a NUL byte", path.display()));
    };
    // RTLD_GLOBAL: libtorch_cuda's symbols must be visible to the libraries
    // it pulls in (libc10_cuda, …), as when it is linked.
    match dlopen(&c_path, libc::RTLD_NOW | libc::RTLD_GLOBAL) {
        Ok(_) => CudaBackend::Loaded(path),
        Err(e) => CudaBackend::Failed(format!("{}: {e}", path.display())),
    }
}

/// The start-up constructor: registers the CUDA backend before `main` (or,
/// in an evcxr cell library, before the cell's code), so no torch call can
/// come first. See the module docs.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static LOAD_CUDA_BACKEND_AT_START: extern "C" fn() = load_cuda_backend_at_start;

#[cfg(target_os = "linux")]
extern "C" fn load_cuda_backend_at_start() {
    load_cuda_backend();
}

/// `Device::Cuda(0)` when a CUDA GPU can be used, else `Device::Cpu` — the
/// lecture's `"cuda" if torch.cuda.is_available() else "cpu"`. The CUDA
/// backend is normally loaded at start-up (see the module docs); this loads
/// it if that did not happen, which `tch::Device::cuda_if_available` alone
/// does not. After either, `tch::Cuda::is_available()` gives the same answer.
///
/// ```
/// let device = cnn_lab::cuda_if_available();
/// assert_eq!(device.is_cuda(), tch::Cuda::is_available());
/// ```
pub fn cuda_if_available() -> Device {
    if cuda_is_available() {
        Device::Cuda(0)
    } else {
        Device::Cpu
    }
}

/// `torch.cuda.is_available()`, after making sure the CUDA backend was
/// loaded ([`load_cuda_backend`]).
pub fn cuda_is_available() -> bool {
    load_cuda_backend();
    tch::Cuda::is_available()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtorch_dir_is_found_once_tch_is_used() {
        let _ = tch::Tensor::from(1.0f32);
        let dir = libtorch_lib_dir().expect("libtorch should be mapped");
        assert!(dir.join("libc10.so").exists(), "{}", dir.display());
    }

    #[test]
    fn maps_paths_are_the_sixth_field_to_the_end_of_the_line() {
        let line =
            "7f1c2a000000-7f1c2a100000 r-xp 00000000 08:01 1234     /opt/my venv/lib/libc10.so";
        assert_eq!(maps_line_path(line), Some("/opt/my venv/lib/libc10.so"));
        assert_eq!(
            maps_line_path("7ffd1000-7ffd2000 rw-p 00000000 00:00 0          [stack]"),
            None
        );
        assert_eq!(
            maps_line_path("7ffd1000-7ffd2000 rw-p 00000000 00:00 0"),
            None
        );
    }

    #[test]
    fn backend_mode_parses_its_three_values_only() {
        assert_eq!(" load ".parse(), Ok(BackendMode::Load));
        assert_eq!("skip".parse(), Ok(BackendMode::Skip));
        assert_eq!("auto".parse(), Ok(BackendMode::Auto));
        assert!("yes".parse::<BackendMode>().is_err());
    }

    #[test]
    fn start_up_loaded_the_backend_as_the_mode_and_driver_say() {
        let state = load_cuda_backend();
        let dir = libtorch_lib_dir().expect("libtorch should be mapped");
        let wanted = match BackendMode::from_env() {
            BackendMode::Load => true,
            BackendMode::Skip => false,
            BackendMode::Auto => nvidia_driver_present(),
        };
        if !dir.join("libtorch_cuda.so").exists() {
            assert_eq!(state, &CudaBackend::NotPresent);
        } else if wanted {
            assert!(matches!(state, CudaBackend::Loaded(_)), "{state:?}");
            assert!(mapped_library("libtorch_cuda.").is_some());
        } else {
            assert!(
                matches!(state, CudaBackend::NoDriver | CudaBackend::Skipped),
                "{state:?}"
            );
            assert!(mapped_library("libtorch_cuda.").is_none());
        }
        // Without a GPU this is CPU; with one, CUDA. Either way no panic.
        let d = cuda_if_available();
        assert_eq!(d.is_cuda(), tch::Cuda::is_available());
    }
}
