//! One error type for the whole crate.
//!
//! Every fallible public function returns [`Result`]. Messages name the file or
//! tensor involved and say what was expected and what was found, so that a
//! learner reading a notebook cell's output can act on it.

use std::path::PathBuf;

/// The crate's error type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder that was being read or written.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file exists but its contents are not what was expected.
    #[error("{path}: {message}")]
    Format {
        /// The offending file.
        path: PathBuf,
        /// What was expected and what was found.
        message: String,
    },
    /// A tensor had the wrong shape, kind or device.
    #[error("{0}")]
    Shape(String),
    /// A dataset could not be downloaded or verified.
    #[error("download failed: {0}")]
    Download(String),
    /// Training stopped (e.g. the loss became NaN).
    #[error("training stopped: {0}")]
    Training(String),
    /// A loop was stopped by an interrupt (Jupyter's Stop, Ctrl-C) between
    /// two batches; see [`crate::interrupt`].
    #[error("interrupted {0}")]
    Interrupted(String),
    /// An argument was out of range or otherwise unusable.
    #[error("{0}")]
    InvalidArgument(String),
    /// A CUDA feature is unavailable or failed (e.g. a CUDA graph capture).
    #[error("CUDA: {0}")]
    Cuda(String),
    /// libtorch reported an error.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Format`] for `path`.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// `std::result::Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs `f`, turning a panic inside it (tch's infallible tensor methods panic
/// on shape mismatches with libtorch's message) into an [`Error::Shape`]
/// whose text starts with `context`.
///
/// User-written `forward` passes use tch's chaining style
/// (`xs.apply_t(&self.b1, train)`), which cannot return `Result`; library
/// entry points (`fit`, `summary`, evaluation) call them through this so that
/// a learner sees one readable error instead of a backtrace.
pub fn catch_torch<T>(context: &str, f: impl FnOnce() -> T) -> Result<T> {
    use std::panic::{self, AssertUnwindSafe};
    quiet_hook::install();
    let outcome = {
        let _quiet = quiet_hook::Quiet::new();
        panic::catch_unwind(AssertUnwindSafe(f))
    };
    outcome.map_err(|payload| {
        let text = if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else {
            "unknown panic".to_string()
        };
        Error::Shape(format!("{context}: {}", torch_message(&text)))
    })
}

/// The panic hook that keeps a caught panic quiet: installed once per
/// process, wrapping whatever hook was there, silent only on a thread that
/// is inside [`catch_torch`]. (Swapping the hook around each call would
/// change process-wide state per batch, and two threads doing it at once
/// could leave the silent hook installed for good.)
mod quiet_hook {
    use std::cell::Cell;
    use std::sync::Once;

    thread_local! {
        static DEPTH: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn install() {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if DEPTH.with(Cell::get) == 0 {
                    previous(info);
                }
            }));
        });
    }

    /// Marks this thread as inside `catch_torch` while alive.
    pub(super) struct Quiet;

    impl Quiet {
        pub(super) fn new() -> Quiet {
            DEPTH.with(|d| d.set(d.get() + 1));
            Quiet
        }
    }

    impl Drop for Quiet {
        fn drop(&mut self) {
            DEPTH.with(|d| d.set(d.get() - 1));
        }
    }
}

/// The readable part of a tch panic: tch panics with
/// ``called `Result::unwrap()` on an `Err` value: Torch("<message>\nException raised from …")``,
/// the message Debug-escaped and followed by a C++ backtrace.
fn torch_message(text: &str) -> String {
    let inner = text
        .split_once("Torch(\"")
        .map(|(_, rest)| rest)
        .unwrap_or(text);
    let inner = inner.replace("\\n", "\n").replace("\\\"", "\"");
    let short: Vec<&str> = inner
        .lines()
        .take_while(|l| !l.starts_with("Exception raised from"))
        .collect();
    short.join("\n").trim().trim_end_matches("\")").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_torch_turns_shape_panic_into_error() {
        let a = tch::Tensor::zeros([2, 3], (tch::Kind::Float, tch::Device::Cpu));
        let b = tch::Tensor::zeros([4, 5], (tch::Kind::Float, tch::Device::Cpu));
        let err = catch_torch("forward pass", || a.matmul(&b)).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("forward pass: "), "{text}");
        assert_eq!(
            text,
            "forward pass: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"
        );
    }

    #[test]
    fn catch_torch_passes_values_through() {
        assert_eq!(catch_torch("x", || 41 + 1).unwrap(), 42);
    }
}
