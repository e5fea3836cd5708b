//! The lecture's model cell from `notebooks/mnist_cnn.ipynb` itself, compared with
//! PyTorch's `print(model)`, `state_dict()` and torchinfo's `summary`
//! (reference values from `tests/python/nn_reference.py`).

mod common;

use cnn_lab::*;
use serde_json::Value;

// The model cell of notebooks/mnist_cnn.ipynb, compiled as it is there.
notebook_cell::notebook_cell!("notebooks/mnist_cnn.ipynb", "struct MnistCNNModel");

/// A model with its own parameter beside its children, a rectangular
/// strided conv without bias and a ceil-mode pool (`TinyNet` in the script).
struct TinyNet {
    scale: Tensor,
    features: Sequential,
    head: Sequential,
}

impl TinyNet {
    fn new() -> Self {
        Self {
            scale: Tensor::ones([1], (Kind::Float, Device::Cpu)).set_requires_grad(true),
            features: Sequential::new()
                .add(
                    Conv2d::new(3, 8, (3, 5))
                        .stride((2, 1))
                        .padding((1, 2))
                        .bias(false),
                )
                .add(BatchNorm2d::new(8))
                .add(ReLU::new())
                .add(MaxPool2d::new(2).ceil_mode(true)),
            head: Sequential::new()
                .add(Flatten::new())
                .add(Linear::new(8 * 8 * 16, 10)),
        }
    }
}

impl Module for TinyNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.apply_t(&self.features, train).apply_t(&self.head, train) * &self.scale
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![
            ("features".into(), &self.features),
            ("head".into(), &self.head),
        ]
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        vec![NamedTensor {
            name: "scale".into(),
            tensor: self.scale.shallow_clone(),
            trainable: true,
        }]
    }
}

/// A user-written block nested in a model; a hook slot and `record_forward`
/// give it its own row with an output shape, as torchinfo's hooks do
/// (`Nested` in the script).
struct ConvBlock {
    conv: Conv2d,
    bn: BatchNorm2d,
    hooks: ForwardHooks,
}

impl Module for ConvBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        record_forward(self, || {
            xs.apply_t(&self.conv, train)
                .apply_t(&self.bn, train)
                .relu()
        })
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![("conv".into(), &self.conv), ("bn".into(), &self.bn)]
    }

    fn forward_hooks(&self) -> Option<&ForwardHooks> {
        Some(&self.hooks)
    }
}

struct Nested {
    block: ConvBlock,
    head: Sequential,
}

impl Nested {
    fn new() -> Self {
        Self {
            block: ConvBlock {
                conv: Conv2d::new(1, 4, 3).padding(1),
                bn: BatchNorm2d::new(4),
                hooks: ForwardHooks::default(),
            },
            head: Sequential::new()
                .add(Flatten::new())
                .add(Linear::new(4 * 8 * 8, 3)),
        }
    }
}

impl Module for Nested {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.block.forward_t(xs, train).apply_t(&self.head, train)
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![("block".into(), &self.block), ("head".into(), &self.head)]
    }
}

fn reference(mode: &str) -> Value {
    serde_json::from_str(&common::run_python("nn_reference.py", &[mode])).expect("JSON")
}

fn layer_case(name: &str) -> Box<dyn Module> {
    match name {
        "conv_same" => Box::new(Conv2d::new(1, 32, 3).stride(1).padding("same")),
        "conv_even_same" => Box::new(Conv2d::new(1, 32, 4).padding("same")),
        "conv_tuple" => Box::new(
            Conv2d::new(3, 8, (3, 5))
                .stride((2, 1))
                .padding((1, 2))
                .bias(false),
        ),
        "conv_valid" => Box::new(Conv2d::new(1, 2, 3).padding("valid")),
        "conv_int_padding" => Box::new(Conv2d::new(1, 2, 3).padding(1)),
        "conv_dilation_groups" => Box::new(Conv2d::new(4, 8, 3).padding(2).dilation(2).groups(2)),
        "bn" => Box::new(BatchNorm2d::new(32)),
        "bn_custom" => Box::new(
            BatchNorm2d::new(16)
                .eps(1e-3)
                .momentum(0.01)
                .affine(false)
                .track_running_stats(false),
        ),
        "relu" => Box::new(ReLU::new()),
        "dropout" => Box::new(Dropout::new(0.3)),
        "dropout_default" => Box::new(Dropout::default()),
        "pool" => Box::new(MaxPool2d::new(2).stride(2).padding(1)),
        "pool_default" => Box::new(MaxPool2d::new(2)),
        "pool_tuple" => Box::new(MaxPool2d::new((2, 3)).stride((1, 2)).ceil_mode(true)),
        "flatten" => Box::new(Flatten::new()),
        "flatten_custom" => Box::new(Flatten::new().start_dim(0).end_dim(2)),
        "linear" => Box::new(Linear::new(2048, 256)),
        "linear_no_bias" => Box::new(Linear::new(256, 10).bias(false)),
        "sequential_empty" => Box::new(Sequential::new()),
        "model" => Box::new(MnistCNNModel::new(0.3)),
        "tiny" => Box::new(TinyNet::new()),
        "nested" => Box::new(Nested::new()),
        other => panic!("no Rust counterpart for case {other}"),
    }
}

