//! Saving and loading weights as PyTorch `state_dict`s, in safetensors files
//! or PyTorch's own `.pth` files (lecture: `torch.save(model, path)`,
//! `torch.load(path)`).
//!
//! Reading goes by content, not by the file's name: a zip archive is read
//! as `torch.save`'s `.pth` ([`crate::pth`]: a `state_dict`, a whole pickled
//! module or a general checkpoint dict), anything else as safetensors.
//! Writing goes by the name: `.pth` / `.pt` is written as
//! `torch.save(model.state_dict(), path)`, anything else as safetensors.
//!
//! Keys and shapes are exactly PyTorch's `model.state_dict()` for the same
//! structure ([`ModuleExt::named_tensors`]), BatchNorm's `running_mean`,
//! `running_var` and `num_batches_tracked` (int64) included, so a file written
//! here loads in PyTorch with
//! `model.load_state_dict(safetensors.torch.load_file(path))` and one written
//! by `safetensors.torch.save_file(model.state_dict(), path)` loads here.
//!
//! Files are written to a temporary file in the same folder and renamed over
//! the target: a crash during a save leaves the previous file intact.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, View};
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::files::write_atomic;
use crate::nn::ModuleExt;
use crate::pth::{self, Format, PyValue};
use crate::pyfmt::torch_size;

/// Writes `model`'s `state_dict` to `path`, atomically: as
/// `torch.save(model.state_dict(), path)` when `path` ends in `.pth` or
/// `.pt` (PyTorch: `model.load_state_dict(torch.load(path))`), as safetensors
/// otherwise.
///
/// ```
/// # use cnn_lab::*;
/// struct Line { w: Tensor }
/// impl Module for Line {
///     fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor { xs * &self.w }
///     fn own_tensors(&self) -> Vec<NamedTensor> {
///         vec![NamedTensor { name: "weight".into(), tensor: self.w.shallow_clone(), trainable: true }]
///     }
/// }
/// let dir = std::env::temp_dir().join(format!("cnn_lab_doc_{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("line.safetensors");
/// let a = Line { w: Tensor::from_slice(&[3.0f32]) };
/// save_model(&a, &path).unwrap();
/// let b = Line { w: Tensor::from_slice(&[0.0f32]) };
/// load_model(&b, &path).unwrap();
/// assert_eq!(b.w.double_value(&[0]), 3.0);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn save_model<M: ModuleExt + ?Sized>(model: &M, path: impl AsRef<Path>) -> Result<()> {
    save_state_dict(&model.state_dict(), path)
}

/// Loads the `state_dict` at `path` into `model`, strictly (see
/// [`load_state_dict`]), onto the model's current device (tensors saved on a
/// GPU load on a CPU model and the other way round, as `map_location`).
///
/// `path` may be a safetensors file or a PyTorch `.pth` of any kind
/// [`read_state_dict`] reads. For a checkpoint dict holding several state
/// dicts, name the one with [`load_model_entry`].
pub fn load_model<M: ModuleExt + ?Sized>(model: &M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let tensors = read_state_dict(path)?;
    load_into(model, path, &tensors)
}

/// [`load_model`] from the entry `key` of a checkpoint dict (PyTorch's
/// `model.load_state_dict(torch.load(path)[key])`).
///
/// ```
/// # use cnn_lab::*;
/// # use cnn_lab::pth::{save_pth, PyValue};
/// let model = Linear::new(2, 1);
/// let path = std::env::temp_dir().join(format!("cnn_lab_entry_{}.pth", std::process::id()));
/// let checkpoint = PyValue::dict([
///     ("epoch", PyValue::from(1)),
///     ("model", PyValue::state_dict(&model.state_dict())),
///     ("ema", PyValue::state_dict(&model.state_dict())),
/// ]);
/// save_pth(&path, &checkpoint)?;
/// load_model_entry(&model, &path, "ema")?;
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn load_model_entry<M: ModuleExt + ?Sized>(
    model: &M,
    path: impl AsRef<Path>,
    key: &str,
) -> Result<()> {
    let path = path.as_ref();
    let tensors = read_state_dict_entry(path, key)?;
    load_into(model, path, &tensors)
}

fn load_into<M: ModuleExt + ?Sized>(
    model: &M,
    path: &Path,
    tensors: &[(String, Tensor)],
) -> Result<()> {
    load_state_dict(model, tensors).map_err(|e| match e {
        Error::Shape(message) => Error::format(path, message),
        other => other,
    })
}

