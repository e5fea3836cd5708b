//! The arena's values as a [`PyValue`] tree, bounded in depth and size.

use super::{Node, PResult, Unpickler, Val, MAX_DEPTH};
use crate::pth::globals;
use crate::pth::PyValue;

impl Unpickler<'_, '_, '_> {
    /// The arena value `v` as a [`PyValue`], at most `MAX_DEPTH` deep and
    /// `MAX_BUDGET` large (this also stops cycles).
    pub(super) fn convert(&self, v: Val, depth: usize, budget: &mut usize) -> PResult<PyValue> {
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
