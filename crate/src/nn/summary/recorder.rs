//! What `summary` learns from one forward pass: the model tree before it
//! (torchinfo's `LayerInfo`s) and a row per module call, recorded by a
//! forward hook on every module that has a slot for one.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tch::Tensor;

use crate::nn::hooks::{ForwardHook, ForwardHooks, HookHandle};
use crate::nn::module::{Module, ModuleExt, NamedTensor};

pub(super) type Key = (usize, String);

/// Modules are told apart by address and type name, as torchinfo tells
/// them apart by `id(module)`.
pub(super) fn key_of(module: &dyn Module) -> Key {
    (
        module as *const dyn Module as *const () as usize,
        module.type_name(),
    )
}

/// One module of the model tree, as torchinfo's `LayerInfo` sees it before
/// the forward pass.
pub(super) struct Node {
    pub(super) key: Key,
    pub(super) type_name: String,
    pub(super) depth: usize,
    pub(super) parent: Option<usize>,
    pub(super) is_leaf: bool,
    /// Parameters of the whole subtree: (dotted name, element count).
    pub(super) params: Vec<(String, i64)>,
    pub(super) num_params: i64,
    pub(super) trainable_params: i64,
    pub(super) param_bytes: i64,
}

/// One row of the table: a call of a module (or an inserted container).
#[derive(Clone)]
pub(super) struct Row {
    pub(super) node: usize,
    /// torchinfo inserts a container that was never called itself; the
    /// inserted object is identified by the node.
    pub(super) inserted: bool,
    pub(super) recursive: bool,
    pub(super) output_size: Vec<i64>,
    pub(super) output_bytes: i64,
    pub(super) macs: i64,
    pub(super) depth_index: usize,
}

#[derive(Default)]
pub(super) struct Recorder {
    pub(super) nodes: Vec<Node>,
    by_key: HashMap<Key, usize>,
    pub(super) rows: Vec<Row>,
    seen: HashSet<Key>,
    /// The rows of the forward passes under way, innermost last (`None`
    /// for a module outside the tree).
    open: Vec<Option<usize>>,
}

impl Recorder {
    pub(super) fn new(model: &dyn Module) -> Recorder {
        let mut rec = Recorder {
            nodes: Vec::new(),
            by_key: HashMap::new(),
            rows: Vec::new(),
            seen: HashSet::new(),
            open: Vec::new(),
        };
        rec.add_node(model, 0, None);
        rec
    }

    fn add_node(&mut self, module: &dyn Module, depth: usize, parent: Option<usize>) {
        let params: Vec<_> = module
            .named_tensors()
            .into_iter()
            .filter(|t| t.trainable)
            .collect();
        let count = |p: &&NamedTensor| p.tensor.numel() as i64;
        let node = Node {
            key: key_of(module),
            type_name: module.type_name(),
            depth,
            parent,
            is_leaf: module.children().is_empty(),
            params: params.iter().map(|p| (p.name.clone(), count(&p))).collect(),
            num_params: params.iter().map(|p| count(&p)).sum(),
            trainable_params: params
                .iter()
                .filter(|p| p.tensor.requires_grad())
                .map(|p| count(&p))
                .sum(),
            param_bytes: params
                .iter()
                .map(|p| count(&p) * p.tensor.kind().elt_size_in_bytes() as i64)
                .sum(),
        };
        let idx = self.nodes.len();
        // Like torchinfo's hooks, a module reachable twice keeps its last place.
        self.by_key.insert(node.key.clone(), idx);
        self.nodes.push(node);
        for (_, child) in module.children() {
            self.add_node(child, depth + 1, Some(idx));
        }
    }

    /// A forward pass of `module` starts: its row, in call order (torchinfo's
    /// pre-hook). A module outside the tree gets none.
    pub(super) fn pre(&mut self, module: &dyn Module) {
        let node = self.by_key.get(&key_of(module)).copied();
        let row = node.map(|node| self.push_row(node));
        self.open.push(row);
    }

    fn push_row(&mut self, node: usize) -> usize {
        let key = self.nodes[node].key.clone();
        let recursive = !self.seen.insert(key);
        self.rows.push(Row {
            node,
            inserted: false,
            recursive,
            output_size: Vec::new(),
            output_bytes: 0,
            macs: 0,
            depth_index: 0,
        });
        self.rows.len() - 1
    }

    /// The forward pass that [`Recorder::pre`] saw start has returned `out`
    /// (torchinfo's hook).
    pub(super) fn post(&mut self, out: &Tensor) {
        if let Some(Some(row)) = self.open.pop() {
            self.fill(row, out);
        }
    }

