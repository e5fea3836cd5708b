//! PyTorch `.pth` files of every kind, written by the venv's PyTorch
//! (tests/python/pth_files.py), read by cnn_lab: the same logits as PyTorch;
//! hostile files refused without running anything; and cnn_lab's `.pth`
//! read back by `torch.load(weights_only=True)`.

mod common;
mod train_support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cnn_lab::models::MnistCNNModel;
use cnn_lab::pth::{load_pth, PyValue};
use cnn_lab::*;

/// The files pth_files.py writes, made once per test run.
fn files() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::scratch_dir("checkpoint_pth_files");
        let data = common::datasets_root();
        common::run_python(
            "pth_files.py",
            &["write", dir.to_str().unwrap(), data.to_str().unwrap()],
        );
        dir
    })
}

/// Loads `file` into a fresh MnistCNNModel and returns the largest
/// |logit difference| against PyTorch's `logits` file (first 1,000 test
/// images, eval mode).
fn max_logit_difference(file: &str, logits: &str) -> f64 {
    let model = MnistCNNModel::new(0.3);
    load_model(&model, files().join(file)).unwrap();
    let (x, _) = train_support::mnist(false, 1000);
    let ours = tch::no_grad(|| model.forward_t(&x, false));
    let theirs = read_state_dict(files().join(logits)).unwrap().remove(0).1;
    assert_eq!(ours.size(), theirs.size());
    let diff = (&ours - &theirs).abs().max().double_value(&[]);
    println!("{file}: max |logit difference| vs PyTorch = {diff:e}");
    diff
}

#[test]
fn state_dict_pth_gives_pytorchs_logits() {
    assert!(max_logit_difference("state_dict.pth", "float32.logits.safetensors") <= 1e-6);
}

#[test]
fn whole_model_pth_saved_the_seeds_way_gives_pytorchs_logits() {
    assert!(max_logit_difference("whole_model.pth", "float32.logits.safetensors") <= 1e-6);
    // Named as its state_dict() names them, in the same order.
    let from_model = read_state_dict(files().join("whole_model.pth")).unwrap();
    let from_sd = read_state_dict(files().join("state_dict.pth")).unwrap();
    let names = |sd: &[(String, Tensor)]| sd.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(names(&from_model), names(&from_sd));
    assert!(names(&from_sd).contains(&"b1.1.num_batches_tracked".to_string()));
}

#[test]
fn general_checkpoint_finds_the_model_and_keeps_the_rest() {
    assert!(max_logit_difference("checkpoint.pth", "float32.logits.safetensors") <= 1e-6);
    let checkpoint = load_pth(files().join("checkpoint.pth")).unwrap();
    assert_eq!(checkpoint.get("epoch").and_then(PyValue::as_int), Some(2));
    assert_eq!(
        checkpoint.get("loss").and_then(PyValue::as_float),
        Some(0.5)
    );
    let optimizer = checkpoint.get("optimizer_state_dict").unwrap();
    let groups = optimizer
        .get("param_groups")
        .and_then(PyValue::items)
        .unwrap();
    assert_eq!(groups[0].get("lr").and_then(PyValue::as_float), Some(1e-3));
    let state = optimizer.get("state").unwrap();
    let first = state.get_item(&PyValue::from(0)).unwrap();
    assert_eq!(
        first
            .get("exp_avg")
            .and_then(PyValue::as_tensor)
            .unwrap()
            .size(),
        [32, 1, 3, 3]
    );
    let history = checkpoint.get("history").unwrap();
    assert_eq!(
        history.get("note").and_then(PyValue::as_str),
        Some("two batches")
    );
    // The entry named explicitly gives the same tensors.
    let model = MnistCNNModel::new(0.3);
    load_model_entry(&model, files().join("checkpoint.pth"), "model_state_dict").unwrap();
    let err = load_model_entry(&model, files().join("checkpoint.pth"), "history")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"history\" is a dict, not a state_dict"),
        "{err}"
    );
}

