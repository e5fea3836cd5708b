//! torchinfo's `summary(model, input_size)`: one forward pass in eval mode
//! without gradients, recording every layer's output shape, then torchinfo's
//! table (same rows, numbers and text as torchinfo 1.8).
//!
//! As torchinfo does, `summary` registers a forward hook
//! ([`ForwardHooks`](crate::nn::ForwardHooks)) on every module of the tree that has a slot for one —
//! every built-in layer, and a block of your own that holds one — runs the
//! model, and removes the hooks. The top-level model is recorded by
//! `summary` itself; a module without a slot shows up the way torchinfo
//! shows a container that was not called, inserted above its first
//! recorded child.

mod recorder;
mod table;

pub use table::{Summary, SummaryRow};

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use tch::{Device, Kind, Tensor};

use super::module::{Module, ModuleExt};
use crate::error::{catch_torch, Error, Result};
use crate::pyfmt::group_int;
use recorder::{Node, Recorder, Recording, Row};

/// torchinfo's default `depth`: rows deeper than this are not shown.
const MAX_DEPTH: usize = 3;
/// torchinfo's minimum name-column width.
const MIN_NAME_WIDTH: usize = 40;
/// CPython's `sys.getsizeof(tensor.untyped_storage())` adds this object
/// overhead to the data size; torchinfo's "Input size" includes it.
const STORAGE_OVERHEAD: i64 = 64;

/// torchinfo's `summary(model, input_size)`: runs `model` once in eval mode
/// without gradients on a random float input of shape `input_size` (batch
/// included), on the device of the model's first parameter, and returns the
/// table. The model's configuration is validated first, and a shape error
/// during the pass comes back as an [`Error`] naming the last layers reached.
///
/// Layers are told apart by address and type name, as torchinfo tells them
/// apart by `id(module)`. A zero-sized module type of your own (`struct
/// Swish;`) boxed twice in a `Sequential` would share one address and be
/// listed as `(recursive)`: give it a field (its [`ForwardHooks`](crate::nn::ForwardHooks) will do).
///
/// The lecture's model, written in a notebook cell, and its summary:
///
/// ```
/// use cnn_lab::*;
///
/// struct MnistCNNModel {
///     b1: Sequential,
///     b2: Sequential,
///     b3: Sequential,
///     classifier: Sequential,
/// }
///
/// impl MnistCNNModel {
///     fn new(dropout_rate: f64) -> Self {
///         Self {
///             b1: Sequential::new()
///                 .add(Conv2d::new(1, 32, 3).stride(1).padding("same"))
///                 .add(BatchNorm2d::new(32))
///                 .add(ReLU::new())
///                 .add(Dropout::new(dropout_rate))
///                 .add(MaxPool2d::new(2).stride(2)),
///             b2: Sequential::new()
///                 .add(Conv2d::new(32, 64, 3).stride(1).padding("same"))
///                 .add(BatchNorm2d::new(64))
///                 .add(ReLU::new())
///                 .add(Dropout::new(dropout_rate))
///                 .add(MaxPool2d::new(2).stride(2)),
///             b3: Sequential::new()
///                 .add(Conv2d::new(64, 128, 3).stride(1).padding("same"))
///                 .add(BatchNorm2d::new(128))
///                 .add(ReLU::new())
///                 .add(Dropout::new(dropout_rate))
///                 .add(MaxPool2d::new(2).stride(2).padding(1)),
///             classifier: Sequential::new()
///                 .add(Flatten::new())
///                 .add(Linear::new(128 * 4 * 4, 256))
///                 .add(ReLU::new())
///                 .add(Dropout::new(dropout_rate))
///                 .add(Linear::new(256, 10)),
///         }
///     }
/// }
///
/// impl Module for MnistCNNModel {
///     fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
///         xs.apply_t(&self.b1, train)
///             .apply_t(&self.b2, train)
///             .apply_t(&self.b3, train)
///             .apply_t(&self.classifier, train)
///     }
///
///     fn children(&self) -> Vec<(String, &dyn Module)> {
///         vec![
///             ("b1".into(), &self.b1),
///             ("b2".into(), &self.b2),
///             ("b3".into(), &self.b3),
///             ("classifier".into(), &self.classifier),
///         ]
///     }
/// }
///
/// let model = MnistCNNModel::new(0.3);
/// let s = summary(&model, &[256, 1, 28, 28])?;
/// assert_eq!(s.total_params(), 620_234);
/// assert!(s.to_string().contains("Total mult-adds (Units.GIGABYTES): 2.05"));
/// println!("{s}");
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn summary(model: &dyn Module, input_size: &[i64]) -> Result<Summary> {
    if input_size.is_empty() || input_size.iter().any(|&d| d <= 0) {
        return Err(Error::InvalidArgument(format!(
            "summary: input_size must be non-empty with positive sizes, got {input_size:?}"
        )));
    }
    let device = model
        .named_tensors()
        .first()
        .map_or(Device::Cpu, |t| t.tensor.device());
    let x = Tensor::rand(input_size, (Kind::Float, device));
    summary_input(model, &x)
}

