//! torchvision's classification models (`cnn_lab::models`) against
//! torchvision itself, from one run of `tests/python/models_reference.py`:
//! `print(model)` text, `state_dict` keys, shapes and dtypes, torchinfo's
//! table, the weight initialisation (each parameter's mean and spread),
//! and the eval-mode logits with torchvision's weights loaded from its
//! `torch.save(model.state_dict())` file, and with them real photos through
//! each weights' own `transforms()` (the same top-1). Also head replacement,
//! the registry and weights (the hub cache, densenet's old key names).

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use cnn_lab::models::{self, DenseNet121_Weights, ModelOptions, ResNet18_Weights};
use cnn_lab::*;
use serde_json::Value;

/// The reference files, written once per test binary.
fn reference_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::scratch_dir("models_torchvision");
        common::run_python("models_reference.py", &[dir.to_str().unwrap()]);
        dir
    })
}

fn meta() -> &'static Value {
    static META: OnceLock<Value> = OnceLock::new();
    META.get_or_init(|| {
        let text =
            std::fs::read_to_string(reference_dir().join("models.json")).expect("models.json");
        serde_json::from_str(&text).expect("JSON")
    })
}

fn tensors() -> HashMap<String, Tensor> {
    Tensor::read_safetensors(reference_dir().join("models.safetensors"))
        .expect("read reference tensors")
        .into_iter()
        .collect()
}

/// Every model the test compares, by torchvision's name.
const NAMES: &[&str] = &[
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "alexnet",
    "squeezenet1_0",
    "squeezenet1_1",
    "densenet121",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "efficientnet_b0",
    "googlenet",
    "convnext_tiny",
    "regnet_y_400mf",
];

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_i64().unwrap())
        .collect()
}

fn dtype(kind: Kind) -> &'static str {
    match kind {
        Kind::Float => "torch.float32",
        Kind::Int64 => "torch.int64",
        _ => "other",
    }
}

