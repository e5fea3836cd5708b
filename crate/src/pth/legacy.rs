//! torch.save's format from before PyTorch 1.6 (still written with
//! `_use_new_zipfile_serialization=False`): pickles one after another —
//! the magic number, the protocol version (1001), a `sys_info` dict, the
//! object (storages as persistent ids), the list of storage keys — then
//! each storage as its element count (int64) and its raw bytes.

use std::collections::HashMap;
use std::path::Path;

use tch::{Kind, Tensor};

use super::{unpickle, PyValue};
use crate::error::{Error, Result};

/// The first pickle: `0x1950a86a20f9469cfc6c` as LONG1, protocol 2.
const MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e";

/// Reads the legacy file at `path` (already known to start like one).
pub(super) fn read(path: &Path) -> Result<PyValue> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    read_bytes(&bytes).map_err(|e| Error::format(path, format!("PyTorch's pre-1.6 format: {e}")))
}

fn read_bytes(bytes: &[u8]) -> std::result::Result<PyValue, String> {
    if !bytes.starts_with(MAGIC) {
        return Err("no magic number at the start".into());
    }
    let mut pos = MAGIC.len();
    let header = |at: &mut usize| {
        let mut none = |_: &str, _, _, _: &str| Err("a storage in a header".to_string());
        let (value, n) = unpickle::unpickle(&bytes[*at..], &mut none)?;
        *at += n;
        Ok::<_, String>(value)
    };
    let protocol = header(&mut pos)?;
    if protocol.as_int() != Some(1001) {
        return Err(format!("protocol version {protocol:?}, not 1001"));
    }
    let sys_info = header(&mut pos)?;
    if sys_info.get("little_endian").and_then(PyValue::as_bool) == Some(false) {
        return Err("written on a big-endian machine; only little-endian files are read".into());
    }

    // First pass over the object: which storages, of what kind and size
    // (each bounded by the file's length, so the placeholders are too).
    let object_at = pos;
    let mut declared: HashMap<String, (Kind, u64)> = HashMap::new();
    let mut budget = bytes.len() as u64;
    let mut probe = |key: &str, kind: Kind, numel: u64, _: &str| {
        let size = numel.saturating_mul(kind.elt_size_in_bytes() as u64);
        if let Some(&(k, n)) = declared.get(key) {
            if (k, n) != (kind, numel) {
                return Err(format!("storage {key} is used with two sizes or kinds"));
            }
        } else {
            budget = budget
                .checked_sub(size)
                .ok_or_else(|| format!("storage {key} declares more bytes than the file holds"))?;
            declared.insert(key.to_string(), (kind, numel));
        }
        Tensor::f_empty([numel as i64], (kind, tch::Device::Cpu)).map_err(|e| e.to_string())
    };
    let (_, n) = unpickle::unpickle(&bytes[object_at..], &mut probe)?;
    pos += n;

    let keys = header(&mut pos)?;
    let keys = keys.items().ok_or("the storage keys are not a list")?;
    let mut storages: HashMap<String, Tensor> = HashMap::new();
    for key in keys {
        let key = key.as_str().ok_or("a storage key is not a string")?;
        let (kind, numel) = *declared
            .get(key)
            .ok_or_else(|| format!("storage {key} is listed but not used"))?;
        let count = bytes
            .get(pos..pos + 8)
            .ok_or_else(|| format!("truncated before storage {key}"))?;
        let count = u64::from_le_bytes(count.try_into().expect("8 bytes"));
        if count != numel {
            return Err(format!(
                "storage {key} holds {count} elements where the pickle declares {numel}"
            ));
        }
        pos += 8;
        let size = (numel * kind.elt_size_in_bytes() as u64) as usize;
        let data = bytes
            .get(pos..pos.saturating_add(size))
            .ok_or_else(|| format!("truncated in storage {key}"))?;
        pos += size;
        let t = Tensor::f_from_data_size(data, &[numel as i64], kind)
            .map_err(|e| format!("storage {key}: {e}"))?;
        storages.insert(key.to_string(), t);
    }

    let mut load = |key: &str, _: Kind, _: u64, _: &str| {
        storages
            .get(key)
            .map(Tensor::shallow_clone)
            .ok_or_else(|| format!("storage {key} is used but not stored"))
    };
    let (value, _) = unpickle::unpickle(&bytes[object_at..], &mut load)?;
    Ok(value)
}