#[test]
fn tensors_saved_on_cuda_load_onto_the_cpu_model() {
    assert!(max_logit_difference("cuda_tagged.pth", "float32.logits.safetensors") <= 1e-6);
}

#[test]
fn float16_state_dict_loads_into_a_float32_model() {
    assert!(max_logit_difference("float16.pth", "float16.logits.safetensors") <= 1e-6);
}

#[test]
fn views_with_offsets_and_strides_of_one_storage_load() {
    assert!(max_logit_difference("views.pth", "float32.logits.safetensors") <= 1e-6);
}

#[test]
fn every_dtype_and_shared_storage_reads_as_pytorch_wrote_it() {
    let value = load_pth(files().join("dtypes.pth")).unwrap();
    let expected = read_state_dict(files().join("dtypes.safetensors")).unwrap();
    for (name, want) in &expected {
        let got = value.get(name).and_then(PyValue::as_tensor).unwrap();
        assert_eq!(got.kind(), want.kind(), "{name}");
        assert_eq!(got.size(), want.size(), "{name}");
        assert!(got.equal(want), "{name}: {got:?} vs {want:?}");
    }
    // One storage behind all four "shared" tensors, as in PyTorch.
    let ptr = |k: &str| {
        value
            .get(k)
            .and_then(PyValue::as_tensor)
            .unwrap()
            .data_ptr() as usize
    };
    assert_eq!(ptr("shared_a"), ptr("shared_b"));
    assert_eq!(ptr("shared_tail"), ptr("shared_a") + 5 * 4);
    assert_eq!(ptr("shared_cols"), ptr("shared_a") + 4);
}

/// A hostile file: refused with the global's name, and its payload (which
/// would create `marker`) did not run; then Python's own pickle runs the
/// same bytes and creates it, so the file really was live.
fn assert_refused_and_not_run(file: &str, global: &str, marker: &str) {
    let path = files().join(file);
    let marker = files().join(marker);
    let model = MnistCNNModel::new(0.3);
    let err = load_model(&model, &path).unwrap_err().to_string();
    assert!(err.starts_with(&path.display().to_string()), "{err}");
    assert!(err.contains(&format!("GLOBAL {global}")), "{err}");
    assert!(
        !marker.exists(),
        "{} exists: the payload ran",
        marker.display()
    );
    assert!(load_pth(&path).is_err());
    common::run_python("pth_files.py", &["run-payload", path.to_str().unwrap()]);
    assert!(marker.exists(), "the payload is live in Python");
}

#[test]
fn pickle_calling_os_system_is_refused_by_name_and_nothing_runs() {
    assert_refused_and_not_run("os_system.pth", "os.system", "ran_os_system");
}

#[test]
fn pickle_reducing_builtins_eval_is_refused_by_name_and_nothing_runs() {
    assert_refused_and_not_run("builtins_eval.pth", "builtins.eval", "ran_eval");
}

#[test]
fn pth_written_by_cnn_lab_loads_in_pytorch_weights_only_with_same_accuracy() {
    let model = MnistCNNModel::new(0.3);
    load_model(&model, files().join("whole_model.pth")).unwrap();
    let dir = common::scratch_dir("checkpoint_pth_roundtrip");
    let path = dir.join("mnist_cnn_model.pth");
    save_model(&model, &path).unwrap();
    let logits = dir.join("torch_logits.safetensors");
    let out = common::run_python(
        "pth_files.py",
        &[
            "check",
            path.to_str().unwrap(),
            common::datasets_root().to_str().unwrap(),
            logits.to_str().unwrap(),
        ],
    );
    train_support::assert_same_outputs(&model, &out, &logits);
    let (x, _) = train_support::mnist(false, 1000);
    let ours = tch::no_grad(|| model.forward_t(&x, false));
    let theirs = read_state_dict(&logits).unwrap().remove(0).1;
    let diff = (&ours - &theirs).abs().max().double_value(&[]);
    println!(
        "cnn_lab's .pth in PyTorch: accuracy {}, max |logit difference| = {diff:e}",
        train_support::field(&out, "accuracy")
    );
    assert!(diff <= 1e-6);
    // And cnn_lab reads its own file back.
    let again = MnistCNNModel::new(0.3);
    load_model(&again, &path).unwrap();
    assert!(again.classifier.state_dict()[0]
        .1
        .equal(&model.classifier.state_dict()[0].1));
}

