//! Writing a [`PyValue`] as the pickle `torch.save` writes (protocol 2,
//! tensors as `_rebuild_tensor_v2` over persistent storage ids), which
//! `torch.load(path, weights_only=True)` accepts.

use tch::{Device, Tensor};

use super::globals::storage_name;
use super::PyValue;

/// A tensor's bytes, to be stored as `data/<index>`.
pub(super) struct Storage {
    pub(super) bytes: Vec<u8>,
}

/// The pickle of `value` and the storages its tensors refer to, in order.
pub(super) fn pickle(value: &PyValue) -> Result<(Vec<u8>, Vec<Storage>), String> {
    let mut w = Writer {
        out: vec![0x80, 2],
        storages: Vec::new(),
    };
    w.value(value, 0)?;
    w.out.push(b'.');
    Ok((w.out, w.storages))
}

const MAX_DEPTH: usize = 512;

struct Writer {
    out: Vec<u8>,
    storages: Vec<Storage>,
}

impl Writer {
    fn global(&mut self, module: &str, name: &str) {
        self.out.push(b'c');
        self.out.extend_from_slice(module.as_bytes());
        self.out.push(b'\n');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'\n');
    }

    fn int(&mut self, v: i64) {
        if (0..256).contains(&v) {
            self.out.extend([b'K', v as u8]);
        } else if (0..65536).contains(&v) {
            self.out.push(b'M');
            self.out.extend((v as u16).to_le_bytes());
        } else if let Ok(v) = i32::try_from(v) {
            self.out.push(b'J');
            self.out.extend(v.to_le_bytes());
        } else {
            // LONG1: the shortest little-endian two's complement.
            let bytes = v.to_le_bytes();
            let mut n = 8;
            while n > 1 {
                let top = bytes[n - 1];
                let next_sign = bytes[n - 2] & 0x80;
                if (top == 0 && next_sign == 0) || (top == 0xff && next_sign != 0) {
                    n -= 1;
                } else {
                    break;
                }
            }
            self.out.extend([0x8a, n as u8]);
            self.out.extend_from_slice(&bytes[..n]);
        }
    }

    fn str(&mut self, s: &str) {
        self.out.push(b'X');
        self.out.extend((s.len() as u32).to_le_bytes());
        self.out.extend_from_slice(s.as_bytes());
    }

    /// `(a, b, …)` of already-written items started at MARK.
    fn tuple_of(&mut self, items: &[PyValue], depth: usize) -> Result<(), String> {
        match items.len() {
            0 => self.out.push(b')'),
            n @ 1..=3 => {
                for item in items {
                    self.value(item, depth + 1)?;
                }
                self.out.push(0x84 + n as u8);
            }
            _ => {
                self.out.push(b'(');
                for item in items {
                    self.value(item, depth + 1)?;
                }
                self.out.push(b't');
            }
        }
        Ok(())
    }

    fn ints_tuple(&mut self, items: &[i64]) {
        let values: Vec<PyValue> = items.iter().map(|&i| PyValue::Int(i)).collect();
        self.tuple_of(&values, 0).expect("ints always write");
    }

    /// `[a, b, …]`: EMPTY_LIST, then MARK … APPENDS.
    fn list(&mut self, items: &[PyValue], depth: usize) -> Result<(), String> {
        self.out.push(b']');
        if !items.is_empty() {
            self.out.push(b'(');
            for item in items {
                self.value(item, depth + 1)?;
            }
            self.out.push(b'e');
        }
        Ok(())
    }

    fn items(&mut self, entries: &[(PyValue, PyValue)], depth: usize) -> Result<(), String> {
        if entries.is_empty() {
            return Ok(());
        }
        self.out.push(b'(');
        for (k, v) in entries {
            self.value(k, depth + 1)?;
            self.value(v, depth + 1)?;
        }
        self.out.push(b'u');
        Ok(())
    }

    fn value(&mut self, value: &PyValue, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("values nested deeper than {MAX_DEPTH} levels"));
        }
        match value {
            PyValue::None => self.out.push(b'N'),
            PyValue::Bool(b) => self.out.push(if *b { 0x88 } else { 0x89 }),
            PyValue::Int(i) => self.int(*i),
            PyValue::Float(f) => {
                self.out.push(b'G');
                self.out.extend(f.to_be_bytes());
            }
            PyValue::Str(s) => self.str(s),
            PyValue::Bytes(b) => {
                // What Python 3 writes for bytes at protocol 2.
                if b.is_empty() {
                    self.global("__builtin__", "bytes");
                    self.out.extend([b')', b'R']);
                } else {
                    self.global("_codecs", "encode");
                    let text: String = b.iter().map(|&c| c as char).collect();
                    self.str(&text);
                    self.str("latin1");
                    self.out.extend([0x86, b'R']);
                }
            }
            PyValue::Tuple(items) => self.tuple_of(items, depth)?,
            PyValue::List(items) => self.list(items, depth)?,
            PyValue::Dict(entries) => {
                self.out.push(b'}');
                self.items(entries, depth)?;
            }
            PyValue::OrderedDict(entries) => {
                self.global("collections", "OrderedDict");
                self.out.extend([b')', b'R']);
                self.items(entries, depth)?;
            }
            PyValue::Set(items) => {
                self.global("__builtin__", "set");
                self.list(items, depth)?;
                self.out.extend([0x85, b'R']);
            }
            PyValue::Tensor(t) => self.tensor(t)?,
            PyValue::Object { class, .. } | PyValue::Global(class) => {
                return Err(format!(
                    "cannot write the Python object {class}: only values, containers and \
                     tensors are written"
                ))
            }
        }
        Ok(())
    }

    /// `_rebuild_tensor_v2(persistent storage, 0, size, stride, False,
    /// OrderedDict())` over a contiguous CPU copy, as torch.save writes it.
    fn tensor(&mut self, t: &Tensor) -> Result<(), String> {
        let t = t.detach().to_device(Device::Cpu).contiguous();
        let kind = t.kind();
        let class =
            storage_name(kind).ok_or_else(|| format!("cannot write a tensor of kind {kind:?}"))?;
        let numel = t.numel();
        let mut bytes = vec![0u8; numel * kind.elt_size_in_bytes()];
        t.f_copy_data_u8(&mut bytes, numel)
            .map_err(|e| format!("copying a tensor: {e}"))?;
        let key = self.storages.len();
        self.storages.push(Storage { bytes });

        self.global("torch._utils", "_rebuild_tensor_v2");
        self.out.push(b'(');
        self.out.push(b'(');
        self.str("storage");
        self.global("torch", class);
        self.str(&key.to_string());
        self.str("cpu");
        self.int(numel as i64);
        self.out.extend([b't', b'Q']);
        self.int(0);
        self.ints_tuple(&t.size());
        self.ints_tuple(&t.stride());
        self.out.push(0x89);
        self.global("collections", "OrderedDict");
        self.out.extend([b')', b'R', b't', b'R']);
        Ok(())
    }
}