#[test]
fn printout_equals_pytorch_print_for_the_model_and_each_layer() {
    let reference = reference("repr");
    let cases = reference.as_object().unwrap();
    assert!(cases.len() >= 20);
    for (name, text) in cases {
        let ours = layer_case(name).repr().to_string();
        common::assert_same_lines(name, &ours, text.as_str().unwrap());
    }
    // Layers print the same way through Display.
    assert_eq!(
        MaxPool2d::new(2).stride(2).padding(1).to_string(),
        cases["pool"].as_str().unwrap()
    );
    assert_eq!(
        format!("{}", Conv2d::new(1, 32, 3).stride(1).padding("same")),
        cases["conv_same"].as_str().unwrap()
    );
    assert_eq!(
        cnn_lab::models::MnistCNNModel::new(0.3).to_string(),
        cases["model"].as_str().unwrap()
    );
}

#[test]
fn state_dict_keys_shapes_and_order_equal_pytorch() {
    let reference = reference("state_dict");
    let theirs: Vec<(String, Vec<i64>, String)> = reference
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap().to_string(),
                e[1].as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_i64().unwrap())
                    .collect(),
                e[2].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let kind_name = |k: Kind| match k {
        Kind::Float => "torch.float32",
        Kind::Int64 => "torch.int64",
        _ => "other",
    };
    for model in [
        Box::new(MnistCNNModel::new(0.3)) as Box<dyn Module>,
        Box::new(cnn_lab::models::MnistCNNModel::new(0.3)),
    ] {
        let ours: Vec<(String, Vec<i64>, String)> = model
            .state_dict()
            .into_iter()
            .map(|(k, t)| (k, t.size(), kind_name(t.kind()).to_string()))
            .collect();
        assert_eq!(ours, theirs);
        // Parameters require grad, buffers do not.
        for t in model.named_tensors() {
            assert_eq!(t.tensor.requires_grad(), t.trainable, "{}", t.name);
        }
        assert_eq!(model.num_parameters(), 620_234);
    }
}

