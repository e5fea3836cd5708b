//! torchinfo's `summary(model, input_size)`: one forward pass in eval mode
//! without gradients, recording every layer's output shape, then torchinfo's
//! table (same rows, numbers and text as torchinfo 1.8).
//!
//! How layers are recorded: while `summary` runs, a thread-local recorder is
//! installed; every built-in layer's `forward_t`, and `Sequential` for each
//! layer it calls, reports to it (see [`record_forward`]), keyed by the
//! layer's address and type name, like torchinfo's forward hooks keyed by
//! `id(module)`. The user's own structs (the model in a notebook cell) have
//! no hook: the top-level model is recorded by `summary` itself, a block in
//! a `Sequential` by the `Sequential`, and any other user container shows up
//! the way torchinfo shows a container that was not called, inserted above
//! its first recorded child (or call [`record_forward`] in its `forward_t`).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;

use tch::{Device, Kind, Tensor};

use super::{Module, ModuleExt};
use crate::display::{escape_html, Html, Show};
use crate::error::{catch_torch, Error, Result};

/// torchinfo's default `depth`: rows deeper than this are not shown.
const MAX_DEPTH: usize = 3;
/// torchinfo's default column width and minimum name-column width.
const COL_WIDTH: usize = 25;
const MIN_NAME_WIDTH: usize = 40;
/// CPython's `sys.getsizeof(tensor.untyped_storage())` adds this object
/// overhead to the data size; torchinfo's "Input size" includes it.
const STORAGE_OVERHEAD: i64 = 64;

thread_local! {
    static RECORDER: RefCell<Option<Recorder>> = const { RefCell::new(None) };
}

type Key = (usize, String);

fn key_of(module: &dyn Module) -> Key {
    (
        module as *const dyn Module as *const () as usize,
        module.type_name(),
    )
}

/// Runs a module's forward computation `f`, reporting it to [`summary`]
/// when a summary is being taken (torchinfo's forward pre-hook and hook);
/// otherwise just runs `f`. Every built-in layer's `forward_t` goes through
/// this. The top-level model needs nothing; a user-written block nested
/// inside it wraps its body in `record_forward` to get its own output shape
/// in the table (without it, the block is listed like a container torchinfo
/// never saw called: `--` for the shape).
///
/// ```
/// use cnn_lab::*;
///
/// struct ConvBlock {
///     conv: Conv2d,
///     bn: BatchNorm2d,
/// }
///
/// impl Module for ConvBlock {
///     fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
///         record_forward(self, || xs.apply_t(&self.conv, train).apply_t(&self.bn, train).relu())
///     }
///     fn children(&self) -> Vec<(String, &dyn Module)> {
///         vec![("conv".into(), &self.conv), ("bn".into(), &self.bn)]
///     }
/// }
///
/// struct Net {
///     block: ConvBlock,
/// }
///
/// impl Module for Net {
///     fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
///         self.block.forward_t(xs, train)
///     }
///     fn children(&self) -> Vec<(String, &dyn Module)> {
///         vec![("block".into(), &self.block)]
///     }
/// }
///
/// let net = Net { block: ConvBlock { conv: Conv2d::new(1, 4, 3).padding(1), bn: BatchNorm2d::new(4) } };
/// let s = summary(&net, &[2, 1, 8, 8])?;
/// assert_eq!(s.rows()[1].title(), "ConvBlock: 1-1");
/// assert_eq!(s.rows()[1].output_shape, [2, 4, 8, 8]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn record_forward<M: Module>(module: &M, f: impl FnOnce() -> Tensor) -> Tensor {
    record_call(module, f)
}

