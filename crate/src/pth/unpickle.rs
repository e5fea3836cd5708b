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

    fn push_node(&mut self, node: Node) {
        self.arena.push(node);
        self.stack.push(Val::Ref(self.arena.len() - 1));
    }

    fn pop(&mut self) -> PResult<Val> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(format!("stack underflow at byte {}", self.pos));
        }
        Ok(self.stack.pop().expect("non-empty"))
    }

    fn top(&self) -> PResult<Val> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(format!("stack underflow at byte {}", self.pos));
        }
        Ok(*self.stack.last().expect("non-empty"))
    }

    fn pop_mark(&mut self) -> PResult<Vec<Val>> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| format!("no MARK before byte {}", self.pos))?;
        Ok(self.stack.split_off(mark))
    }

    fn node(&self, v: Val) -> Option<&Node> {
        match v {
            Val::Ref(i) => self.arena.get(i),
            _ => None,
        }
    }

    fn str_of(&self, v: Val) -> Option<&str> {
        match self.node(v) {
            Some(Node::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn int_of(v: Val) -> Option<i64> {
        match v {
            Val::Int(i) => Some(i),
            Val::Bool(b) => Some(b as i64),
            _ => None,
        }
    }

    fn describe(&self, v: Val) -> &'static str {
        match v {
            Val::None => "None",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Float(_) => "float",
            Val::Ref(i) => self.arena.get(i).map_or("?", Node::what),
        }
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

    fn node_mut(&mut self, v: Val) -> Option<&mut Node> {
        match v {
            Val::Ref(i) => self.arena.get_mut(i),
            _ => None,
        }
    }

    fn extend_list(&mut self, list: Val, items: Vec<Val>, at: usize) -> PResult<()> {
        match self.node_mut(list) {
            Some(Node::List(l)) => {
                l.extend(items);
                Ok(())
            }
            _ => Err(format!("APPEND at byte {at} on a non-list")),
        }
    }

    fn extend_dict(&mut self, dict: Val, items: Vec<(Val, Val)>, at: usize) -> PResult<()> {
        match self.node_mut(dict) {
            Some(Node::Dict(d)) | Some(Node::OrderedDict(d)) => {
                d.extend(items);
                Ok(())
            }
            _ => Err(format!("SETITEM at byte {at} on a non-dict")),
        }
    }

    fn get(&mut self, i: u32, at: usize) -> PResult<()> {
        let v = *self
            .memo
            .get(&i)
            .ok_or_else(|| format!("memo entry {i} read at byte {at} was never stored"))?;
        self.stack.push(v);
        Ok(())
    }

    fn put(&mut self, i: u32) -> PResult<()> {
        let v = self.top()?;
        self.memo.insert(i, v);
        Ok(())
    }

    fn global(&mut self, module: &str, name: &str) -> PResult<()> {
        let full = full_name(module, name);
        globals::check(&full)?;
        self.push_node(Node::Global(full));
        Ok(())
    }

    /// Takes `n` from the copy allowance.
    fn charge_copy(&self, n: usize) -> PResult<()> {
        let left = self
            .copies
            .get()
            .checked_sub(n)
            .ok_or("too many copies of shared values")?;
        self.copies.set(left);
        Ok(())
    }

    fn tuple_items(&self, v: Val, what: &str) -> PResult<Vec<Val>> {
        match self.node(v) {
            Some(Node::Tuple(t)) => {
                self.charge_copy(t.len())?;
                Ok(t.clone())
            }
            _ => Err(format!("{what} are a {}, not a tuple", self.describe(v))),
        }
    }

    fn global_name(&self, v: Val) -> Option<&str> {
        match self.node(v) {
            Some(Node::Global(g)) => Some(g),
            _ => None,
        }
    }

    /// REDUCE: the effect of a recognised callable, rebuilt; anything else
    /// refused by name.
    fn call(&mut self, callable: Val, args: Vec<Val>) -> PResult<Val> {
        let name = self
            .global_name(callable)
            .ok_or_else(|| format!("REDUCE calls a {}", self.describe(callable)))?
            .to_string();
        let arg = |i: usize| args.get(i).copied();
        let bad = |what: &str| format!("{name} called with {what}");
        let node = match name.as_str() {
            "collections.OrderedDict" => {
                let mut entries = Vec::new();
                if let Some(items) = arg(0) {
                    for pair in self.sequence(items).ok_or_else(|| bad("a non-list"))? {
                        match self.node(pair) {
                            Some(Node::Tuple(kv)) | Some(Node::List(kv)) if kv.len() == 2 => {
                                entries.push((kv[0], kv[1]))
                            }
                            _ => return Err(bad("an item that is not a pair")),
                        }
                    }
                }
                Node::OrderedDict(entries)
            }
            "builtins.set" | "builtins.frozenset" => match arg(0) {
                None => Node::Set(Vec::new()),
                Some(items) => Node::Set(self.sequence(items).ok_or_else(|| bad("a non-list"))?),
            },
            "builtins.bytearray" | "builtins.bytes" => match arg(0) {
                None => Node::Bytes(Vec::new()),
                Some(v) => match self.node(v) {
                    Some(Node::Bytes(b)) => {
                        self.charge_copy(b.len())?;
                        Node::Bytes(b.clone())
                    }
                    Some(Node::Str(s)) => {
                        Node::Bytes(latin1(s).ok_or_else(|| bad("non-latin-1 text"))?)
                    }
                    _ => return Err(bad("neither bytes nor text")),
                },
            },
            "_codecs.encode" => {
                let text = arg(0)
                    .and_then(|v| self.str_of(v))
                    .ok_or_else(|| bad("no text"))?;
                let bytes = match arg(1).and_then(|v| self.str_of(v)) {
                    Some("latin1") | Some("latin-1") => {
                        latin1(text).ok_or_else(|| bad("non-latin-1 text"))?
                    }
                    Some("utf8") | Some("utf-8") | None => text.as_bytes().to_vec(),
                    Some(enc) => return Err(bad(&format!("the encoding {enc:?}"))),
                };
                Node::Bytes(bytes)
            }
            "torch._utils._rebuild_tensor" | "torch._utils._rebuild_tensor_v2" => Node::Tensor(
                self.rebuild_tensor(&args)
                    .map_err(|e| format!("{name}: {e}"))?,
            ),
            "torch._utils._rebuild_parameter" | "torch._utils._rebuild_parameter_with_state" => {
                let t = arg(0).filter(|&v| matches!(self.node(v), Some(Node::Tensor(_))));
                return t.ok_or_else(|| bad("no tensor"));
            }
            "torch._tensor._rebuild_from_type_v2" => {
                let (Some(func), Some(inner)) = (arg(0), arg(2)) else {
                    return Err(bad("too few arguments"));
                };
                let inner = self.tuple_items(inner, "its arguments")?;
                return self.call(func, inner);
            }
            "torch.device" => Node::Object {
                class: name.clone(),
                args,
                state: None,
            },
            "torch.Size" => match arg(0) {
                Some(v) => Node::Tuple(self.sequence(v).ok_or_else(|| bad("a non-tuple"))?),
                None => Node::Tuple(Vec::new()),
            },
            "copyreg._reconstructor" => {
                let class = arg(0).ok_or_else(|| bad("no class"))?;
                return self.instantiate(class, Vec::new());
            }
            other => {
                if let Some((_, what)) = globals::UNSUPPORTED.iter().find(|(n, _)| *n == other) {
                    return Err(format!(
                        "{other} rebuilds {what}, which this reader does not support"
                    ));
                }
                return Err(globals::refusal(other));
            }
        };
        self.arena.push(node);
        Ok(Val::Ref(self.arena.len() - 1))
    }

    fn sequence(&self, v: Val) -> Option<Vec<Val>> {
        match self.node(v)? {
            Node::List(l) | Node::Tuple(l) | Node::Set(l) => {
                self.charge_copy(l.len()).ok()?;
                Some(l.clone())
            }
            _ => None,
        }
    }

    /// NEWOBJ: an inert object of a class name (a module); nothing is called.
    fn instantiate(&mut self, class: Val, args: Vec<Val>) -> PResult<Val> {
        let name = self
            .global_name(class)
            .ok_or_else(|| format!("NEWOBJ on a {}", self.describe(class)))?
            .to_string();
        let node = match name.as_str() {
            "collections.OrderedDict" => Node::OrderedDict(Vec::new()),
            "builtins.set" | "builtins.frozenset" => Node::Set(Vec::new()),
            n if globals::CALLABLES.contains(&n) || globals::storage_kind(n).is_some() => {
                return Err(format!("NEWOBJ on {n}, which is not a class to rebuild"))
            }
            _ => Node::Object {
                class: name,
                args,
                state: None,
            },
        };
        self.arena.push(node);
        Ok(Val::Ref(self.arena.len() - 1))
    }

    fn build(&mut self, obj: Val, state: Val, at: usize) -> PResult<()> {
        match self.node_mut(obj) {
            Some(Node::Object { state: s, .. }) => {
                *s = Some(state);
                Ok(())
            }
            // An OrderedDict's attributes (a state_dict's `_metadata`) and a
            // tensor's Python attributes: not part of the values.
            Some(Node::OrderedDict(_)) | Some(Node::Dict(_)) | Some(Node::Tensor(_)) => Ok(()),
            _ => Err(format!("BUILD at byte {at} on a {}", self.describe(obj))),
        }
    }

    /// BINPERSID: `('storage', storage class, key, location, numel)`.
    fn persistent(&mut self, pid: Val) -> PResult<Val> {
        let items = self.tuple_items(pid, "a persistent id's parts")?;
        if items.len() < 5 || self.str_of(items[0]) != Some("storage") {
            return Err(
                "a persistent id that is not ('storage', type, key, location, numel)".into(),
            );
        }
        let class = self
            .global_name(items[1])
            .ok_or("a storage's type is not a name")?;
        let kind = globals::storage_kind(class)
            .ok_or_else(|| format!("unsupported storage type {class}"))?;
        let key = self
            .str_of(items[2])
            .ok_or("a storage key is not a string")?;
        let location = self
            .str_of(items[3])
            .ok_or("a storage location is not a string")?;
        let numel = Self::int_of(items[4])
            .and_then(|n| u64::try_from(n).ok())
            .ok_or("a storage size is not a non-negative int")?;
        let (key, location) = (key.to_string(), location.to_string());
        let data = (self.load)(&key, kind, numel, &location)?;
        self.arena.push(Node::Storage { kind, numel, data });
        Ok(Val::Ref(self.arena.len() - 1))
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, …)`: a view
    /// of the storage, bounds checked before libtorch sees it.
    fn rebuild_tensor(&self, args: &[Val]) -> PResult<Tensor> {
        if args.len() < 4 {
            return Err("fewer than 4 arguments".into());
        }
        let Some(Node::Storage { kind, numel, data }) = self.node(args[0]) else {
            return Err(format!(
                "a {} where a storage was expected",
                self.describe(args[0])
            ));
        };
        let offset = Self::int_of(args[1])
            .filter(|&o| o >= 0)
            .ok_or("the storage offset is not a non-negative int")?;
        let dims = |v: Val, what: &str| -> PResult<Vec<i64>> {
            let items = self
                .sequence(v)
                .ok_or(format!("the {what} is not a tuple"))?;
            if items.len() > MAX_DIMS {
                return Err(format!("the {what} has {} dimensions", items.len()));
            }
            items
                .into_iter()
                .map(|d| Self::int_of(d).filter(|&d| d >= 0))
                .collect::<Option<Vec<_>>>()
                .ok_or(format!(
                    "the {what} holds a value that is not a non-negative int"
                ))
        };
        let size = dims(args[2], "size")?;
        let stride = dims(args[3], "stride")?;
        if size.len() != stride.len() {
            return Err(format!(
                "size {size:?} and stride {stride:?} have different lengths"
            ));
        }
        if !size.contains(&0) {
            let last = size
                .iter()
                .zip(&stride)
                .try_fold(offset, |acc, (&n, &s)| {
                    acc.checked_add((n - 1).checked_mul(s)?)
                })
                .filter(|&last| (last as u64) < *numel)
                .ok_or_else(|| {
                    format!(
                        "size {size:?}, stride {stride:?} and offset {offset} reach past the \
                         storage's {numel} elements"
                    )
                })?;
            debug_assert!(last >= 0);
        } else if offset as u64 > *numel {
            return Err(format!(
                "offset {offset} past the storage's {numel} elements"
            ));
        }
        data.f_as_strided(&size, &stride, Some(offset))
            .map_err(|e| format!("a {kind:?} view: {e}"))
    }

    /// The arena value `v` as a [`PyValue`], at most [`MAX_DEPTH`] deep and
    /// [`MAX_BUDGET`] large (this also stops cycles).
    fn convert(&self, v: Val, depth: usize, budget: &mut usize) -> PResult<PyValue> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "values nested deeper than {MAX_DEPTH} levels (or a cycle)"
            ));
        }
        *budget = budget
            .checked_sub(1)
            .ok_or("too many values once shared references are expanded")?;
        let node = match v {
            Val::None => return Ok(PyValue::None),
            Val::Bool(b) => return Ok(PyValue::Bool(b)),
            Val::Int(i) => return Ok(PyValue::Int(i)),
            Val::Float(f) => return Ok(PyValue::Float(f)),
            Val::Ref(i) => &self.arena[i],
        };
        let all = |items: &[Val], budget: &mut usize| -> PResult<Vec<PyValue>> {
            items
                .iter()
                .map(|&x| self.convert(x, depth + 1, budget))
                .collect()
        };
        let pairs =
            |items: &[(Val, Val)], budget: &mut usize| -> PResult<Vec<(PyValue, PyValue)>> {
                items
                    .iter()
                    .map(|&(k, x)| {
                        Ok((
                            self.convert(k, depth + 1, budget)?,
                            self.convert(x, depth + 1, budget)?,
                        ))
                    })
                    .collect()
            };
        let charge = |len: usize, budget: &mut usize| -> PResult<()> {
            *budget = budget
                .checked_sub(len / 16)
                .ok_or("too much text once shared references are expanded")?;
            Ok(())
        };
        Ok(match node {
            Node::Str(s) => {
                charge(s.len(), budget)?;
                PyValue::Str(s.clone())
            }
            Node::Bytes(b) => {
                charge(b.len(), budget)?;
                PyValue::Bytes(b.clone())
            }
            Node::Tuple(t) => PyValue::Tuple(all(t, budget)?),
            Node::List(l) => PyValue::List(all(l, budget)?),
            Node::Set(s) => PyValue::Set(all(s, budget)?),
            Node::Dict(d) => PyValue::Dict(pairs(d, budget)?),
            Node::OrderedDict(d) => PyValue::OrderedDict(pairs(d, budget)?),
            Node::Global(g) => {
                if globals::CALLABLES.contains(&g.as_str()) {
                    // A function as a value is never data.
                    return Err(format!("the function {g} stored as a value"));
                }
                PyValue::Global(g.clone())
            }
            Node::Object { class, args, state } => PyValue::Object {
                class: class.clone(),
                args: all(args, budget)?,
                state: match state {
                    Some(s) => Some(Box::new(self.convert(*s, depth + 1, budget)?)),
                    None => None,
                },
            },
            Node::Storage { .. } => return Err("a bare storage (not a tensor) as a value".into()),
            Node::Tensor(t) => PyValue::Tensor(t.shallow_clone()),
        })
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

fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(c as u32).ok()).collect()
}
