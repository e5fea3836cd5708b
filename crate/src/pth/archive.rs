//! torch.save's zip archive: `<name>/data.pkl`, `<name>/data/<key>` (one
//! entry per storage, raw little-endian elements), `<name>/byteorder`,
//! `<name>/version` and friends.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use tch::{Kind, Tensor};
use zip::write::FileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{pickle, unpickle, PyValue};
use crate::error::{Error, Result};
use crate::files::write_atomic;

/// Largest `data.pkl` read (it holds names and numbers, not tensor data).
const MAX_PICKLE: u64 = 1 << 30;
/// Deflate cannot expand data more than about 1032 times.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// Reads the archive at `path` (already known to start like a zip file).
pub(super) fn read(path: &Path) -> Result<PyValue> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let bad = |message: String| Error::format(path, message);
    let mut zip = ZipArchive::new(file).map_err(|e| {
        bad(format!(
            "not a readable zip archive (torch.save's format): {e}"
        ))
    })?;

    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    // TorchScript archives hold a data.pkl too, of `__torch__` objects.
    if names
        .iter()
        .any(|n| n.ends_with("/constants.pkl") || n.contains("/code/"))
    {
        return Err(bad(
            "a TorchScript archive (torch.jit.save), not torch.save's: save the weights with \
             torch.save(model.state_dict(), path) in Python and load that"
                .into(),
        ));
    }
    let Some(prefix) = names
        .iter()
        .filter_map(|n| n.strip_suffix("/data.pkl"))
        .find(|p| !p.is_empty() && !p.contains('/'))
        .map(str::to_string)
    else {
        return Err(bad(
            "a zip archive without <name>/data.pkl: not written by torch.save".into(),
        ));
    };

    if let Ok(mut entry) = zip.by_name(&format!("{prefix}/byteorder")) {
        let mut order = Vec::new();
        (&mut entry)
            .take(16)
            .read_to_end(&mut order)
            .map_err(|e| bad(format!("{prefix}/byteorder: {e}")))?;
        if order != b"little" {
            return Err(bad(format!(
                "{prefix}/byteorder is {:?}; only little-endian files are read",
                String::from_utf8_lossy(&order)
            )));
        }
    }

    let pickle_name = format!("{prefix}/data.pkl");
    let data = read_entry(&mut zip, &pickle_name, None, file_len)
        .map_err(|e| bad(format!("{pickle_name}: {e}")))?;

    let mut storages: HashMap<String, (Kind, u64, Tensor)> = HashMap::new();
    let mut load = |key: &str, kind: Kind, numel: u64, _location: &str| {
        if let Some((k, n, t)) = storages.get(key) {
            if (*k, *n) != (kind, numel) {
                return Err(format!(
                    "storage {key} is used as {numel} {kind:?} and as {n} {k:?} elements"
                ));
            }
            return Ok(t.shallow_clone());
        }
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("a storage key {key:?} that is not a plain name"));
        }
        let name = format!("{prefix}/data/{key}");
        let bytes = numel
            .checked_mul(kind.elt_size_in_bytes() as u64)
            .ok_or_else(|| format!("storage {key}: {numel} elements overflow"))?;
        let data = read_entry(&mut zip, &name, Some(bytes), file_len)
            .map_err(|e| format!("{name}: {e}"))?;
        let numel_i64 = i64::try_from(numel).map_err(|_| format!("{name}: too large"))?;
        let t = Tensor::f_from_data_size(&data, &[numel_i64], kind)
            .map_err(|e| format!("{name}: {e}"))?;
        storages.insert(key.to_string(), (kind, numel, t.shallow_clone()));
        Ok(t)
    };
    let (value, _) =
        unpickle::unpickle(&data, &mut load).map_err(|e| bad(format!("{pickle_name}: {e}")))?;
    Ok(value)
}

/// The bytes of entry `name`, exactly `expected` long when given; sizes are
/// checked against the archive before anything is allocated.
fn read_entry(
    zip: &mut ZipArchive<File>,
    name: &str,
    expected: Option<u64>,
    file_len: u64,
) -> std::result::Result<Vec<u8>, String> {
    let entry = zip.by_name(name).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => "missing from the archive".to_string(),
        e => e.to_string(),
    })?;
    let size = entry.size();
    let packed = entry.compressed_size();
    let plausible = match entry.compression() {
        CompressionMethod::Stored => size == packed && packed <= file_len,
        CompressionMethod::Deflated => {
            packed <= file_len && size <= packed.saturating_mul(MAX_DEFLATE_RATIO) + 64
        }
        other => return Err(format!("compressed with {other}, which is not read")),
    };
    if !plausible {
        return Err(format!(
            "declares {size} bytes in {packed} of a {file_len}-byte file: corrupt"
        ));
    }
    match expected {
        Some(n) if n != size => {
            return Err(format!(
                "holds {size} bytes where the pickle declares {n}: truncated or corrupt"
            ))
        }
        None if size > MAX_PICKLE => return Err(format!("{size} bytes is too large a pickle")),
        _ => {}
    }
    let mut bytes = Vec::with_capacity(size.min(1 << 26) as usize);
    entry
        .take(size + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("unreadable ({e})"))?;
    if bytes.len() as u64 != size {
        return Err(format!(
            "holds {} bytes where the archive declares {size}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// Writes `value` as torch.save does, atomically.
pub(super) fn write(path: &Path, value: &PyValue) -> Result<()> {
    let (data, storages) =
        pickle::pickle(value).map_err(|e| Error::format(path, format!("writing: {e}")))?;
    let bytes = zip_archive(&data, &storages).map_err(|e| Error::format(path, e))?;
    write_atomic(path, &bytes)
}

fn zip_archive(
    pickle: &[u8],
    storages: &[pickle::Storage],
) -> std::result::Result<Vec<u8>, String> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = |len: usize| {
        FileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default())
            .large_file(len as u64 >= u32::MAX as u64)
    };
    let entry = |zip: &mut ZipWriter<_>, name: &str, bytes: &[u8]| {
        // torch aligns every record to 64 bytes (so that it can mmap them).
        zip.start_file_aligned(format!("archive/{name}"), options(bytes.len()), 64)
            .map_err(|e| format!("zip: {e}"))?;
        zip.write_all(bytes).map_err(|e| format!("zip: {e}"))
    };
    entry(&mut zip, "data.pkl", pickle)?;
    entry(&mut zip, ".format_version", b"1")?;
    entry(&mut zip, ".storage_alignment", b"64")?;
    entry(&mut zip, "byteorder", b"little")?;
    for (i, s) in storages.iter().enumerate() {
        entry(&mut zip, &format!("data/{i}"), &s.bytes)?;
    }
    entry(&mut zip, "version", b"3\n")?;
    let out = zip.finish().map_err(|e| format!("zip: {e}"))?;
    Ok(out.into_inner())
}