/// Writes named tensors (from any device) to `path`, through a temporary
/// file in the same folder and a rename: as `torch.save(state_dict, path)`
/// when `path` ends in `.pth` or `.pt`, as safetensors otherwise.
pub fn save_state_dict(tensors: &[(String, Tensor)], path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let torch = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pth") || e.eq_ignore_ascii_case("pt"));
    if torch {
        return pth::save_pth(path, &PyValue::state_dict(tensors));
    }
    let bytes = serialize(tensors)?;
    write_atomic(path, &bytes)
}

/// Reads every tensor of the `state_dict` at `path` (onto the CPU), in the
/// file's order. The format is taken from the content:
/// - safetensors;
/// - a `.pth` from `torch.save(model.state_dict(), p)`;
/// - a `.pth` from `torch.save(model, p)` (a whole module: names as its
///   `state_dict()` gives them, non-persistent buffers skipped);
/// - a `.pth` general checkpoint dict (`{"epoch": …, "model_state_dict": …,
///   …}`): its only state dict, else the one under `model_state_dict`,
///   `state_dict` or `model` (see [`read_state_dict_entry`] to name it);
/// - any of these in PyTorch's format from before 1.6
///   (`_use_new_zipfile_serialization=False`).
///
/// Nothing in a `.pth` is run: see [`crate::pth`].
pub fn read_state_dict(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>> {
    read_entry(path.as_ref(), None)
}

/// [`read_state_dict`] of the entry `key` of a `.pth` checkpoint dict.
///
/// ```
/// # use cnn_lab::*;
/// # use cnn_lab::pth::{save_pth, PyValue};
/// let path = std::env::temp_dir().join(format!("cnn_lab_read_entry_{}.pth", std::process::id()));
/// let sd = vec![("w".to_string(), Tensor::from_slice(&[1.0f32]))];
/// save_pth(&path, &PyValue::dict([("model", PyValue::state_dict(&sd))]))?;
/// assert_eq!(read_state_dict_entry(&path, "model")?[0].0, "w");
/// assert!(read_state_dict_entry(&path, "other").is_err());
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn read_state_dict_entry(path: impl AsRef<Path>, key: &str) -> Result<Vec<(String, Tensor)>> {
    read_entry(path.as_ref(), Some(key))
}

fn read_entry(path: &Path, key: Option<&str>) -> Result<Vec<(String, Tensor)>> {
    match pth::sniff(path)? {
        Format::Other if key.is_none() => read_safetensors(path),
        Format::Other => Err(Error::format(
            path,
            format!("a safetensors file has no entry {key:?}: it is one state_dict"),
        )),
        _ => {
            let value = pth::load_pth(path)?;
            pth::state_dict_of(&value, key).map_err(|e| Error::format(path, e))
        }
    }
}

fn read_safetensors(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::format(path, format!("not a safetensors file: {e}")))?;
    let mut out = Vec::new();
    for (name, view) in file.tensors() {
        let kind = kind_of(view.dtype()).ok_or_else(|| {
            Error::format(
                path,
                format!("tensor {name}: unsupported dtype {:?}", view.dtype()),
            )
        })?;
        let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        let tensor = Tensor::f_from_data_size(view.data(), &shape, kind)
            .map_err(|e| Error::format(path, format!("tensor {name}: {e}")))?;
        out.push((name, tensor));
    }
    Ok(out)
}

