//! Forward hooks: PyTorch's `register_forward_pre_hook` and
//! `register_forward_hook`, the one mechanism [`summary`](super::summary)
//! uses to see each layer's output, as torchinfo does.
//!
//! A hook lives in the module it watches (a [`ForwardHooks`] field), not in a
//! global: in evcxr every cell links its own copy of this crate, and a layer
//! built in an earlier cell runs that cell's copy of its `forward_t`; only
//! state carried by the layer itself is seen by every copy.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tch::Tensor;

use super::module::Module;

/// Something called around a module's forward pass.
pub trait ForwardHook: Send + Sync {
    /// Before the forward computation (PyTorch's forward pre-hook).
    fn before(&self, module: &dyn Module);
    /// After it, with its output (PyTorch's forward hook).
    fn after(&self, module: &dyn Module, output: &Tensor);
}

/// The hooks registered on one module (PyTorch's `_forward_hooks`). Empty
/// unless something like [`summary`](super::summary) is watching.
#[derive(Default)]
pub struct ForwardHooks {
    hooks: Mutex<Vec<(u64, Arc<dyn ForwardHook>)>>,
    /// The count of hooks, so an unwatched forward pass takes no lock.
    count: AtomicU64,
}

impl std::fmt::Debug for ForwardHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ForwardHooks({})", self.count.load(Ordering::Relaxed))
    }
}

/// Removes its hook when dropped (PyTorch's `RemovableHandle`).
#[must_use = "the hook is removed when the handle is dropped"]
pub struct HookHandle<'a> {
    hooks: &'a ForwardHooks,
    id: u64,
}

impl Drop for HookHandle<'_> {
    fn drop(&mut self) {
        let mut hooks = self.hooks.locked();
        hooks.retain(|(id, _)| *id != self.id);
        self.hooks
            .count
            .store(hooks.len() as u64, Ordering::Release);
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl ForwardHooks {
    /// Calls `hook` around every forward pass of the module that owns these
    /// hooks until the returned handle is dropped.
    pub fn register(&self, hook: Arc<dyn ForwardHook>) -> HookHandle<'_> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let mut hooks = self.locked();
        hooks.push((id, hook));
        self.count.store(hooks.len() as u64, Ordering::Release);
        HookHandle { hooks: self, id }
    }

    /// Runs `forward` (the body of `module`'s forward pass) between the
    /// registered hooks.
    pub fn run(&self, module: &dyn Module, forward: impl FnOnce() -> Tensor) -> Tensor {
        if self.count.load(Ordering::Acquire) == 0 {
            return forward();
        }
        // A copy, so a hook may register or remove hooks without deadlock.
        let hooks: Vec<Arc<dyn ForwardHook>> =
            self.locked().iter().map(|(_, h)| h.clone()).collect();
        for hook in &hooks {
            hook.before(module);
        }
        let output = forward();
        for hook in &hooks {
            hook.after(module, &output);
        }
        output
    }

    // A hook that panicked inside `before`/`after` runs outside the lock,
    // so a poisoned lock still holds a consistent list.
    fn locked(&self) -> MutexGuard<'_, Vec<(u64, Arc<dyn ForwardHook>)>> {
        self.hooks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs a module's forward computation `f` through the module's own hooks
/// ([`Module::forward_hooks`]); every built-in layer's `forward_t` does. A
/// block of your own does the same to get its own row, with its output
/// shape, in [`summary`](super::summary) (without it the block is listed
/// the way torchinfo lists a container it never saw called: `--` for the
/// shape).
///
/// ```
/// use cnn_lab::*;
///
/// struct ConvBlock {
///     conv: Conv2d,
///     bn: BatchNorm2d,
///     hooks: ForwardHooks,
/// }
///
/// impl Module for ConvBlock {
///     fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
///         record_forward(self, || xs.apply_t(&self.conv, train).apply_t(&self.bn, train).relu())
///     }
///     fn children(&self) -> Vec<(String, &dyn Module)> {
///         vec![("conv".into(), &self.conv), ("bn".into(), &self.bn)]
///     }
///     fn forward_hooks(&self) -> Option<&ForwardHooks> {
///         Some(&self.hooks)
///     }
/// }
///
/// struct Net {
///     block: ConvBlock,
/// }
///
/// impl Module for Net {
///     fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
///         self.block.forward_t(xs, train)
///     }
///     fn children(&self) -> Vec<(String, &dyn Module)> {
///         vec![("block".into(), &self.block)]
///     }
/// }
///
/// let block = ConvBlock { conv: Conv2d::new(1, 4, 3).padding(1), bn: BatchNorm2d::new(4), hooks: ForwardHooks::default() };
/// let s = summary(&Net { block }, &[2, 1, 8, 8])?;
/// assert_eq!(s.rows()[1].title(), "ConvBlock: 1-1");
/// assert_eq!(s.rows()[1].output_shape, [2, 4, 8, 8]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn record_forward<M: Module>(module: &M, f: impl FnOnce() -> Tensor) -> Tensor {
    match module.forward_hooks() {
        Some(hooks) => hooks.run(module, f),
        None => f(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tch::{Device, Kind};

    use super::*;
    use crate::nn::ReLU;

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl ForwardHook for Log {
        fn before(&self, module: &dyn Module) {
            self.0
                .lock()
                .unwrap()
                .push(format!("before {}", module.type_name()));
        }
        fn after(&self, module: &dyn Module, output: &Tensor) {
            let line = format!("after {} {:?}", module.type_name(), output.size());
            self.0.lock().unwrap().push(line);
        }
    }

    #[test]
    fn a_hook_sees_each_forward_pass_until_its_handle_is_dropped() {
        let relu = ReLU::new();
        let log = Arc::new(Log::default());
        let x = Tensor::zeros([2, 3], (Kind::Float, Device::Cpu));
        {
            let _handle = relu.forward_hooks().unwrap().register(log.clone());
            let _ = relu.forward_t(&x, false);
        }
        let _ = relu.forward_t(&x, false);
        assert_eq!(*log.0.lock().unwrap(), ["before ReLU", "after ReLU [2, 3]"]);
    }
}