    fn fill(&mut self, row: usize, out: &Tensor) {
        let size = out.size();
        let numel: i64 = size.iter().product();
        let node = &self.nodes[self.rows[row].node];
        let first = size.first().copied().unwrap_or(0);
        let mut macs = 0;
        for (name, n) in &node.params {
            if name == "weight" || name == "bias" {
                // torchinfo ignores the channel dimension for convolutions.
                macs += if node.type_name.contains("Conv") {
                    n * first * size.iter().skip(2).product::<i64>()
                } else {
                    first * n
                };
            } else if name.contains("weight") || name.contains("bias") {
                macs += size.iter().take(2).product::<i64>() * n;
            }
        }
        let r = &mut self.rows[row];
        r.output_bytes = out.kind().elt_size_in_bytes() as i64 * numel;
        r.output_size = size;
        r.macs = macs;
    }

    /// torchinfo's `add_missing_container_layers`, step for step (including
    /// its re-visiting of inserted rows).
    pub(super) fn add_missing_containers(&mut self) {
        let mut ids: HashSet<Key> = self
            .rows
            .iter()
            .map(|r| self.nodes[r.node].key.clone())
            .collect();
        let mut current: HashMap<usize, (usize, Key)> = HashMap::new();
        let mut idx = 0;
        while idx < self.rows.len() {
            let row = self.rows[idx].clone();
            let depth = self.nodes[row.node].depth;
            let mut hierarchy: HashMap<usize, usize> = HashMap::new();
            let mut parent = self.nodes[row.node].parent;
            while let Some(p) = parent {
                if self.nodes[p].depth == 0 {
                    break;
                }
                hierarchy.insert(self.nodes[p].depth, p);
                parent = self.nodes[p].parent;
            }
            let mut rel = 0;
            for d in 1..depth {
                let h = hierarchy[&d];
                let differs = current
                    .get(&d)
                    .is_none_or(|(_, key)| *key != self.nodes[h].key);
                let prev = (idx + rel + self.rows.len() - 1) % self.rows.len();
                let prev_is_h = self.rows[prev].inserted && self.rows[prev].node == h;
                if differs && !prev_is_h {
                    let recursive = !ids.insert(self.nodes[h].key.clone());
                    self.rows.insert(
                        idx + rel,
                        Row {
                            node: h,
                            inserted: true,
                            recursive,
                            output_size: Vec::new(),
                            output_bytes: 0,
                            macs: 0,
                            depth_index: 0,
                        },
                    );
                    current.insert(d, (h, self.nodes[h].key.clone()));
                    rel += 1;
                }
            }
            current.insert(depth, (row.node, self.nodes[row.node].key.clone()));
            let mut d = depth + 1;
            while current.remove(&d).is_some() {
                d += 1;
            }
            idx += 1;
        }
    }

    /// The recorder's hooks, registered on every module of `model`'s tree
    /// that has a slot; they are removed when the handles are dropped.
    pub(super) fn watch<'m>(hook: &Arc<Recording>, model: &'m dyn Module) -> Vec<HookHandle<'m>> {
        fn walk<'m>(
            module: &'m dyn Module,
            hook: &Arc<Recording>,
            seen: &mut HashSet<usize>,
            out: &mut Vec<HookHandle<'m>>,
        ) {
            // A module reachable twice is hooked once. (Told apart by its
            // slot: a first field shares its parent's address.)
            if let Some(hooks) = module.forward_hooks() {
                if seen.insert(hooks as *const ForwardHooks as usize) {
                    out.push(hooks.register(hook.clone()));
                }
            }
            for (_, child) in module.children() {
                walk(child, hook, seen, out);
            }
        }
        let mut handles = Vec::new();
        walk(model, hook, &mut HashSet::new(), &mut handles);
        handles
    }

    /// The module calls recorded so far, `Type: depth` each, for an error
    /// message.
    pub(super) fn reached(&self) -> String {
        let reached: Vec<String> = self
            .rows
            .iter()
            .map(|r| {
                let n = &self.nodes[r.node];
                format!("{}: {}", n.type_name, n.depth)
            })
            .collect();
        reached.join(", ")
    }
}

/// A [`Recorder`] shared with the hooks.
pub(super) struct Recording(pub(super) Mutex<Recorder>);

impl Recording {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Recorder> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ForwardHook for Recording {
    fn before(&self, module: &dyn Module) {
        self.lock().pre(module);
    }

    fn after(&self, _module: &dyn Module, output: &Tensor) {
        self.lock().post(output);
    }
}
