//! CUDA graphs (`torch.cuda.CUDAGraph`), which tch does not bind: record a
//! whole training step's kernels once, then launch them all with one call.
//!
//! A training step of the lecture's model is ~100 small kernels; on a fast
//! GPU launching them one by one takes longer than running them (PyTorch on
//! an H200: 3.50 ms per step eager, 1.48 ms replayed as a graph; see
//! `../shared/GPU.md`). [`CudaGraph`] follows PyTorch's "whole network
//! capture": warm-up steps on a side stream ([`CudaGraph::warm_up`]), one
//! step captured ([`CudaGraph::capture`]), then [`CudaGraph::replay`] with new
//! data copied into the captured input tensors. `fit` does this by default on
//! a GPU ([`FitOptions::cuda_graph`](crate::FitOptions::cuda_graph)).
//!
//! The C++ side is `csrc/cuda_graph.cpp`. `build.rs` builds it into a small
//! shared library (`libcnn_lab_cuda.so`, linked against libtorch's CUDA
//! libraries) when the libtorch in use has a CUDA backend and the CUDA
//! runtime headers are found, and cnn_lab embeds it. It is loaded (from
//! memory, through `memfd_create`) the first time a graph is made, and only
//! once libtorch's CUDA backend is loaded, so a process on a machine
//! without a GPU never maps it.

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr::NonNull;
use std::sync::OnceLock;

use tch::Device;

use crate::error::{Error, Result};
use crate::ops::take_message;

type Message = *mut c_char;
type Handle = *mut c_void;

/// The shim's functions (see `csrc/cuda_graph.cpp`).
struct Api {
    new: unsafe extern "C" fn(i64, *mut Handle) -> Message,
    free: unsafe extern "C" fn(Handle),
    enter: unsafe extern "C" fn(Handle) -> Message,
    leave: unsafe extern "C" fn(Handle) -> Message,
    capture_begin: unsafe extern "C" fn(Handle) -> Message,
    capture_end: unsafe extern "C" fn(Handle) -> Message,
    replay: unsafe extern "C" fn(Handle) -> Message,
}

/// The shim's answer as a `Result`, naming the operation.
fn check(what: &str, message: Message) -> Result<()> {
    match take_message(message) {
        None => Ok(()),
        Some(text) => Err(Error::Cuda(format!("{what}: {text}"))),
    }
}

/// The shim, as `build.rs` built it; absent when it was not built.
#[cfg(cnn_lab_cuda_graphs)]
const SHIM: Option<&[u8]> = Some(include_bytes!(env!("CNN_LAB_CUDA_SHIM")));
#[cfg(not(cnn_lab_cuda_graphs))]
const SHIM: Option<&[u8]> = None;

/// Whether this build of cnn_lab carries the CUDA graph shim (it does when
/// it was built against a libtorch with a CUDA backend and the CUDA runtime
/// headers were found; see the module docs).
pub fn cuda_graphs_built() -> bool {
    SHIM.is_some()
}

fn api() -> Result<&'static Api> {
    static API: OnceLock<std::result::Result<Api, String>> = OnceLock::new();
    API.get_or_init(load)
        .as_ref()
        .map_err(|e| Error::Cuda(format!("CUDA graphs are not available: {e}")))
}

fn load() -> std::result::Result<Api, String> {
    let Some(bytes) = SHIM else {
        return Err(
            "this build of cnn_lab has no CUDA graph shim (its libtorch has no CUDA \
                    backend, or no CUDA runtime headers were found when it was built)"
                .into(),
        );
    };
    match super::load_cuda_backend() {
        super::CudaBackend::Loaded(_) => {}
        other => return Err(format!("libtorch's CUDA backend is not loaded ({other:?})")),
    }
    let handle = dlopen_bytes(bytes)?;
    let symbol = |name: &CStr| {
        // SAFETY: dlsym on a live handle with a C string.
        let p = unsafe { libc::dlsym(handle, name.as_ptr()) };
        if p.is_null() {
            Err(format!("libcnn_lab_cuda.so has no {name:?}"))
        } else {
            Ok(p)
        }
    };
    // SAFETY: each symbol is the extern "C" function of csrc/cuda_graph.cpp
    // with exactly the signature of the field it is stored in.
    unsafe {
        Ok(Api {
            new: std::mem::transmute::<
                *mut c_void,
                unsafe extern "C" fn(i64, *mut Handle) -> Message,
            >(symbol(c"cnn_lab_cuda_graph_new")?),
            free: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(Handle)>(symbol(
                c"cnn_lab_cuda_graph_free",
            )?),
            enter: step_fn(symbol(c"cnn_lab_cuda_graph_enter")?),
            leave: step_fn(symbol(c"cnn_lab_cuda_graph_leave")?),
            capture_begin: step_fn(symbol(c"cnn_lab_cuda_graph_capture_begin")?),
            capture_end: step_fn(symbol(c"cnn_lab_cuda_graph_capture_end")?),
            replay: step_fn(symbol(c"cnn_lab_cuda_graph_replay")?),
        })
    }
}

/// # Safety
/// `p` must be a `char *f(void *)` of the shim.
unsafe fn step_fn(p: *mut c_void) -> unsafe extern "C" fn(Handle) -> Message {
    std::mem::transmute::<*mut c_void, unsafe extern "C" fn(Handle) -> Message>(p)
}

