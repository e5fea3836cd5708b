//! What REDUCE, NEWOBJ, BUILD and persistent ids build: the effect of each
//! recognised PyTorch / Python callable, rebuilt in Rust; anything else is
//! refused by name.

use tch::Tensor;

use super::{Node, PResult, Unpickler, Val, MAX_DIMS};
use crate::pth::globals;

impl Unpickler<'_, '_, '_> {
    /// REDUCE: the effect of a recognised callable, rebuilt; anything else
    /// refused by name.
    pub(super) fn call(&mut self, callable: Val, args: Vec<Val>) -> PResult<Val> {
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
    pub(super) fn instantiate(&mut self, class: Val, args: Vec<Val>) -> PResult<Val> {
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

    pub(super) fn build(&mut self, obj: Val, state: Val, at: usize) -> PResult<()> {
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
    pub(super) fn persistent(&mut self, pid: Val) -> PResult<Val> {
        let items = self.tuple_items(pid, "a persistent id's parts")?;
        // The pre-1.6 format saves a module's class as ('module', class,
        // source file, source): the class stands for itself.
        if items.len() == 4 && self.str_of(items[0]) == Some("module") {
            return match self.node(items[1]) {
                Some(Node::Global(_)) => Ok(items[1]),
                _ => Err("a ('module', …) persistent id without a class".into()),
            };
        }
        if items.len() < 5 || self.str_of(items[0]) != Some("storage") {
            return Err(
                "a persistent id that is not ('storage', type, key, location, numel)".into(),
            );
        }
        if items.len() > 5 && !matches!(items[5], Val::None) {
            return Err("a view of a storage (pre-1.0 format) is not supported".into());
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
}

fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(c as u32).ok()).collect()
}