/// [`record_forward`] for a module behind a reference. `Sequential` records
/// each layer call through this itself rather than relying on the layer's
/// own hook: in evcxr every cell links its own copy of this crate, and a
/// layer boxed in an earlier cell runs that cell's copy, whose recorder is
/// not the one `summary` installed.
pub(crate) fn record_call(module: &dyn Module, f: impl FnOnce() -> Tensor) -> Tensor {
    let row = RECORDER.with(|r| r.borrow_mut().as_mut().and_then(|rec| rec.pre(module)));
    let out = f();
    if let Some(row) = row {
        RECORDER.with(|r| {
            if let Some(rec) = r.borrow_mut().as_mut() {
                rec.post(row, &out);
            }
        });
    }
    out
}

/// One module of the model tree, as torchinfo's `LayerInfo` sees it before
/// the forward pass.
struct Node {
    key: Key,
    type_name: String,
    depth: usize,
    parent: Option<usize>,
    is_leaf: bool,
    /// Parameters of the whole subtree: (dotted name, element count).
    params: Vec<(String, i64)>,
    num_params: i64,
    trainable_params: i64,
    param_bytes: i64,
}

/// One row of the table: a call of a module (or an inserted container).
#[derive(Clone)]
struct Row {
    node: usize,
    /// torchinfo inserts a container that was never called itself; the
    /// inserted object is identified by the node.
    inserted: bool,
    recursive: bool,
    output_size: Vec<i64>,
    output_bytes: i64,
    macs: i64,
    depth_index: usize,
}

struct Recorder {
    nodes: Vec<Node>,
    by_key: HashMap<Key, usize>,
    rows: Vec<Row>,
    seen: HashSet<Key>,
    /// Rows being executed, innermost last.
    active: Vec<Key>,
}