/// Printout, `state_dict` and torchinfo's table of `model` against the entry `case`.
fn check_structure(case: &str, model: &dyn Module) {
    let m = &meta()[case];
    common::assert_same_lines(case, &model.repr().to_string(), m["repr"].as_str().unwrap());
    let ours: Vec<(String, Vec<i64>, &str)> = model
        .state_dict()
        .into_iter()
        .map(|(k, t)| (k, t.size(), dtype(t.kind())))
        .collect();
    let theirs: Vec<(String, Vec<i64>, &str)> = m["state_dict"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap().to_string(),
                ints(&e[1]),
                e[2].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(ours, theirs, "{case}: state_dict keys, shapes, dtypes");
    let s = summary(model, &ints(&m["input"])).unwrap();
    common::assert_summary_equals(case, &s, &m["summary"]);
}

/// The model `name`, without the initialisation where the reference skipped
/// it too (the VGGs beyond vgg11: `init_weights=False`).
fn build(name: &str) -> Box<dyn Module + Send> {
    if meta()[name]["init"].is_null() {
        models::get_model_with(name, None, ModelOptions::new().init_weights(false)).unwrap()
    } else {
        models::get_model(name, None).unwrap()
    }
}

#[test]
fn every_model_prints_and_summarises_like_torchvision() {
    for name in NAMES {
        check_structure(name, build(name).as_ref());
    }
}

#[test]
fn every_model_is_initialised_as_torchvision_initialises_it() {
    for name in NAMES {
        let stats = &meta()[*name]["init"];
        if stats.is_null() {
            continue;
        }
        let model = models::get_model(name, None).unwrap();
        for (key, t) in model.named_parameters() {
            let s = &stats[&key];
            let (mean, std, numel) = (
                s[0].as_f64().unwrap(),
                s[1].as_f64().unwrap(),
                s[2].as_i64().unwrap(),
            );
            let t = t.to_kind(Kind::Double);
            let our_mean = t.mean(Kind::Double).double_value(&[]);
            if std == 0.0 {
                // Constant tensors (BatchNorm's ones and zeros, zeroed biases).
                let constant =
                    numel == 1 || t.eq_tensor(&t.flatten(0, -1).get(0)).all().int64_value(&[]) == 1;
                let close = (our_mean - mean).abs() <= 1e-6 * mean.abs();
                assert!(constant && close, "{name}.{key}: {our_mean} vs {mean}");
                continue;
            }
            if numel < 10_000 {
                continue; // too few values for the spread to say much
            }
            // The median of |x| (robust to trunc_normal_'s rare values at its
            // bounds) within 10 %, about 6 standard errors at 10 000 values;
            // the mean within 6 standard errors of a difference of means.
            let spread = t.abs().median().double_value(&[]);
            assert!(
                (spread / std - 1.0).abs() < 0.1,
                "{name}.{key}: median |x| {spread} vs torchvision's {std}"
            );
            let sigma = std / 0.6745;
            let tolerance = 6.0 * sigma * (2.0 / numel as f64).sqrt();
            assert!(
                (our_mean - mean).abs() < tolerance,
                "{name}.{key}: mean {our_mean} vs torchvision's {mean}"
            );
        }
    }
}

/// Real photos through each weights member's own `transforms()` (every
/// distinct preset of the model's weights) as torchvision's preset makes
/// them (within 1e-4), and then through the model: torchvision's top-1
/// class for every photo. Random weights amplify float rounding into the
/// logits, so the probabilities are only reported.
fn check_photos(name: &str, model: &dyn Module, photos: &[Tensor], t: &HashMap<String, Tensor>) {
    let members = meta()[name]["photo_weights"].as_object().unwrap();
    assert!(!members.is_empty(), "{name}: no weights with photos");
    for (member, preset_index) in members {
        let weights = models::get_model_weights(name)
            .unwrap()
            .iter()
            .find(|w| w.member_name() == member)
            .unwrap_or_else(|| panic!("{name}: no weights {member}"));
        let preset = weights.transforms();
        let batch: Vec<Tensor> = photos
            .iter()
            .map(|p| preset.apply_one(p, 0).unwrap())
            .collect();
        let batch = Tensor::stack(&batch, 0);
        let reference = &t[&format!("preset{preset_index}")];
        let input_diff = common::max_abs_diff(&batch, reference);
        assert!(
            input_diff < 1e-4,
            "{weights}: the preset's output differs by {input_diff}"
        );
        let probs = model.forward_t(&batch, false).softmax(1, Kind::Float);
        let expected = &t[&format!("{name}.photos.{member}")];
        let ours_top1 = Vec::<i64>::try_from(probs.argmax(1, false)).unwrap();
        let theirs_top1 = Vec::<i64>::try_from(expected.argmax(1, false)).unwrap();
        let top_prob = expected.max().double_value(&[]);
        let diff = common::max_abs_diff(&probs, expected);
        eprintln!(
            "{weights}: top-1 {ours_top1:?} (max probability {top_prob:.3}), input \
             difference {input_diff:.1e}, max probability difference {diff:.1e}"
        );
        assert_eq!(
            ours_top1, theirs_top1,
            "{weights}: top-1 classes of the photos"
        );
    }
}

#[test]
fn every_model_computes_torchvisions_eval_outputs_and_photo_top1_with_its_weights() {
    let t = tensors();
    // torchvision.io.read_image's photos: the presets' input as torchvision
    // has it (cnn_lab's own decoding: the test after this one).
    let predicted = meta()["_photos_predicted"].as_i64().unwrap();
    let photos: Vec<Tensor> = (0..predicted)
        .map(|i| t[&format!("photo{i}")].shallow_clone())
        .collect();
    for name in NAMES {
        if !meta()[*name]["weights"].as_bool().unwrap() {
            continue;
        }
        let model = models::get_model(name, None).unwrap();
        load_model(model.as_ref(), reference_dir().join(format!("{name}.pth"))).unwrap();
        check_photos(name, model.as_ref(), &photos, &t);
        let out = model.forward_t(&t[&format!("{name}.x")], false);
        let expected = &t[&format!("{name}.out")];
        let diff = common::max_abs_diff(&out, expected);
        let scale = expected.abs().max().double_value(&[]);
        // PyTorch's own channels-last output against its default one:
        // cnn_lab computes eval-mode convolutions channels-last, and float32
        // rounding in another layout accumulates over depth (ResNet-101's
        // 100 random layers move PyTorch's own logits by ~3e-4).
        let channels_last = &t[&format!("{name}.out_channels_last")];
        let layout = common::max_abs_diff(expected, channels_last);
        let diff_cl = common::max_abs_diff(&out, channels_last);
        eprintln!(
            "{name}: max |logit| {scale:.3}, max difference {diff:.2e} (PyTorch's own, \
             channels-last: {layout:.2e}; cnn_lab against that: {diff_cl:.2e})"
        );
        assert!(
            diff_cl < 1e-4 * scale.max(1.0),
            "{name}: logits differ from PyTorch's channels-last ones by {diff_cl}"
        );
        // 1e-4, relative to the logits where they exceed 1, or twice what
        // the layout alone moves PyTorch's logits, whichever is larger.
        let tolerance = (1e-4 * scale.max(1.0)).max(2.0 * layout);
        assert!(
            diff < tolerance,
            "{name}: logits differ by {diff} (max |logit| {scale})"
        );
    }
}

/// The photos as cnn_lab's `read_image` decodes them: the PNGs as
/// torchvision's `read_image`; the JPEG within 2 of torchvision's (libjpeg)
/// (another decoder, zune-jpeg; enough to flip a random-weights top-1 class,
/// which is why the photo check above starts from torchvision's pixels).
#[test]
fn the_photos_decode_as_torchvision_decodes_them() {
    let t = tensors();
    for (i, path) in meta()["_photos"].as_array().unwrap().iter().enumerate() {
        let path = path.as_str().unwrap();
        let ours = read_image(path).unwrap().to_kind(Kind::Int);
        let theirs = t[&format!("photo{i}")].to_kind(Kind::Int);
        assert_eq!(ours.size(), theirs.size(), "{path}");
        let diff = (&ours - &theirs).abs();
        let (max, count) = (
            diff.max().int64_value(&[]),
            diff.gt(0).sum(Kind::Int64).int64_value(&[]),
        );
        eprintln!(
            "{path}: {count} of {} values differ, by at most {max}",
            ours.numel()
        );
        let allowed = if path.ends_with(".png") { 0 } else { 2 };
        assert!(max <= allowed, "{path}: values differ by {max}");
    }
}

#[test]
fn heads_are_replaced_as_in_pytorch() {
    let mut resnet = models::resnet18(None).unwrap();
    resnet.fc = Linear::new(512, 2);
    check_structure("resnet18_fc2", &resnet);

    let mut alex = models::alexnet(None).unwrap();
    alex.classifier.set(6, Linear::new(4096, 2)).unwrap();
    check_structure("alexnet_head2", &alex);
    assert!(alex.classifier.set(7, Linear::new(4096, 2)).is_err());

    let mnv3 =
        models::mobilenet_v3_small_with(None, ModelOptions::new().num_classes(10).dropout(0.5))
            .unwrap();
    check_structure("mobilenet_v3_small_10", &mnv3);
}

#[test]
fn the_registry_is_torchvisions() {
    let theirs: Vec<&str> = meta()["_list_models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let ours = models::list_models();
    assert_eq!(ours.len(), NAMES.len());
    for name in &ours {
        assert!(theirs.contains(name), "{name} is not torchvision's");
        assert!(NAMES.contains(name), "{name} is not tested");
    }
    let err = models::get_model("resnet7", None).unwrap_err().to_string();
    assert!(err.contains("Unknown model resnet7"), "{err}");
    let err = models::get_model_with("vgg11", None, ModelOptions::new().zero_init_residual(true))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("vgg11() got an unexpected keyword argument 'zero_init_residual'"),
        "{err}"
    );
}

/// Weights from PyTorch's hub cache (`$TORCH_HOME/hub/checkpoints`): loaded
/// strictly, deciding `num_classes`; densenet's published old-style keys
/// renamed as torchvision renames them.
#[test]
fn weights_load_from_the_hub_cache() {
    let t = tensors();
    let home = common::scratch_dir("models_torchvision_hub");
    let checkpoints = home.join("hub/checkpoints");
    std::fs::create_dir_all(&checkpoints).unwrap();
    std::fs::copy(
        reference_dir().join("resnet18.pth"),
        checkpoints.join(ResNet18_Weights::IMAGENET1K_V1.file_name()),
    )
    .unwrap();
    std::fs::copy(
        reference_dir().join("densenet_old.pth"),
        checkpoints.join(DenseNet121_Weights::IMAGENET1K_V1.file_name()),
    )
    .unwrap();
    std::env::set_var("TORCH_HOME", &home);

    let resnet_weights = ResNet18_Weights::IMAGENET1K_V1;
    let model = models::resnet18(Some(resnet_weights)).unwrap();
    let diff = common::max_abs_diff(
        &model.forward_t(&t["resnet18.x"], false),
        &t["resnet18.out"],
    );
    assert!(diff < 1e-4, "resnet18 from the cache: {diff}");
    let err = models::resnet18_with(Some(resnet_weights), ModelOptions::new().num_classes(2))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("The parameter 'num_classes' expected value 1000 but got 2 instead"),
        "{err}"
    );
    // Strict: resnet34 has keys the file lacks.
    assert!(models::resnet34(Some(resnet_weights)).is_err());

    let densenet_weights = DenseNet121_Weights::IMAGENET1K_V1;
    let model = models::densenet121(Some(densenet_weights)).unwrap();
    let diff = common::max_abs_diff(
        &model.forward_t(&t["densenet121.x"], false),
        &t["densenet121.out"],
    );
    assert!(diff < 1e-4, "densenet121 from old-style keys: {diff}");
}