/// Loads a shared library from memory: an anonymous file (`memfd_create`)
/// holding `bytes`, opened through `/proc/self/fd`. Its libtorch
/// dependencies resolve to the copies already loaded.
fn dlopen_bytes(bytes: &[u8]) -> std::result::Result<Handle, String> {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    // SAFETY: memfd_create with a C string; the fd is owned by `file` below.
    let fd = unsafe { libc::memfd_create(c"libcnn_lab_cuda.so".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(format!("memfd_create: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: a fresh fd nothing else owns.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.write_all(bytes)
        .map_err(|e| format!("writing libcnn_lab_cuda.so to a memfd: {e}"))?;
    let path = CString::new(format!("/proc/self/fd/{fd}")).expect("no NUL in a path of digits");
    // The mapping outlives the fd, which `file` closes on return.
    super::dlopen(&path, libc::RTLD_NOW | libc::RTLD_LOCAL)
}

/// One CUDA graph and the side stream it is captured on
/// (`torch.cuda.CUDAGraph` plus the `torch.cuda.Stream` of PyTorch's
/// whole-network-capture recipe).
///
/// ```no_run
/// # use cnn_lab::{cuda::CudaGraph, Device, Kind, Tensor};
/// let x = Tensor::ones([4], (Kind::Float, Device::Cuda(0)));
/// let mut graph = CudaGraph::new(Device::Cuda(0))?;
/// graph.warm_up(|| { let _ = &x * 2; })?;
/// let y = graph.capture(|| Ok(&x * 2))?; // recorded, not run
/// let _ = x.shallow_clone().fill_(3.0);
/// graph.replay()?; // y is now 6 everywhere
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub struct CudaGraph {
    api: &'static Api,
    handle: NonNull<c_void>,
    captured: bool,
}

impl std::fmt::Debug for CudaGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CudaGraph {{ captured: {} }}", self.captured)
    }
}

impl CudaGraph {
    /// An empty graph for `device` (a `Device::Cuda`), with its side stream.
    pub fn new(device: Device) -> Result<CudaGraph> {
        let Device::Cuda(index) = device else {
            return Err(Error::Cuda(format!(
                "a CUDA graph needs a CUDA device, not {device:?}"
            )));
        };
        let api = api()?;
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: the shim writes a new object's pointer into `handle`.
        check("creating a CUDA graph", unsafe {
            (api.new)(index as i64, &mut handle)
        })?;
        let handle = NonNull::new(handle)
            .ok_or_else(|| Error::Cuda("creating a CUDA graph: no object came back".into()))?;
        Ok(CudaGraph {
            api,
            handle,
            captured: false,
        })
    }

    /// Runs `f` with the side stream current, as PyTorch's recipe runs its
    /// warm-up iterations (`with torch.cuda.stream(s):`): what `f` queues
    /// runs after the work already queued, and the current stream waits for
    /// it afterwards. cuDNN's and cuBLAS's per-stream set-up happens here,
    /// which a capture needs done already.
    pub fn warm_up<T>(&mut self, f: impl FnOnce() -> T) -> Result<T> {
        let api = self.api;
        let h = self.handle.as_ptr();
        // SAFETY: a live graph object.
        check("entering the side stream", unsafe { (api.enter)(h) })?;
        let result = f();
        check("leaving the side stream", unsafe { (api.leave)(h) })?;
        Ok(result)
    }

    /// Records what `f` queues on the GPU instead of running it
    /// (`with torch.cuda.graph(g):`). Tensors `f` creates live in the
    /// graph's own memory pool and are rewritten by each
    /// [`replay`](CudaGraph::replay); nothing in `f` may copy to the CPU
    /// or synchronise. A graph is captured once.
    pub fn capture<T>(&mut self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.captured {
            return Err(Error::Cuda("this CUDA graph was captured already".into()));
        }
        let api = self.api;
        let h = self.handle.as_ptr();
        self.warm_up(|| {
            // SAFETY: a live graph object, its side stream current.
            check("beginning a CUDA graph capture", unsafe {
                (api.capture_begin)(h)
            })?;
            let result = f();
            let ended = check("ending the CUDA graph capture", unsafe {
                (api.capture_end)(h)
            });
            // The step's own error says more than the capture's.
            let value = result?;
            ended.map(|()| value)
        })?
        .inspect(|_| self.captured = true)
    }

    /// Launches the captured work on the current stream
    /// (`g.replay()`).
    pub fn replay(&self) -> Result<()> {
        if !self.captured {
            return Err(Error::Cuda(
                "replaying a CUDA graph that was never captured".into(),
            ));
        }
        // SAFETY: a live, captured graph object.
        check("replaying the CUDA graph", unsafe {
            (self.api.replay)(self.handle.as_ptr())
        })
    }
}

impl Drop for CudaGraph {
    fn drop(&mut self) {
        // SAFETY: the object came from the shim's `new` and is freed once.
        unsafe { (self.api.free)(self.handle.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_graph_needs_a_cuda_device() {
        let err = CudaGraph::new(Device::Cpu).unwrap_err().to_string();
        assert!(err.contains("needs a CUDA device, not Cpu"), "{err}");
    }
}
