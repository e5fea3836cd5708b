//! A restricted unpickler for `data.pkl`: it rebuilds values, tensors and
//! inert module objects and never looks up or runs anything a file names.
//!
//! Values live in an arena (`Vec<Node>`) and the stack and memo hold indices,
//! so that a container filled after it was memoized is seen filled wherever
//! the memo hands it out (as in Python), and dropping deep or cyclic input
//! never recurses. The arena grows by at most one node per opcode, so memory
//! is bounded by the pickle's length; the final conversion to [`PyValue`] is
//! bounded in depth and in size.

use std::cell::Cell;
use std::collections::HashMap;

use tch::{Kind, Tensor};

use super::globals::{self, full_name};
use super::PyValue;

mod convert;
mod rebuild;
mod stack;
#[cfg(test)]
mod tests;

type PResult<T> = Result<T, String>;

/// Where tensors' bytes come from: `(key, element kind, element count,
/// location)` of a persistent id to a 1-D CPU tensor of that storage.
pub(super) type StorageLoader<'a> = dyn FnMut(&str, Kind, u64, &str) -> PResult<Tensor> + 'a;

/// Deepest nesting the converted tree may have.
const MAX_DEPTH: usize = 512;
/// Most nodes (plus string bytes / 16) the converted tree may have: a file
/// whose memo shares one list a million times does not expand past this.
const MAX_BUDGET: usize = 1 << 22;
/// Most dimensions of a tensor.
const MAX_DIMS: usize = 64;

#[derive(Clone, Copy, Debug)]
enum Val {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Ref(usize),
}

enum Node {
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Val>),
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
    OrderedDict(Vec<(Val, Val)>),
    Set(Vec<Val>),
    Global(String),
    Object {
        class: String,
        args: Vec<Val>,
        state: Option<Val>,
    },
    Storage {
        kind: Kind,
        numel: u64,
        data: Tensor,
    },
    Tensor(Tensor),
}

impl Node {
    fn what(&self) -> &'static str {
        match self {
            Node::Str(_) => "str",
            Node::Bytes(_) => "bytes",
            Node::Tuple(_) => "tuple",
            Node::List(_) => "list",
            Node::Dict(_) => "dict",
            Node::OrderedDict(_) => "OrderedDict",
            Node::Set(_) => "set",
            Node::Global(_) => "global",
            Node::Object { .. } => "object",
            Node::Storage { .. } => "storage",
            Node::Tensor(_) => "tensor",
        }
    }
}

struct Unpickler<'d, 'l, 'f> {
    data: &'d [u8],
    pos: usize,
    arena: Vec<Node>,
    stack: Vec<Val>,
    marks: Vec<usize>,
    memo: HashMap<u32, Val>,
    /// Items still allowed to be copied out of shared containers (REDUCE's
    /// arguments): a file cannot make copies grow faster than its length.
    copies: Cell<usize>,
    load: &'l mut StorageLoader<'f>,
}

