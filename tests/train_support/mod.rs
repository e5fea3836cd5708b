//! A small model and MNIST reading for the train/checkpoint tests.
//! `TinyCnn` mirrors `tests/python/interop_models.py::TinyCnn`.
#![allow(dead_code)]

use std::path::Path;

use cnn_lab::{BatchNorm2d, Conv2d, DataLoader, Kind, Linear, Module, Tensor};

/// `manual_seed` sets one process-wide generator and the test harness runs
/// tests on parallel threads: tests that draw random numbers take this lock.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// `nn.Linear(i, o)`, for the tests that train a bare linear layer.
pub type Lin = Linear;

/// conv(1→4, 3, padding 1) → bn → relu → maxpool 2 → flatten → dropout →
/// linear(784→out), from cnn_lab's own layers.
#[derive(Module)]
pub struct TinyCnn {
    pub conv: Conv2d,
    pub bn: BatchNorm2d,
    pub fc: Linear,
    pub dropout: f64,
}

impl TinyCnn {
    pub fn new(outputs: i64, dropout: f64) -> TinyCnn {
        TinyCnn {
            conv: Conv2d::new(1, 4, 3).padding(1),
            bn: BatchNorm2d::new(4),
            fc: Linear::new(4 * 14 * 14, outputs),
            dropout,
        }
    }

    pub fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        let h = xs.apply_t(&self.conv, train);
        let h = h.apply_t(&self.bn, train).relu().max_pool2d_default(2);
        let h = h.flatten(1, -1).dropout(self.dropout, train);
        h.apply_t(&self.fc, train)
    }
}

/// The tensor `name` of `model`'s `state_dict` (sharing storage).
pub fn tensor(model: &dyn Module, name: &str) -> Tensor {
    use cnn_lab::ModuleExt;
    model
        .state_dict()
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name} in the state_dict"))
        .1
}

/// The first `n` MNIST images (`[n, 1, 28, 28]`, float in [0, 1], as
/// `ToTensor()`) and labels (int64) of the train or test split.
pub fn mnist(train: bool, n: usize) -> (Tensor, Tensor) {
    let ds = cnn_lab::MNIST::new(crate::common::datasets_root())
        .train(train)
        .download(false)
        .load()
        .unwrap();
    let n = n.min(ds.len()) as i64;
    let x = ds.data.narrow(0, 0, n).unsqueeze(1).to_kind(Kind::Float) / 255.0;
    (x, ds.targets.narrow(0, 0, n))
}

/// A loader over the first `n` images of a split.
pub fn mnist_loader(train: bool, n: usize, batch_size: usize) -> DataLoader {
    let (x, y) = mnist(train, n);
    DataLoader::new(x, y, batch_size).unwrap()
}

/// Runs `tests/python/interop_check.py CMD MODEL …` (see there) and returns
/// its output.
pub fn interop_python(cmd: &str, model: &str, weights: &Path, logits: &Path) -> String {
    let root = crate::common::datasets_root();
    crate::common::run_python(
        "interop_check.py",
        &[
            cmd,
            model,
            root.to_str().unwrap(),
            weights.to_str().unwrap(),
            logits.to_str().unwrap(),
        ],
    )
}

/// Parses interop_check.py's `name value` lines.
pub fn field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no `{name}` in python output:\n{out}"))
}

/// `model` and the PyTorch run that printed `py_out` and wrote `py_logits`
/// agree: eval-mode logits on the first 1,000 test images within 1e-4, the
/// lecture's `test_multi_classification` (batch 256) figures, and the
/// `state_dict` keys in order.
pub fn assert_same_outputs(model: &dyn Module, py_out: &str, py_logits: &Path) {
    use cnn_lab::{read_state_dict, test_multi_classification, CrossEntropyLoss, ModuleExt};
    let (x, _) = mnist(false, 1000);
    let logits = tch::no_grad(|| model.forward_t(&x, false));
    let theirs = read_state_dict(py_logits).unwrap().remove(0).1;
    assert_eq!(logits.size(), theirs.size());
    let diff = (&logits - &theirs).abs().max().double_value(&[]);
    assert!(diff < 1e-4, "max |logit difference| = {diff}");

    let loader = mnist_loader(false, 1000, 256);
    let (loss, acc) = test_multi_classification(
        &loader,
        model,
        &CrossEntropyLoss::new(),
        cnn_lab::Device::Cpu,
    )
    .unwrap();
    let py_acc: f64 = field(py_out, "accuracy").parse().unwrap();
    let py_loss: f64 = field(py_out, "loss").parse().unwrap();
    assert_eq!(acc, py_acc, "accuracy");
    assert!((loss - py_loss).abs() < 1e-5, "loss {loss} vs {py_loss}");
    let keys: Vec<String> = model.state_dict().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        field(py_out, "keys"),
        keys.join(","),
        "state_dict keys and order"
    );
}

/// cnn_lab → PyTorch: trains `model` four batches (Adam 1e-3, seed set by
/// the caller), saves it, has PyTorch's `python_model` load the file with
/// `strict=True`, and checks both give the same outputs.
pub fn check_cnn_lab_to_pytorch(model: &dyn Module, python_model: &str) {
    use cnn_lab::{save_model, train_one_epoch, Adam, CrossEntropyLoss, ModuleExt};
    let dir = crate::common::scratch_dir(&format!("interop_{python_model}_to_torch"));
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    let loader = mnist_loader(true, 1024, 256);
    let loss_fn = CrossEntropyLoss::new();
    train_one_epoch(
        &loader,
        model,
        &loss_fn,
        &mut optimizer,
        cnn_lab::Device::Cpu,
    )
    .unwrap();
    let weights = dir.join("rust.safetensors");
    save_model(model, &weights).unwrap();
    let logits = dir.join("torch_logits.safetensors");
    let out = interop_python("load", python_model, &weights, &logits);
    assert_same_outputs(model, &out, &logits);
}

/// PyTorch → cnn_lab: PyTorch trains `python_model` four batches and saves
/// it with `safetensors.torch.save_file`; the file is loaded into `model`
/// and both must give the same outputs.
pub fn check_pytorch_to_cnn_lab(model: &dyn Module, python_model: &str) {
    let dir = crate::common::scratch_dir(&format!("interop_torch_to_{python_model}"));
    let weights = dir.join("torch.safetensors");
    let logits = dir.join("torch_logits.safetensors");
    let out = interop_python("train", python_model, &weights, &logits);
    cnn_lab::load_model(model, &weights).unwrap();
    assert_same_outputs(model, &out, &logits);
}