/// [`summary`] on a given input tensor (torchinfo's `input_data=`), e.g. a
/// real batch of images.
pub fn summary_input(model: &dyn Module, input: &Tensor) -> Result<Summary> {
    model.validate()?;
    let recording = Arc::new(Recording(Mutex::new(Recorder::new(model))));
    let outcome = {
        let _handles = Recorder::watch(&recording, model);
        // A model without a slot of its own (a notebook's struct) is
        // recorded here, as torchinfo's hook on the top-level module would.
        let outer = model.forward_hooks().is_none();
        if outer {
            recording.lock().pre(model);
        }
        let outcome = catch_torch("summary forward pass", || {
            tch::no_grad(|| model.forward_t(input, false))
        });
        if let (true, Ok(out)) = (outer, &outcome) {
            recording.lock().post(out);
        }
        outcome
    };
    let mut rec = std::mem::take(&mut *recording.lock());
    if let Err(e) = outcome {
        return Err(Error::Shape(format!(
            "{e} (layers reached: {})",
            rec.reached()
        )));
    }
    rec.add_missing_containers();
    Ok(build(rec, input))
}

/// The table from what the forward pass recorded.
fn build(rec: Recorder, input: &Tensor) -> Summary {
    let mut tree = Tree {
        nodes: rec.nodes,
        rows: rec.rows,
    };
    tree.number_rows();
    let (total_params, trainable_params, total_mult_adds, output_bytes, param_bytes) =
        tree.totals();
    let rows: Vec<SummaryRow> = (0..tree.rows.len()).map(|i| tree.summary_row(i)).collect();
    Summary {
        name_width: name_width(&rows),
        rows,
        total_params,
        trainable_params,
        total_mult_adds,
        input_bytes: input.numel() as i64 * input.kind().elt_size_in_bytes() as i64
            + STORAGE_OVERHEAD,
        output_bytes,
        param_bytes,
    }
}

/// The recorded rows with the nodes they belong to.
struct Tree {
    nodes: Vec<Node>,
    rows: Vec<Row>,
}

impl Tree {
    fn node(&self, row: usize) -> &Node {
        &self.nodes[self.rows[row].node]
    }

    /// torchinfo's running index within each depth (`2-7` → 7).
    fn number_rows(&mut self) {
        let mut counters: HashMap<usize, usize> = HashMap::new();
        for r in self.rows.iter_mut() {
            let c = counters.entry(self.nodes[r.node].depth).or_insert(0);
            *c += 1;
            r.depth_index = *c;
        }
    }

    /// torchinfo's "children" of a row: every following row deeper than it.
    fn descendants(&self, i: usize) -> Range<usize> {
        let depth = self.node(i).depth;
        let end = (i + 1..self.rows.len())
            .find(|&j| self.node(j).depth <= depth)
            .unwrap_or(self.rows.len());
        i + 1..end
    }

    /// What a container row counts itself: its subtree's `pick` less what
    /// its (non-recursive) descendants count.
    fn leftover(&self, i: usize, pick: fn(&Node) -> i64) -> i64 {
        pick(self.node(i))
            - self
                .descendants(i)
                .filter(|&j| !self.rows[j].recursive)
                .map(|j| {
                    if self.node(j).is_leaf {
                        pick(self.node(j))
                    } else {
                        self.leftover(j, pick)
                    }
                })
                .sum::<i64>()
    }

    /// `(total, trainable, mult-adds, forward/backward bytes, param bytes)`,
    /// counted as torchinfo counts them.
    fn totals(&self) -> (i64, i64, i64, i64, i64) {
        let (mut total, mut trainable, mut macs, mut out_bytes, mut param_bytes) = (0, 0, 0, 0, 0);
        for (i, r) in self.rows.iter().enumerate() {
            let n = self.node(i);
            if n.is_leaf {
                macs += r.macs;
                if n.num_params > 0 {
                    out_bytes += r.output_bytes * 2;
                }
                if r.recursive {
                    continue;
                }
                total += n.num_params.max(0);
                param_bytes += n.param_bytes;
                trainable += n.trainable_params.max(0);
            } else if !r.recursive {
                total += self.leftover(i, |n| n.num_params).max(0);
                trainable += self.leftover(i, |n| n.trainable_params).max(0);
            }
        }
        (total, trainable, macs, out_bytes, param_bytes)
    }

    fn summary_row(&self, i: usize) -> SummaryRow {
        let (r, n) = (&self.rows[i], self.node(i));
        let params_text = if n.num_params == 0 {
            "--".to_string()
        } else if r.recursive {
            "(recursive)".to_string()
        } else if n.depth == MAX_DEPTH || n.is_leaf {
            let s = group_int(n.num_params);
            if n.trainable_params > 0 {
                s
            } else {
                format!("({s})")
            }
        } else {
            match self.leftover(i, |n| n.num_params) {
                left if left > 0 => group_int(left),
                _ => "--".into(),
            }
        };
        SummaryRow {
            type_name: n.type_name.clone(),
            depth: n.depth,
            depth_index: r.depth_index,
            output_shape: r.output_size.clone(),
            num_params: n.num_params,
            mult_adds: r.macs,
            params_text,
            shown: n.depth <= MAX_DEPTH,
        }
    }
}

/// torchinfo's name column: the longest title with its tree prefix,
/// rounded up to a multiple of 5, at least [`MIN_NAME_WIDTH`].
fn name_width(rows: &[SummaryRow]) -> usize {
    let longest = rows
        .iter()
        .map(|r| r.title().chars().count() + r.depth * 5 + 1)
        .max()
        .unwrap_or(0);
    if longest >= MIN_NAME_WIDTH {
        longest.div_ceil(5) * 5
    } else {
        MIN_NAME_WIDTH
    }
}