/// Unpickles `data` (one pickle, up to its STOP), resolving persistent ids
/// (`('storage', torch.FloatStorage, key, location, numel)`) through `load`.
/// Returns the value and the offset just past STOP.
pub(super) fn unpickle(data: &[u8], load: &mut StorageLoader<'_>) -> PResult<(PyValue, usize)> {
    let mut u = Unpickler {
        data,
        pos: 0,
        arena: Vec::new(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        copies: Cell::new(data.len().saturating_mul(8).saturating_add(1 << 20)),
        load,
    };
    let top = u.run()?;
    let mut budget = MAX_BUDGET;
    let value = u.convert(top, 0, &mut budget)?;
    Ok((value, u.pos))
}

impl Unpickler<'_, '_, '_> {
    fn take(&mut self, n: usize) -> PResult<&[u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| {
                format!(
                    "truncated: an opcode at byte {} needs {n} more bytes, {} are left",
                    self.pos,
                    self.data.len() - self.pos
                )
            })?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> PResult<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> PResult<usize> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]) as usize)
    }

    fn u32(&mut self) -> PResult<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64_len(&mut self) -> PResult<usize> {
        let b = self.take(8)?;
        let n = u64::from_le_bytes(b.try_into().expect("8 bytes"));
        usize::try_from(n).map_err(|_| format!("length {n} too large"))
    }

    /// A text line (protocol 0 arguments), without its newline.
    fn line(&mut self) -> PResult<&str> {
        let rest = &self.data[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("truncated: a text argument has no end of line")?;
        let s = std::str::from_utf8(&rest[..n]).map_err(|_| "a text argument is not UTF-8")?;
        self.pos += n + 1;
        Ok(s)
    }

    fn run(&mut self) -> PResult<Val> {
        loop {
            let at = self.pos;
            let op = self
                .byte()
                .map_err(|_| "truncated: no STOP opcode".to_string())?;
            match op {
                b'.' => return self.pop(),
                0x80 => {
                    let proto = self.byte()?;
                    if proto > 5 {
                        return Err(format!("unsupported pickle protocol {proto}"));
                    }
                }
                0x95 => {
                    self.take(8)?; // FRAME: a length hint only.
                }
                b'(' => self.marks.push(self.stack.len()),
                b'0' => {
                    self.pop()?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let v = self.top()?;
                    self.stack.push(v);
                }
                b'N' => self.stack.push(Val::None),
                0x88 => self.stack.push(Val::Bool(true)),
                0x89 => self.stack.push(Val::Bool(false)),
                b'J' => {
                    let b = self.take(4)?;
                    let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    self.stack.push(Val::Int(v.into()));
                }
                b'K' => {
                    let v = self.byte()?;
                    self.stack.push(Val::Int(v.into()));
                }
                b'M' => {
                    let v = self.u16()?;
                    self.stack.push(Val::Int(v as i64));
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        self.byte()? as usize
                    } else {
                        self.u32()? as usize
                    };
                    let v = long_le(self.take(n)?)?;
                    self.stack.push(Val::Int(v));
                }
                b'I' => {
                    let v = match self.line()? {
                        "00" => Val::Bool(false),
                        "01" => Val::Bool(true),
                        s => Val::Int(s.parse().map_err(|_| format!("bad INT {s:?}"))?),
                    };
                    self.stack.push(v);
                }
                b'L' => {
                    let s = self.line()?;
                    let v = s.trim_end_matches('L');
                    let v = v
                        .parse()
                        .map_err(|_| format!("bad or too large LONG {s:?}"))?;
                    self.stack.push(Val::Int(v));
                }
                b'F' => {
                    let s = self.line()?;
                    let v = s.parse().map_err(|_| format!("bad FLOAT {s:?}"))?;
                    self.stack.push(Val::Float(v));
                }
                b'G' => {
                    let b = self.take(8)?;
                    let v = f64::from_be_bytes(b.try_into().expect("8 bytes"));
                    self.stack.push(Val::Float(v));
                }
                b'X' | 0x8c | 0x8d => {
                    let n = match op {
                        b'X' => self.u32()? as usize,
                        0x8c => self.byte()? as usize,
                        _ => self.u64_len()?,
                    };
                    let b = self.take(n)?;
                    let s = std::str::from_utf8(b)
                        .map_err(|_| format!("a string at byte {at} is not UTF-8"))?
                        .to_string();
                    self.push_node(Node::Str(s));
                }
                b'V' => {
                    let s = self.line()?.to_string();
                    self.push_node(Node::Str(s));
                }
                b'U' | b'T' => {
                    // SHORT_BINSTRING / BINSTRING: Python 2 str, read as latin-1 text.
                    let n = if op == b'U' {
                        self.byte()? as usize
                    } else {
                        self.u32()? as usize
                    };
                    let s = self.take(n)?.iter().map(|&b| b as char).collect();
                    self.push_node(Node::Str(s));
                }
                b'C' | b'B' | 0x8e | 0x96 => {
                    let n = match op {
                        b'C' => self.byte()? as usize,
                        b'B' => self.u32()? as usize,
                        _ => self.u64_len()?,
                    };
                    let b = self.take(n)?.to_vec();
                    self.push_node(Node::Bytes(b));
                }
                b']' => self.push_node(Node::List(Vec::new())),
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::List(items));
                }
                b')' => self.push_node(Node::Tuple(Vec::new())),
                b't' => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.push_node(Node::Tuple(items));
                }
                b'}' => self.push_node(Node::Dict(Vec::new())),
                b'd' => {
                    let items = self.pop_mark()?;
                    let pairs = pairs(items, at)?;
                    self.push_node(Node::Dict(pairs));
                }
                0x8f => self.push_node(Node::Set(Vec::new())),
                0x91 => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::Set(items));
                }
                b'a' => {
                    let v = self.pop()?;
                    let list = self.top()?;
                    self.extend_list(list, vec![v], at)?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    let list = self.top()?;
                    self.extend_list(list, items, at)?;
                }
                0x90 => {
                    let items = self.pop_mark()?;
                    let set = self.top()?;
                    match self.node_mut(set) {
                        Some(Node::Set(s)) => s.extend(items),
                        _ => return Err(format!("ADDITEMS at byte {at} on a non-set")),
                    }
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    let dict = self.top()?;
                    self.extend_dict(dict, vec![(k, v)], at)?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let dict = self.top()?;
                    let pairs = pairs(items, at)?;
                    self.extend_dict(dict, pairs, at)?;
                }
                b'g' => {
                    let i = self.line()?;
                    let i = i.parse().map_err(|_| format!("bad GET {i:?}"))?;
                    self.get(i, at)?;
                }
                b'h' => {
                    let i = self.byte()?.into();
                    self.get(i, at)?;
                }
                b'j' => {
                    let i = self.u32()?;
                    self.get(i, at)?;
                }
                b'p' => {
                    let i = self.line()?;
                    let i = i.parse().map_err(|_| format!("bad PUT {i:?}"))?;
                    self.put(i)?;
                }
                b'q' => {
                    let i = self.byte()?.into();
                    self.put(i)?;
                }
                b'r' => {
                    let i = self.u32()?;
                    self.put(i)?;
                }
                0x94 => {
                    let i = u32::try_from(self.memo.len()).map_err(|_| "memo too large")?;
                    self.put(i)?;
                }
                b'c' => {
                    let module = self.line()?.to_string();
                    let name = self.line()?.to_string();
                    self.global(&module, &name)?;
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Some(module), Some(name)) = (self.str_of(module), self.str_of(name))
                    else {
                        return Err(format!("STACK_GLOBAL at byte {at} without two strings"));
                    };
                    let (module, name) = (module.to_string(), name.to_string());
                    self.global(&module, &name)?;
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let args = self.tuple_items(args, "REDUCE's arguments")?;
                    let v = self.call(callable, args)?;
                    self.stack.push(v);
                }
                0x81 | 0x92 => {
                    if op == 0x92 {
                        self.pop()?; // NEWOBJ_EX's keyword arguments: inert.
                    }
                    let args = self.pop()?;
                    let class = self.pop()?;
                    let args = self.tuple_items(args, "NEWOBJ's arguments")?;
                    let v = self.instantiate(class, args)?;
                    self.stack.push(v);
                }
                b'b' => {
                    let state = self.pop()?;
                    let obj = self.top()?;
                    self.build(obj, state, at)?;
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let v = self.persistent(pid)?;
                    self.stack.push(v);
                }
                b'P' => {
                    return Err(
                        "text persistent ids (PERSID) are not used by torch.save; refused".into(),
                    )
                }
                b'i' | b'o' => {
                    return Err(format!(
                        "opcode {:?} at byte {at} (old-style instance creation) is not supported",
                        op as char
                    ))
                }
                other => {
                    return Err(format!(
                        "unknown or unsupported opcode 0x{other:02x} at byte {at}"
                    ))
                }
            }
        }
    }
}

fn pairs(items: Vec<Val>, at: usize) -> PResult<Vec<(Val, Val)>> {
    if !items.len().is_multiple_of(2) {
        return Err(format!("an odd number of dict items at byte {at}"));
    }
    Ok(items.chunks(2).map(|kv| (kv[0], kv[1])).collect())
}

/// A little-endian two's-complement integer (LONG1 / LONG4).
fn long_le(b: &[u8]) -> PResult<i64> {
    if b.is_empty() {
        return Ok(0);
    }
    if b.len() > 8 {
        return Err(format!(
            "an integer of {} bytes does not fit 64 bits",
            b.len()
        ));
    }
    let fill = if b[b.len() - 1] & 0x80 != 0 { 0xff } else { 0 };
    let mut full = [fill; 8];
    full[..b.len()].copy_from_slice(b);
    Ok(i64::from_le_bytes(full))
}
