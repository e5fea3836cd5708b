//! Making CUDA visible when libtorch came from pip.
//!
//! Nothing in a Rust program references `libtorch_cuda.so` directly, so the
//! linker drops it (`--as-needed`) and libtorch never registers its CUDA
//! backend: `tch::Cuda::is_available()` is then `false` even on a GPU
//! machine. [`load_cuda_backend`] `dlopen`s the library — found beside the
//! libtorch this process already loaded — with `RTLD_GLOBAL`, which runs its
//! static initialisers and registers the backend. [`cuda_if_available`]
//! calls it first, so it works in `cargo` binaries and evcxr cells alike.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tch::Device;

/// What [`load_cuda_backend`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CudaBackend {
    /// `libtorch_cuda.so` is loaded (it was already, or we loaded it from this path).
    Loaded(PathBuf),
    /// This libtorch has no CUDA library beside it (a CPU-only build).
    NotPresent,
    /// The library exists but could not be loaded; the text is `dlerror()`'s.
    Failed(String),
}

/// The folder holding the libtorch this process has loaded, read from
/// `/proc/self/maps` (Linux). `None` where it cannot be told.
pub fn libtorch_lib_dir() -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| {
            let name = Path::new(path)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("");
            name.starts_with("libtorch_cpu.") || name.starts_with("libc10.")
        })
        .and_then(|path| Path::new(path).parent().map(Path::to_path_buf))
}

fn mapped(name_prefix: &str) -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| {
            Path::new(path)
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(name_prefix))
        })
        .map(PathBuf::from)
}

/// Loads libtorch's CUDA backend if the libtorch in use has one. Runs once
/// per process; later calls return the first answer.
pub fn load_cuda_backend() -> &'static CudaBackend {
    static STATE: OnceLock<CudaBackend> = OnceLock::new();
    STATE.get_or_init(|| {
        // Make sure libtorch itself is loaded before looking for its folder.
        let _ = tch::utils::has_openmp();
        if let Some(path) = mapped("libtorch_cuda.") {
            return CudaBackend::Loaded(path);
        }
        let Some(dir) = libtorch_lib_dir() else {
            return CudaBackend::NotPresent;
        };
        let path = dir.join("libtorch_cuda.so");
        if !path.exists() {
            return CudaBackend::NotPresent;
        }
        let Ok(c_path) = CString::new(path.as_os_str().as_encoded_bytes()) else {
            return CudaBackend::Failed(format!("{}: path has a NUL byte", path.display()));
        };
        // SAFETY: dlopen with a valid C string; the handle is deliberately
        // never closed so the backend stays registered for the process.
        let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if handle.is_null() {
            // SAFETY: dlerror returns a thread-local C string or null.
            let msg = unsafe {
                let e = libc::dlerror();
                if e.is_null() {
                    "unknown dlopen error".to_string()
                } else {
                    std::ffi::CStr::from_ptr(e).to_string_lossy().into_owned()
                }
            };
            return CudaBackend::Failed(format!("{}: {msg}", path.display()));
        }
        CudaBackend::Loaded(path)
    })
}

/// `Device::Cuda(0)` when a CUDA GPU can be used, else `Device::Cpu` — the
/// lecture's `"cuda" if torch.cuda.is_available() else "cpu"`. Loads the CUDA
/// backend first (see the module docs), which `tch::Device::cuda_if_available`
/// alone does not.
pub fn cuda_if_available() -> Device {
    if cuda_is_available() {
        Device::Cuda(0)
    } else {
        Device::Cpu
    }
}

/// `torch.cuda.is_available()`, after loading the CUDA backend.
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
    fn cuda_backend_loads_when_the_wheel_has_one() {
        let state = load_cuda_backend();
        let dir = libtorch_lib_dir().unwrap();
        if dir.join("libtorch_cuda.so").exists() {
            assert!(matches!(state, CudaBackend::Loaded(_)), "{state:?}");
            assert!(mapped("libtorch_cuda.").is_some());
        } else {
            assert_eq!(state, &CudaBackend::NotPresent);
        }
        // Without a GPU this is CPU; with one, CUDA. Either way no panic.
        let d = cuda_if_available();
        assert_eq!(d.is_cuda(), tch::Cuda::is_available());
    }
}