#[test]
fn checkpoint_tree_written_by_cnn_lab_loads_in_pytorch_weights_only() {
    let dir = common::scratch_dir("checkpoint_pth_tree");
    let path = dir.join("checkpoint.pth");
    let w = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).view([2, 2]);
    let tree = PyValue::dict([
        ("epoch", PyValue::from(3)),
        (
            "model_state_dict",
            PyValue::state_dict(&[("fc.weight".to_string(), w)]),
        ),
        (
            "optimizer_state_dict",
            PyValue::dict([
                (
                    "state",
                    PyValue::Dict(vec![(
                        PyValue::from(0),
                        PyValue::dict([("step", PyValue::from(Tensor::from(5.0f32)))]),
                    )]),
                ),
                (
                    "param_groups",
                    PyValue::from(vec![PyValue::dict([
                        ("lr", PyValue::from(0.001)),
                        ("betas", PyValue::Tuple(vec![0.9.into(), 0.999.into()])),
                        ("fused", PyValue::None),
                        ("amsgrad", PyValue::from(false)),
                        ("params", PyValue::from(vec![PyValue::from(0)])),
                    ])]),
                ),
            ]),
        ),
        ("big", PyValue::from(-(1i64 << 40))),
        ("note", PyValue::from("한글 ok")),
        ("bytes", PyValue::Bytes(vec![0, 255, 7])),
        ("rng", PyValue::from(Tensor::from_slice(&[1u8, 2, 3]))),
        ("flags", PyValue::from(Tensor::from_slice(&[true, false]))),
    ]);
    cnn_lab::pth::save_pth(&path, &tree).unwrap();
    let shown = common::run_python("pth_files.py", &["show", path.to_str().unwrap()]);
    assert_eq!(
        shown.trim(),
        "{'epoch': 3, 'model_state_dict': ('OrderedDict', {'fc.weight': 'T(torch.float32, [2, 2], 10.0)'}), \
         'optimizer_state_dict': {'state': {0: {'step': 'T(torch.float32, [], 5.0)'}}, \
         'param_groups': [{'lr': 0.001, 'betas': (0.9, 0.999), 'fused': None, 'amsgrad': False, \
         'params': [0]}]}, 'big': -1099511627776, 'note': '한글 ok', 'bytes': b'\\x00\\xff\\x07', \
         'rng': 'T(torch.uint8, [3], 6.0)', 'flags': 'T(torch.bool, [2], 1.0)'}"
    );
}

#[test]
fn torchscript_archive_error_says_to_save_the_state_dict() {
    let err = read_state_dict(files().join("torchscript.pt"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("TorchScript"), "{err}");
    assert!(
        err.contains("torch.save(model.state_dict(), path)"),
        "{err}"
    );
}

#[test]
fn pre_1_6_format_state_dict_and_whole_model_give_pytorchs_logits() {
    for file in ["legacy_state_dict.pth", "legacy_whole_model.pth"] {
        assert!(max_logit_difference(file, "float32.logits.safetensors") <= 1e-6);
    }
    // Cut short, it is an error naming the file and the format.
    let bytes = std::fs::read(files().join("legacy_state_dict.pth")).unwrap();
    let cut = files().join("legacy_cut.pth");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let err = read_state_dict(&cut).unwrap_err().to_string();
    assert!(err.starts_with(&cut.display().to_string()), "{err}");
    assert!(err.contains("pre-1.6 format: truncated"), "{err}");
}
