//! `#[derive(Module)]` against PyTorch: a struct with nested blocks, a `Vec`
//! of blocks (`nn.ModuleList`), a skipped field, a raw parameter and a
//! buffer give PyTorch's `print(model)`, `state_dict()` keys and shapes,
//! `named_parameters()`, torchinfo's table (the user's blocks get their
//! rows) and the same outputs with PyTorch's weights copied in.

mod common;

use std::collections::HashMap;

use cnn_lab::*;

#[derive(Module)]
struct ConvBlock {
    conv: Conv2d,
    bn: BatchNorm2d,
}

impl ConvBlock {
    fn new(cin: i64, cout: i64) -> ConvBlock {
        ConvBlock {
            conv: Conv2d::new(cin, cout, 3).padding(1),
            bn: BatchNorm2d::new(cout),
        }
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.conv, train).apply_t(&self.bn, train).relu()
    }
}

#[derive(Module)]
struct DerivedNet {
    #[module(param)]
    scale: Tensor,
    #[module(buffer)]
    offset: Tensor,
    stem: ConvBlock,
    blocks: Vec<ConvBlock>,
    head: Sequential,
    extra: Option<Dropout>,
    #[module(skip)]
    history: Vec<f64>,
    dropout_rate: f64,
}

impl DerivedNet {
    fn new() -> DerivedNet {
        DerivedNet {
            scale: Tensor::full([1], 0.5, (Kind::Float, Device::Cpu)).set_requires_grad(true),
            offset: Tensor::zeros([3], (Kind::Float, Device::Cpu)),
            stem: ConvBlock::new(1, 4),
            blocks: vec![
                ConvBlock::new(4, 4),
                ConvBlock::new(4, 4),
                ConvBlock::new(4, 6),
            ],
            head: Sequential::new()
                .add(Flatten::new())
                .add(Linear::new(6 * 8 * 8, 3)),
            extra: None,
            history: Vec::new(),
            dropout_rate: 0.25,
        }
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let mut x = x.apply_t(&self.stem, train);
        for block in &self.blocks {
            x = x.apply_t(block, train);
        }
        if let Some(dropout) = &self.extra {
            x = x.apply_t(dropout, train);
        }
        x.apply_t(&self.head, train) * &self.scale + &self.offset
    }
}

#[derive(Module)]
struct Outer {
    inner: DerivedNet,
    post: ReLU,
}

impl Outer {
    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.inner, train).apply_t(&self.post, train)
    }
}

struct Reference {
    json: serde_json::Value,
    tensors: HashMap<String, Tensor>,
}

fn reference() -> Reference {
    let dir = common::scratch_dir("nn_derive");
    let out = common::run_python("nn_derive_reference.py", &[dir.to_str().unwrap()]);
    let json = serde_json::from_str(out.trim()).expect("reference JSON");
    let tensors = Tensor::read_safetensors(dir.join("derive.safetensors"))
        .expect("reference tensors")
        .into_iter()
        .collect();
    Reference { json, tensors }
}

fn check_case(r: &Reference, case: &str, model: &dyn Module) {
    let want = &r.json[case];
    assert_eq!(
        model.repr().to_string(),
        want["repr"].as_str().unwrap(),
        "{case}: print(model)"
    );
    let keys: Vec<(String, Vec<i64>)> = model
        .state_dict()
        .into_iter()
        .map(|(k, t)| (k, t.size()))
        .collect();
    let want_keys: Vec<(String, Vec<i64>)> = want["state_dict"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| {
            let shape = kv[1]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_i64().unwrap())
                .collect();
            (kv[0].as_str().unwrap().to_string(), shape)
        })
        .collect();
    assert_eq!(keys, want_keys, "{case}: state_dict keys and shapes");
    let params: Vec<String> = model
        .named_parameters()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let want_params: Vec<String> = want["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    assert_eq!(params, want_params, "{case}: named_parameters");
    let ours = summary(model, &[2, 1, 8, 8]).unwrap().to_string();
    assert_eq!(
        ours,
        want["summary"].as_str().unwrap(),
        "{case}: torchinfo table"
    );

    let sd: Vec<(String, Tensor)> = model
        .state_dict()
        .into_iter()
        .map(|(k, _)| {
            let t = r.tensors[&format!("{case}.{k}")].shallow_clone();
            (k, t)
        })
        .collect();
    load_state_dict(model, &sd).unwrap();
    let ours = model.forward_t(&r.tensors["x"], false);
    let diff = (&ours - &r.tensors[&format!("{case}.out")])
        .abs()
        .max()
        .double_value(&[]);
    println!("{case}: max |ours - torch| = {diff:e}");
    assert!(diff < 1e-5, "{case}: outputs differ by {diff}");
}

#[test]
fn derived_models_print_save_summarise_and_compute_like_pytorch() {
    let r = reference();
    check_case(&r, "derived", &DerivedNet::new());
    check_case(
        &r,
        "outer",
        &Outer {
            inner: DerivedNet::new(),
            post: ReLU::new(),
        },
    );
}

#[test]
fn a_derived_model_displays_like_print_model_and_trains_every_field() {
    let net = DerivedNet::new();
    assert_eq!(format!("{net}"), net.repr().to_string());
    assert_eq!(format!("{net:?}"), net.repr().to_string());
    // Every registered parameter gets a gradient from one backward pass.
    let x = Tensor::randn([2, 1, 8, 8], (Kind::Float, Device::Cpu));
    net.forward_t(&x, true).sum(Kind::Float).backward();
    let params = net.named_parameters();
    assert_eq!(params.len(), 1 + 4 * 4 + 2);
    for (name, p) in params {
        assert!(p.grad().defined(), "{name} got no gradient");
    }
    assert_eq!(net.history.len() + net.dropout_rate as usize, 0);
}

#[test]
fn an_option_child_is_registered_when_some() {
    let mut net = DerivedNet::new();
    net.extra = Some(Dropout::new(0.1));
    let names: Vec<String> = net.children().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["stem", "blocks", "head", "extra"]);
    assert!(net
        .repr()
        .to_string()
        .contains("(extra): Dropout(p=0.1, inplace=False)"));
}

#[test]
fn a_parameter_without_requires_grad_is_an_error_naming_it() {
    let mut net = DerivedNet::new();
    net.scale = Tensor::ones([1], (Kind::Float, Device::Cpu));
    let err = net.validate().unwrap_err().to_string();
    assert!(
        err.contains("parameter `scale` does not require grad"),
        "{err}"
    );
    let x = Tensor::zeros([1, 1, 8, 8], (Kind::Float, Device::Cpu));
    assert!(net.try_forward_t(&x, false).is_err());
}

#[test]
fn a_module_list_has_no_forward_of_its_own() {
    let list = vec![ReLU::new(), ReLU::new()];
    let x = Tensor::zeros([1], (Kind::Float, Device::Cpu));
    let err = list.try_forward_t(&x, false).unwrap_err().to_string();
    assert!(err.contains("ModuleList has no forward pass"), "{err}");
    assert_eq!(
        list.repr().to_string(),
        "ModuleList(\n  (0-1): 2 x ReLU()\n)"
    );
}
