//! PyTorch's `.pth` files (`torch.save`'s zip format, and its format from
//! before 1.6), read without running anything, and written back.
//!
//! [`load_pth`] is `torch.load(path, map_location="cpu", weights_only=True)`
//! plus whole pickled modules: it returns the file's Python value as a
//! [`PyValue`] tree — a `state_dict`, a general checkpoint dict, or a module
//! object whose `_parameters` / `_buffers` / `_modules` are plain data.
//! [`save_pth`] is `torch.save(value, path)` for values, containers and
//! tensors; PyTorch reads its files with `torch.load(path)` (whose default is
//! `weights_only=True` since 2.6).
//!
//! The reader is a restricted unpickler: it recognises the names PyTorch's
//! `weights_only` loader allows (`collections.OrderedDict`,
//! `torch._utils._rebuild_tensor_v2`, `torch.FloatStorage`, …) and rebuilds
//! their effect in Rust; a class name such as `__main__.MnistCNNModel` or
//! `torch.nn.modules.conv.Conv2d` becomes an inert [`PyValue::Object`]; any
//! other name (`os.system`, `builtins.eval`, `subprocess.Popen`) is an error
//! naming it. Nothing a file names is ever imported or called. Sizes are
//! checked against the archive before anything is allocated, and a
//! truncated or corrupted file is an error naming the file and the part.
//!
//! `cnn_lab::load_model` and `cnn_lab::read_state_dict` use this for `.pth`
//! files (recognised by content), and `cnn_lab::save_model` writes it for
//! paths ending in `.pth` or `.pt`.
//!
//! ```
//! use cnn_lab::pth::{load_pth, save_pth, PyValue};
//! use cnn_lab::Tensor;
//!
//! let dir = std::env::temp_dir().join(format!("cnn_lab_pth_doc_{}", std::process::id()));
//! let path = dir.join("checkpoint.pth");
//! let weights = vec![("fc.weight".to_string(), Tensor::from_slice(&[1.0f32, 2.0]).view([1, 2]))];
//! let checkpoint = PyValue::dict([
//!     ("epoch", PyValue::from(5)),
//!     ("model_state_dict", PyValue::state_dict(&weights)),
//! ]);
//! save_pth(&path, &checkpoint)?;
//!
//! let back = load_pth(&path)?;
//! assert_eq!(back.get("epoch").and_then(PyValue::as_int), Some(5));
//! let sd = back.get("model_state_dict").and_then(PyValue::state_dict_tensors).unwrap();
//! assert_eq!(sd[0].0, "fc.weight");
//! assert_eq!(sd[0].1.size(), [1, 2]);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), cnn_lab::Error>(())
//! ```

mod archive;
mod globals;
mod legacy;
mod pickle;
mod state;
mod unpickle;
mod value;

use std::io::Read;
use std::path::Path;

pub use state::state_dict_of;
pub use value::PyValue;

use crate::error::{Error, Result};

/// Reads the `.pth` file at `path` (torch.save's zip format) into a
/// [`PyValue`], tensors on the CPU (as `map_location="cpu"`), without
/// running anything the file names.
///
/// PyTorch's format from before 1.6 (`_use_new_zipfile_serialization=False`)
/// is read too. Errors name the file and what is wrong: not a `.pth`, a
/// global that is refused (`os.system`), a truncated archive, a storage whose
/// size does not match.
///
/// ```
/// # use cnn_lab::pth::{load_pth, save_pth, PyValue};
/// let path = std::env::temp_dir().join(format!("cnn_lab_load_pth_{}.pth", std::process::id()));
/// save_pth(&path, &PyValue::from(vec![PyValue::from(1), PyValue::from("two")]))?;
/// let list = load_pth(&path)?;
/// assert_eq!(list.items().unwrap()[1].as_str(), Some("two"));
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn load_pth(path: impl AsRef<Path>) -> Result<PyValue> {
    let path = path.as_ref();
    match sniff(path)? {
        Format::TorchZip => archive::read(path),
        Format::TorchLegacy => legacy::read(path),
        Format::Other => Err(Error::format(
            path,
            "not a PyTorch .pth file (torch.save's zip archive)",
        )),
    }
}

/// Writes `value` to `path` as `torch.save(value, path)` does (zip archive,
/// pickle protocol 2, one record per tensor), atomically: through a
/// temporary file beside `path` and a rename.
///
/// Values, containers and tensors (any device; written as CPU tensors) can
/// be written; [`PyValue::Object`] and [`PyValue::Global`] cannot.
///
/// ```
/// # use cnn_lab::pth::{save_pth, PyValue};
/// # use cnn_lab::Tensor;
/// let path = std::env::temp_dir().join(format!("cnn_lab_save_pth_{}.pth", std::process::id()));
/// let sd = PyValue::state_dict(&[("weight".to_string(), Tensor::ones([2, 2], cnn_lab::tch::kind::FLOAT_CPU))]);
/// save_pth(&path, &sd)?;   // Python: model.load_state_dict(torch.load(path))
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn save_pth(path: impl AsRef<Path>, value: &PyValue) -> Result<()> {
    archive::write(path.as_ref(), value)
}

/// What a weights file is, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// torch.save's zip archive (PyTorch 1.6 and later).
    TorchZip,
    /// torch.save's older format: pickles one after another.
    TorchLegacy,
    /// Anything else (safetensors, for the caller).
    Other,
}

/// Looks at the first bytes of `path`.
pub(crate) fn sniff(path: &Path) -> Result<Format> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    Ok(match &head[..n] {
        [b'P', b'K', 3, 4] | [b'P', b'K', 5, 6] => Format::TorchZip,
        // PROTO 2 then LONG1 10: the magic number the old format opens with.
        [0x80, 2, 0x8a, 10] => Format::TorchLegacy,
        _ => Format::Other,
    })
}
