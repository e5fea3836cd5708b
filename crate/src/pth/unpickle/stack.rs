//! The unpickler's stack, marks and memo, and reading arena values.

use super::{full_name, globals, Node, PResult, Unpickler, Val};

impl Unpickler<'_, '_, '_> {
    pub(super) fn push_node(&mut self, node: Node) {
        self.arena.push(node);
        self.stack.push(Val::Ref(self.arena.len() - 1));
    }

    pub(super) fn pop(&mut self) -> PResult<Val> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(format!("stack underflow at byte {}", self.pos));
        }
        Ok(self.stack.pop().expect("non-empty"))
    }

    pub(super) fn top(&self) -> PResult<Val> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(format!("stack underflow at byte {}", self.pos));
        }
        Ok(*self.stack.last().expect("non-empty"))
    }

    pub(super) fn pop_mark(&mut self) -> PResult<Vec<Val>> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| format!("no MARK before byte {}", self.pos))?;
        Ok(self.stack.split_off(mark))
    }

    pub(super) fn node(&self, v: Val) -> Option<&Node> {
        match v {
            Val::Ref(i) => self.arena.get(i),
            _ => None,
        }
    }

    pub(super) fn str_of(&self, v: Val) -> Option<&str> {
        match self.node(v) {
            Some(Node::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub(super) fn int_of(v: Val) -> Option<i64> {
        match v {
            Val::Int(i) => Some(i),
            Val::Bool(b) => Some(b as i64),
            _ => None,
        }
    }

    pub(super) fn describe(&self, v: Val) -> &'static str {
        match v {
            Val::None => "None",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Float(_) => "float",
            Val::Ref(i) => self.arena.get(i).map_or("?", Node::what),
        }
    }

    pub(super) fn node_mut(&mut self, v: Val) -> Option<&mut Node> {
        match v {
            Val::Ref(i) => self.arena.get_mut(i),
            _ => None,
        }
    }

    pub(super) fn extend_list(&mut self, list: Val, items: Vec<Val>, at: usize) -> PResult<()> {
        match self.node_mut(list) {
            Some(Node::List(l)) => {
                l.extend(items);
                Ok(())
            }
            _ => Err(format!("APPEND at byte {at} on a non-list")),
        }
    }

    pub(super) fn extend_dict(
        &mut self,
        dict: Val,
        items: Vec<(Val, Val)>,
        at: usize,
    ) -> PResult<()> {
        match self.node_mut(dict) {
            Some(Node::Dict(d)) | Some(Node::OrderedDict(d)) => {
                d.extend(items);
                Ok(())
            }
            _ => Err(format!("SETITEM at byte {at} on a non-dict")),
        }
    }

    pub(super) fn get(&mut self, i: u32, at: usize) -> PResult<()> {
        let v = *self
            .memo
            .get(&i)
            .ok_or_else(|| format!("memo entry {i} read at byte {at} was never stored"))?;
        self.stack.push(v);
        Ok(())
    }

    pub(super) fn put(&mut self, i: u32) -> PResult<()> {
        let v = self.top()?;
        self.memo.insert(i, v);
        Ok(())
    }

    pub(super) fn global(&mut self, module: &str, name: &str) -> PResult<()> {
        let full = full_name(module, name);
        globals::check(&full)?;
        self.push_node(Node::Global(full));
        Ok(())
    }

    /// Takes `n` from the copy allowance.
    pub(super) fn charge_copy(&self, n: usize) -> PResult<()> {
        let left = self
            .copies
            .get()
            .checked_sub(n)
            .ok_or("too many copies of shared values")?;
        self.copies.set(left);
        Ok(())
    }

    pub(super) fn tuple_items(&self, v: Val, what: &str) -> PResult<Vec<Val>> {
        match self.node(v) {
            Some(Node::Tuple(t)) => {
                self.charge_copy(t.len())?;
                Ok(t.clone())
            }
            _ => Err(format!("{what} are a {}, not a tuple", self.describe(v))),
        }
    }

    pub(super) fn global_name(&self, v: Val) -> Option<&str> {
        match self.node(v) {
            Some(Node::Global(g)) => Some(g),
            _ => None,
        }
    }
}