/// PyTorch's `model.load_state_dict(state_dict, strict=True)`: every key of
/// the model must be present with the same shape and no other key may be.
///
/// On a mismatch nothing is copied and the error lists every missing key,
/// unexpected key and size mismatch, in PyTorch's wording. Otherwise values
/// are copied without gradient tracking into the model's existing tensors,
/// which keeps their device and keeps optimizers built over them valid.
pub fn load_state_dict<M: ModuleExt + ?Sized>(
    model: &M,
    state_dict: &[(String, Tensor)],
) -> Result<()> {
    let own = model.state_dict();
    let given: HashMap<&str, &Tensor> = state_dict.iter().map(|(k, t)| (k.as_str(), t)).collect();
    let own_names: HashSet<&str> = own.iter().map(|(k, _)| k.as_str()).collect();

    let missing: Vec<&str> = own
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !given.contains_key(k))
        .collect();
    let unexpected: Vec<&str> = state_dict
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !own_names.contains(k))
        .collect();
    let mismatched: Vec<String> = own
        .iter()
        .filter_map(|(k, t)| {
            let src = given.get(k.as_str())?;
            (src.size() != t.size()).then(|| {
                format!(
                    "size mismatch for {k}: copying a param with shape {} from checkpoint, \
                     the shape in current model is {}.",
                    torch_size(&src.size()),
                    torch_size(&t.size())
                )
            })
        })
        .collect();

    if !missing.is_empty() || !unexpected.is_empty() || !mismatched.is_empty() {
        let mut lines = vec![format!(
            "Error(s) in loading state_dict for {}:",
            model.type_name()
        )];
        let quote = |keys: &[&str]| {
            keys.iter()
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !missing.is_empty() {
            lines.push(format!(
                "\tMissing key(s) in state_dict: {}. ",
                quote(&missing)
            ));
        }
        if !unexpected.is_empty() {
            lines.push(format!(
                "\tUnexpected key(s) in state_dict: {}. ",
                quote(&unexpected)
            ));
        }
        lines.extend(mismatched.into_iter().map(|m| format!("\t{m}")));
        return Err(Error::Shape(lines.join("\n")));
    }

    let _guard = tch::no_grad_guard();
    for (name, mut dst) in own {
        dst.f_copy_(given[name.as_str()])
            .map_err(|e| Error::Shape(format!("copying {name}: {e}")))?;
    }
    Ok(())
}

/// safetensors' name for a tch kind (the kinds a `state_dict` holds).
fn dtype_of(kind: Kind) -> Option<Dtype> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, d)| *d)
}

fn kind_of(dtype: Dtype) -> Option<Kind> {
    KINDS.iter().find(|(_, d)| *d == dtype).map(|(k, _)| *k)
}

const KINDS: [(Kind, Dtype); 10] = [
    (Kind::Bool, Dtype::BOOL),
    (Kind::Uint8, Dtype::U8),
    (Kind::Int8, Dtype::I8),
    (Kind::Int16, Dtype::I16),
    (Kind::Int, Dtype::I32),
    (Kind::Int64, Dtype::I64),
    (Kind::BFloat16, Dtype::BF16),
    (Kind::Half, Dtype::F16),
    (Kind::Float, Dtype::F32),
    (Kind::Double, Dtype::F64),
];

/// One tensor's bytes, copied to the host, for safetensors' serializer.
struct HostTensor {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &HostTensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        (&self.data[..]).into()
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn serialize(tensors: &[(String, Tensor)]) -> Result<Vec<u8>> {
    let mut host = Vec::with_capacity(tensors.len());
    for (name, tensor) in tensors {
        let t = tensor.detach().to_device(Device::Cpu).contiguous();
        let dtype = dtype_of(t.kind()).ok_or_else(|| {
            Error::Shape(format!(
                "cannot save tensor {name}: unsupported kind {:?}",
                t.kind()
            ))
        })?;
        let numel = t.numel();
        let mut data = vec![0u8; numel * t.kind().elt_size_in_bytes()];
        t.f_copy_data_u8(&mut data, numel)?;
        let shape = t.size().iter().map(|&d| d as usize).collect();
        host.push((name.as_str(), HostTensor { dtype, shape, data }));
    }
    let views = host.iter().map(|(n, h)| (*n, h));
    safetensors::tensor::serialize(views, &None)
        .map_err(|e| Error::InvalidArgument(format!("safetensors: {e}")))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cnn_lab_ckpt_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn crash_between_temp_write_and_rename_keeps_previous_file() {
        let dir = scratch("crash");
        let path = dir.join("best.safetensors");
        let old = vec![("w".to_string(), Tensor::from_slice(&[1.0f32, 2.0]))];
        save_state_dict(&old, &path).unwrap();

        let new = vec![("w".to_string(), Tensor::from_slice(&[9.0f32, 9.0]))];
        let bytes = serialize(&new).unwrap();
        let err = crate::files::write_atomic_with(&path, &bytes, |tmp| {
            // A process killed here has written the new file completely, but
            // the target still is the old one.
            assert!(tmp.exists());
            Err(Error::Training("killed".into()))
        })
        .unwrap_err();
        assert!(err.to_string().contains("killed"));

        let back = read_state_dict(&path).unwrap();
        assert_eq!(Vec::<f32>::try_from(&back[0].1).unwrap(), vec![1.0, 2.0]);
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary file removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