/// A torchvision model trains like any model: a step of SGD moves the
/// weights, frozen parameters (`requires_grad = False`) stay.
#[test]
fn a_model_trains_and_freezes() {
    let mut model = models::squeezenet1_1_with(None, ModelOptions::new().num_classes(3)).unwrap();
    model.classifier.set(1, Conv2d::new(512, 3, 1)).unwrap();
    for (name, p) in model.named_parameters() {
        if name.starts_with("features.") {
            let _ = p.shallow_clone().set_requires_grad(false);
        }
    }
    let trainable: Vec<Tensor> = model
        .parameters()
        .into_iter()
        .filter(|p| p.requires_grad())
        .collect();
    assert_eq!(trainable.len(), 2);
    let before = trainable[0].copy();
    let frozen_before = model.features.state_dict()[0].1.copy();
    let x = Tensor::randn([2, 3, 64, 64], (Kind::Float, Device::Cpu));
    let loss = model
        .forward_t(&x, true)
        .cross_entropy_for_logits(&Tensor::from_slice(&[0i64, 2]));
    loss.backward();
    tch::no_grad(|| {
        for p in &trainable {
            let _ = p.shallow_clone().f_sub_(&(p.grad() * 0.1)).unwrap();
        }
    });
    assert!(common::max_abs_diff(&trainable[0], &before) > 0.0);
    assert_eq!(
        common::max_abs_diff(&model.features.state_dict()[0].1, &frozen_before),
        0.0
    );
}