impl Recorder {
    fn new(model: &dyn Module) -> Recorder {
        let mut rec = Recorder {
            nodes: Vec::new(),
            by_key: HashMap::new(),
            rows: Vec::new(),
            seen: HashSet::new(),
            active: Vec::new(),
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
        let count = |p: &&super::NamedTensor| p.tensor.numel() as i64;
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

    fn pre(&mut self, module: &dyn Module) -> Option<usize> {
        let key = key_of(module);
        // Already recorded on its behalf: the top-level module by `summary`,
        // a layer by the `Sequential` that called it.
        if self.active.last() == Some(&key) {
            return None;
        }
        let node = *self.by_key.get(&key)?;
        Some(self.push_row(node))
    }

    fn push_row(&mut self, node: usize) -> usize {
        let key = self.nodes[node].key.clone();
        self.active.push(key.clone());
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

    fn post(&mut self, row: usize, out: &Tensor) {
        self.active.pop();
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
    fn add_missing_containers(&mut self) {
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
}

/// Removes the recorder however `summary` ends.
struct RecorderGuard;

impl Drop for RecorderGuard {
    fn drop(&mut self) {
        RECORDER.with(|r| r.borrow_mut().take());
    }
}

/// One line of the summary table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRow {
    /// The class name (`Conv2d`, `Sequential`, the model's struct name).
    pub type_name: String,
    /// 0 for the model, 1 for its children, …
    pub depth: usize,
    /// torchinfo's running index within the depth (`2-7` → 7).
    pub depth_index: usize,
    /// The output shape (empty for a container that was not called itself).
    pub output_shape: Vec<i64>,
    /// Parameters in this module's whole subtree.
    pub num_params: i64,
    /// torchinfo's multiply-accumulate count for a leaf layer.
    pub mult_adds: i64,
    /// The `Param #` column text (`320`, `--`, `(recursive)`).
    pub params_text: String,
    /// Whether torchinfo prints this row (depth at most 3).
    pub shown: bool,
}

impl SummaryRow {
    /// `Conv2d: 2-1` (the model's own row has no depth suffix).
    pub fn title(&self) -> String {
        if self.depth == 0 {
            self.type_name.clone()
        } else {
            format!("{}: {}-{}", self.type_name, self.depth, self.depth_index)
        }
    }

    fn tree_title(&self) -> String {
        let prefix = match self.depth {
            0 => String::new(),
            1 => "├─".to_string(),
            d => format!("{}└─", "│    ".repeat(d - 1)),
        };
        format!("{prefix}{}", self.title())
    }

    fn shape_text(&self) -> String {
        if self.output_shape.is_empty() {
            "--".into()
        } else {
            let dims: Vec<String> = self.output_shape.iter().map(i64::to_string).collect();
            format!("[{}]", dims.join(", "))
        }
    }
}

/// The result of [`summary`]: torchinfo's table. `Display` prints exactly
/// torchinfo's text; in a notebook it shows as an HTML table.
#[derive(Clone, Debug)]
pub struct Summary {
    rows: Vec<SummaryRow>,
    total_params: i64,
    trainable_params: i64,
    total_mult_adds: i64,
    input_bytes: i64,
    output_bytes: i64,
    param_bytes: i64,
    name_width: usize,
}

impl Summary {
    /// Every row, including any deeper than torchinfo shows (`shown == false`).
    pub fn rows(&self) -> &[SummaryRow] {
        &self.rows
    }

    /// "Total params".
    pub fn total_params(&self) -> i64 {
        self.total_params
    }

    /// "Trainable params" (parameters with `requires_grad`).
    pub fn trainable_params(&self) -> i64 {
        self.trainable_params
    }

    /// "Total mult-adds", as a count (torchinfo prints it in G or M).
    pub fn total_mult_adds(&self) -> i64 {
        self.total_mult_adds
    }

    /// "Input size", bytes (data plus CPython's 64-byte storage object, as torchinfo counts).
    pub fn input_bytes(&self) -> i64 {
        self.input_bytes
    }

    /// "Forward/backward pass size", bytes: outputs of layers with
    /// parameters, twice (for their gradients).
    pub fn forward_backward_bytes(&self) -> i64 {
        self.output_bytes
    }

    /// "Params size", bytes.
    pub fn param_bytes(&self) -> i64 {
        self.param_bytes
    }

    fn divider(&self) -> String {
        "=".repeat(self.name_width + 2 * COL_WIDTH)
    }

    fn format_row(&self, name: &str, cols: &[&str]) -> String {
        let mut line = format!("{name:<w$} ", w = self.name_width);
        for c in cols {
            line += &format!("{c:<COL_WIDTH$} ");
        }
        line.trim_end().to_string()
    }

    /// The footer lines (`Total params: …` to `Estimated Total Size (MB): …`)
    /// as (label, value) pairs; `None` marks the divider between the groups.
    fn footer(&self) -> Vec<Option<(String, String)>> {
        let mb = |b: i64| format!("{:.2}", b as f64 / 1e6);
        vec![
            Some(("Total params".into(), group_int(self.total_params))),
            Some(("Trainable params".into(), group_int(self.trainable_params))),
            Some((
                "Non-trainable params".into(),
                group_int(self.total_params - self.trainable_params),
            )),
            Some(mult_adds_text(self.total_mult_adds)),
            None,
            Some(("Input size (MB)".into(), mb(self.input_bytes))),
            Some((
                "Forward/backward pass size (MB)".into(),
                mb(self.output_bytes),
            )),
            Some(("Params size (MB)".into(), mb(self.param_bytes))),
            Some((
                "Estimated Total Size (MB)".into(),
                mb(self.input_bytes + self.output_bytes + self.param_bytes),
            )),
        ]
    }

    /// The HTML table shown in a notebook (same rows and figures as the text).
    pub fn to_html(&self) -> String {
        let mut h = String::from(
            "<table style=\"font-family:monospace\"><thead><tr><th style=\"text-align:left\">Layer (type:depth-idx)</th><th style=\"text-align:left\">Output Shape</th><th style=\"text-align:right\">Param #</th></tr></thead><tbody>",
        );
        for r in self.rows.iter().filter(|r| r.shown) {
            h += &format!(
                "<tr><td style=\"text-align:left;white-space:pre\">{}</td><td style=\"text-align:left\">{}</td><td style=\"text-align:right\">{}</td></tr>",
                escape_html(&r.tree_title()),
                escape_html(&r.shape_text()),
                escape_html(&r.params_text)
            );
        }
        h += "</tbody><tfoot>";
        for item in self.footer().into_iter().flatten() {
            h += &format!(
                "<tr><td colspan=\"2\" style=\"text-align:left\">{}</td><td style=\"text-align:right\">{}</td></tr>",
                escape_html(&item.0),
                escape_html(&item.1)
            );
        }
        h += "</tfoot></table>";
        h
    }

    /// Called by evcxr for the last expression of a cell: the HTML table,
    /// with torchinfo's text as the plain-text fallback.
    pub fn evcxr_display(&self) {
        Html {
            html: self.to_html(),
            text: self.to_string(),
        }
        .show();
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let divider = self.divider();
        writeln!(f, "{divider}")?;
        writeln!(
            f,
            "{}",
            self.format_row("Layer (type:depth-idx)", &["Output Shape", "Param #"])
        )?;
        writeln!(f, "{divider}")?;
        for r in self.rows.iter().filter(|r| r.shown) {
            let line = self.format_row(&r.tree_title(), &[&r.shape_text(), &r.params_text]);
            writeln!(f, "{line}")?;
        }
        writeln!(f, "{divider}")?;
        for item in self.footer() {
            match item {
                Some((label, value)) => writeln!(f, "{label}: {value}")?,
                None => writeln!(f, "{divider}")?,
            }
        }
        write!(f, "{divider}")
    }
}

/// `620,234` (Python's `f"{n:,}"`).
fn group_int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// torchinfo's `format_output_num(macs, Units.AUTO)` label and value, e.g.
/// `("Total mult-adds (Units.GIGABYTES)", "2.05")` — the unit printed the way
/// Python 3.11 formats torchinfo's `str` enum.
fn mult_adds_text(macs: i64) -> (String, String) {
    let (unit, value) = if macs as f64 >= 1e12 {
        ("TERABYTES", macs as f64 / 1e12)
    } else if macs as f64 >= 1e9 {
        ("GIGABYTES", macs as f64 / 1e9)
    } else {
        ("MEGABYTES", macs as f64 / 1e6)
    };
    let text = if value.fract() == 0.0 {
        group_int(value as i64)
    } else {
        let fixed = format!("{value:.2}");
        let (int, frac) = fixed.split_once('.').expect("{:.2} has a point");
        format!("{}.{frac}", group_int(int.parse().expect("integer part")))
    };
    (format!("Total mult-adds (Units.{unit})"), text)
}

/// torchinfo's `summary(model, input_size)`: runs `model` once in eval mode
/// without gradients on a random float input of shape `input_size` (batch
/// included), on the device of the model's first parameter, and returns the
/// table. The model's configuration is validated first, and a shape error
/// during the pass comes back as an [`Error`] naming the last layers reached.
///
/// Layers are told apart by address and type name, as torchinfo tells them
/// apart by `id(module)`. A zero-sized module type of your own (`struct
/// Swish;`) boxed twice in a `Sequential` would share one address and be
/// listed as `(recursive)`: give it a field.
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
    let busy = RECORDER.with(|r| r.borrow().is_some());
    if busy {
        return Err(Error::InvalidArgument(
            "summary: called from inside another summary's forward pass".into(),
        ));
    }
    RECORDER.with(|r| *r.borrow_mut() = Some(Recorder::new(model)));
    let _guard = RecorderGuard;
    let root_row = RECORDER.with(|r| r.borrow_mut().as_mut().map(|rec| rec.push_row(0)));
    let outcome = catch_torch("summary forward pass", || {
        tch::no_grad(|| model.forward_t(input, false))
    });
    let mut rec = RECORDER
        .with(|r| r.borrow_mut().take())
        .expect("recorder installed above");
    let out = match outcome {
        Ok(out) => out,
        Err(e) => {
            let reached: Vec<String> = rec
                .rows
                .iter()
                .map(|r| {
                    let n = &rec.nodes[r.node];
                    format!("{}: {}", n.type_name, n.depth)
                })
                .collect();
            return Err(Error::Shape(format!(
                "{e} (layers reached: {})",
                reached.join(", ")
            )));
        }
    };
    if let Some(row) = root_row {
        rec.post(row, &out);
    }
    rec.add_missing_containers();
    Ok(build(rec, input))
}

fn build(rec: Recorder, input: &Tensor) -> Summary {
    let mut rows = rec.rows;
    let nodes = rec.nodes;
    let mut counters: HashMap<usize, usize> = HashMap::new();
    for r in rows.iter_mut() {
        let c = counters.entry(nodes[r.node].depth).or_insert(0);
        *c += 1;
        r.depth_index = *c;
    }
    // torchinfo's "children" of a row: every following row deeper than it.
    let descendants = |i: usize| -> std::ops::Range<usize> {
        let depth = nodes[rows[i].node].depth;
        let end = (i + 1..rows.len())
            .find(|&j| nodes[rows[j].node].depth <= depth)
            .unwrap_or(rows.len());
        i + 1..end
    };
    fn leftover(
        i: usize,
        rows: &[Row],
        nodes: &[Node],
        desc: &dyn Fn(usize) -> std::ops::Range<usize>,
        pick: fn(&Node) -> i64,
    ) -> i64 {
        pick(&nodes[rows[i].node])
            - desc(i)
                .filter(|&j| !rows[j].recursive)
                .map(|j| {
                    if nodes[rows[j].node].is_leaf {
                        pick(&nodes[rows[j].node])
                    } else {
                        leftover(j, rows, nodes, desc, pick)
                    }
                })
                .sum::<i64>()
    }
    let (mut total, mut trainable, mut macs, mut out_bytes, mut param_bytes) = (0, 0, 0, 0, 0);
    for (i, r) in rows.iter().enumerate() {
        let n = &nodes[r.node];
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
            total += leftover(i, &rows, &nodes, &descendants, |n| n.num_params).max(0);
            trainable += leftover(i, &rows, &nodes, &descendants, |n| n.trainable_params).max(0);
        }
    }
    let out_rows: Vec<SummaryRow> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = &nodes[r.node];
            let at_max = n.depth == MAX_DEPTH;
            let params_text = if n.num_params == 0 {
                "--".to_string()
            } else if r.recursive {
                "(recursive)".to_string()
            } else if at_max || n.is_leaf {
                let s = group_int(n.num_params);
                if n.trainable_params > 0 {
                    s
                } else {
                    format!("({s})")
                }
            } else {
                let left = leftover(i, &rows, &nodes, &descendants, |n| n.num_params);
                if left > 0 {
                    group_int(left)
                } else {
                    "--".into()
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
        })
        .collect();
    let longest = out_rows
        .iter()
        .map(|r| r.title().chars().count() + r.depth * 5 + 1)
        .max()
        .unwrap_or(0);
    let name_width = if longest >= MIN_NAME_WIDTH {
        longest.div_ceil(5) * 5
    } else {
        MIN_NAME_WIDTH
    };
    let input_bytes =
        input.numel() as i64 * input.kind().elt_size_in_bytes() as i64 + STORAGE_OVERHEAD;
    Summary {
        rows: out_rows,
        total_params: total,
        trainable_params: trainable,
        total_mult_adds: macs,
        input_bytes,
        output_bytes: out_bytes,
        param_bytes,
        name_width,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_int_inserts_commas_like_python() {
        assert_eq!(group_int(0), "0");
        assert_eq!(group_int(999), "999");
        assert_eq!(group_int(620_234), "620,234");
        assert_eq!(group_int(-1_234_567), "-1,234,567");
    }

    #[test]
    fn mult_adds_units_follow_torchinfo() {
        assert_eq!(mult_adds_text(2_050_000_000).1, "2.05");
        assert_eq!(mult_adds_text(3_000_000).1, "3");
        assert_eq!(
            mult_adds_text(1_500_000).0,
            "Total mult-adds (Units.MEGABYTES)"
        );
    }
}