#[test]
fn summary_text_and_figures_equal_torchinfo() {
    let reference = reference("summary");
    let model = MnistCNNModel::new(0.3);
    let tiny = TinyNet::new();
    let tiny_frozen = TinyNet::new();
    for layer in [tiny_frozen.head.get(1), tiny_frozen.features.get(0)] {
        let weight = &layer.unwrap().named_parameters()[0].1;
        let _ = weight.set_requires_grad(false);
    }
    let block = &model.b1;
    let linear = Linear::new(2048, 256);
    let nested = Nested::new();
    let deep = Sequential::new()
        .add(
            Sequential::new().add(
                Sequential::new()
                    .add(Sequential::new().add(Linear::new(4, 4)))
                    .add(ReLU::new()),
            ),
        )
        .add(Linear::new(4, 2));
    let cases: Vec<(&str, &dyn Module, Vec<i64>)> = vec![
        ("model_256", &model, vec![256, 1, 28, 28]),
        ("model_1", &model, vec![1, 1, 28, 28]),
        ("tiny", &tiny, vec![2, 3, 32, 32]),
        ("tiny_frozen", &tiny_frozen, vec![2, 3, 32, 32]),
        ("block", block, vec![4, 1, 28, 28]),
        ("linear", &linear, vec![3, 2048]),
        ("nested", &nested, vec![2, 1, 8, 8]),
        ("deep", &deep, vec![2, 4]),
    ];
    for (name, m, size) in cases {
        let theirs = &reference[name];
        let s = summary(m, &size).unwrap();
        assert_eq!(
            s.total_params(),
            theirs["total_params"].as_i64().unwrap(),
            "{name}"
        );
        assert_eq!(
            s.trainable_params(),
            theirs["trainable_params"].as_i64().unwrap(),
            "{name}"
        );
        assert_eq!(
            s.total_mult_adds(),
            theirs["total_mult_adds"].as_i64().unwrap(),
            "{name}"
        );
        let rows: Vec<(String, usize, Vec<i64>)> = s
            .rows()
            .iter()
            .map(|r| (r.type_name.clone(), r.depth, r.output_shape.clone()))
            .collect();
        let their_rows: Vec<(String, usize, Vec<i64>)> = theirs["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_str().unwrap().to_string(),
                    r[1].as_u64().unwrap() as usize,
                    r[2].as_array()
                        .unwrap()
                        .iter()
                        .map(|d| d.as_i64().unwrap())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(rows, their_rows, "{name}: rows (type, depth, output shape)");
        common::assert_same_lines(name, &s.to_string(), theirs["text"].as_str().unwrap());
    }
}

/// A nested user block without `record_forward`: listed the way torchinfo
/// lists a container it never saw called (inserted above its first child),
/// so only its own output shape differs from torchinfo's hooked run.
#[test]
fn summary_lists_an_unrecorded_user_block_as_a_container() {
    struct PlainBlock(ConvBlock);
    impl Module for PlainBlock {
        fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
            xs.apply_t(&self.0.conv, train)
                .apply_t(&self.0.bn, train)
                .relu()
        }
        fn type_name(&self) -> String {
            "ConvBlock".into()
        }
        fn children(&self) -> Vec<(String, &dyn Module)> {
            self.0.children()
        }
    }
    struct PlainNested {
        block: PlainBlock,
        head: Sequential,
    }
    impl Module for PlainNested {
        fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
            self.block.forward_t(xs, train).apply_t(&self.head, train)
        }
        fn type_name(&self) -> String {
            "Nested".into()
        }
        fn children(&self) -> Vec<(String, &dyn Module)> {
            vec![("block".into(), &self.block), ("head".into(), &self.head)]
        }
    }
    let Nested { block, head } = Nested::new();
    let plain = PlainNested {
        block: PlainBlock(block),
        head,
    };
    let reference = reference("summary");
    let theirs = reference["nested"]["text"].as_str().unwrap().replace(
        "├─ConvBlock: 1-1                         [2, 4, 8, 8]",
        "├─ConvBlock: 1-1                         --          ",
    );
    let ours = summary(&plain, &[2, 1, 8, 8]).unwrap().to_string();
    common::assert_same_lines("nested, unrecorded", &ours, theirs.trim_end());
}

#[test]
fn summary_of_the_lecture_model_has_torchinfo_headline_figures() {
    let s = summary(&MnistCNNModel::new(0.3), &[256, 1, 28, 28]).unwrap();
    assert_eq!(s.total_params(), 620_234);
    let text = s.to_string();
    assert!(
        text.contains("Total mult-adds (Units.GIGABYTES): 2.05"),
        "{text}"
    );
    // The HTML table carries the same rows.
    let html = s.to_html();
    assert!(html.contains("│    └─Conv2d: 2-11"), "{html}");
    assert!(html.contains("[256, 128, 4, 4]") && html.contains("524,544"));
    // `{:?}` is the table too, as torchinfo's repr (what an evcxr without the
    // project's kernel shows for a cell's value).
    assert_eq!(format!("{s:?}"), text);
}

#[test]
fn summary_reports_a_shape_mistake_as_an_error() {
    let model = MnistCNNModel::new(0.3);
    let err = summary(&model, &[2, 3, 28, 28]).unwrap_err().to_string();
    assert!(err.starts_with("summary forward pass: "), "{err}");
    assert!(
        err.contains("expected input[2, 3, 28, 28] to have 1 channels"),
        "{err}"
    );
    assert!(err.contains("Conv2d: 2"), "{err}");
    // The recorder is gone: a later summary works.
    assert!(summary(&model, &[1, 1, 28, 28]).is_ok());
}

#[test]
fn summary_reports_a_bad_padding_string_with_the_layer_path() {
    struct Bad {
        b1: Sequential,
    }
    impl Module for Bad {
        fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
            xs.apply_t(&self.b1, train)
        }
        fn children(&self) -> Vec<(String, &dyn Module)> {
            vec![("b1".into(), &self.b1)]
        }
    }
    let bad = Bad {
        b1: Sequential::new()
            .add(ReLU::new())
            .add(Conv2d::new(1, 4, 3).padding("smae")),
    };
    let err = summary(&bad, &[1, 1, 8, 8]).unwrap_err().to_string();
    assert_eq!(
        err,
        "b1.1: Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1)): padding must be \"same\", \"valid\", an int or an (h, w) tuple, got \"smae\""
    );
}
