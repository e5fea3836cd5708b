//! `predict` and `predict_folder` against the lecture's PyTorch helper
//! (`tests/python/predict_reference.py`): a resnet18 whose weights the
//! script saves into a scratch `TORCH_HOME` under the hub's file name, loaded
//! here with `resnet18(Some(ResNet18_Weights::IMAGENET1K_V1))`, predicting
//! scikit-image's photos through the weights' own `transforms()`.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use cnn_lab::models::{self, ResNet, ResNet18_Weights};
use cnn_lab::*;
use serde_json::Value;

struct Fixture {
    dir: PathBuf,
    reference: Value,
}

/// Runs the script once and points `TORCH_HOME` at its folder.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = common::scratch_dir("utils_predict");
        common::run_python("predict_reference.py", &[dir.to_str().unwrap()]);
        std::env::set_var("TORCH_HOME", dir.join("torch_home"));
        let text = std::fs::read_to_string(dir.join("reference.json")).unwrap();
        Fixture {
            reference: serde_json::from_str(&text).unwrap(),
            dir,
        }
    })
}

/// The script's resnet18, from the hub cache as a notebook loads it.
fn model() -> ResNet {
    fixture();
    models::resnet18(Some(ResNet18_Weights::IMAGENET1K_V1)).unwrap()
}

fn check(p: &Prediction, reference: &Value) {
    let ctx = p.path.display().to_string();
    let indices: Vec<i64> = reference["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(p.classes, indices, "{ctx}");
    for (ours, theirs) in p
        .probabilities
        .iter()
        .zip(reference["probabilities"].as_array().unwrap())
    {
        let theirs = theirs.as_f64().unwrap();
        assert!((ours - theirs).abs() < 1e-4, "{ctx}: {ours} vs {theirs}");
    }
    let names: Vec<&str> = reference["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(p.names, names, "{ctx}");
}

#[test]
fn predict_matches_pytorch_on_a_photo() {
    let f = fixture();
    let model = model();
    let transform = ResNet18_Weights::IMAGENET1K_V1.transforms();
    let p = predict(&model, f.dir.join("photos/chelsea.png"), &transform, 5).unwrap();
    check(&p, &f.reference["chelsea.png"]);
    // The printout: the file, then one numbered line per class.
    let text = p.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines[0].ends_with("chelsea.png"), "{text}");
    assert_eq!(
        lines[1],
        format!("  1. {}  {:.4}", p.names[0], p.probabilities[0])
    );
    assert_eq!(p.top1(), (p.names[0].as_str(), p.probabilities[0]));
    // k = 1 keeps the best class only.
    let one = predict(&model, f.dir.join("photos/chelsea.png"), &transform, 1).unwrap();
    assert_eq!(one.classes, p.classes[..1]);
}

#[test]
fn the_picture_renders_the_photo_with_its_list() {
    let f = fixture();
    let model = model();
    let transform = ResNet18_Weights::IMAGENET1K_V1.transforms();
    let p = predict(&model, f.dir.join("photos/chelsea.png"), &transform, 3).unwrap();
    let png = p.render().unwrap();
    // chelsea.png is 451×300: drawn at least 128 pixels wide, with four
    // title lines (file name and three classes) above it.
    assert!(
        png.width() >= 128 && png.height() > 4 * 14 + 85,
        "{}×{}",
        png.width(),
        png.height()
    );
    assert_eq!(&png.bytes()[1..4], b"PNG");
}

#[test]
fn caller_categories_rename_the_classes() {
    let f = fixture();
    let model = model();
    let transform = ResNet18_Weights::IMAGENET1K_V1.transforms();
    let p = predict(&model, f.dir.join("photos/coffee.png"), &transform, 2).unwrap();
    let names: Vec<String> = (0..1000).map(|i| format!("class{i}")).collect();
    let renamed = p.categories(&names);
    assert_eq!(
        renamed.names,
        renamed
            .classes
            .iter()
            .map(|c| format!("class{c}"))
            .collect::<Vec<_>>()
    );
    // Fewer names than classes: the others keep their numbers.
    let p = predict(&model, f.dir.join("photos/coffee.png"), &transform, 2)
        .unwrap()
        .categories(&["only one"]);
    assert_eq!(p.names[0], p.classes[0].to_string());
}

#[test]
fn a_folder_matches_pytorch_photo_by_photo() {
    let f = fixture();
    let model = model();
    let transform = ResNet18_Weights::IMAGENET1K_V1.transforms();
    let all = predict_folder(&model, f.dir.join("photos"), &transform, 5).unwrap();
    let files: Vec<String> = all
        .predictions
        .iter()
        .map(|p| p.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["chelsea.png", "coffee.png", "rocket.jpg"]);
    for (p, name) in all.predictions.iter().zip(&files) {
        check(p, &f.reference[name.as_str()]);
    }
    let text = all.to_string();
    assert!(
        text.starts_with(&format!(
            "chelsea.png: {} ({:.4})",
            all.predictions[0].names[0], all.predictions[0].probabilities[0]
        )),
        "{text}"
    );
    let png = all.columns(2).render().unwrap();
    // Two columns of 112-pixel photos, two rows.
    assert!(
        png.width() >= 2 * 112 && png.height() >= 2 * 112,
        "{}×{}",
        png.width(),
        png.height()
    );
}

#[test]
fn errors_name_the_file() {
    let f = fixture();
    let model = model();
    let transform = ResNet18_Weights::IMAGENET1K_V1.transforms();
    let missing = f.dir.join("photos/no_such_photo.jpg");
    let err = predict(&model, &missing, &transform, 5)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no_such_photo.jpg"), "{err}");

    let bad = common::scratch_dir("utils_predict_bad");
    std::fs::copy(f.dir.join("photos/chelsea.png"), bad.join("a.png")).unwrap();
    std::fs::write(bad.join("b.png"), b"not a png").unwrap();
    let err = predict_folder(&model, &bad, &transform, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("b.png"), "{err}");

    let empty = common::scratch_dir("utils_predict_empty");
    std::fs::write(empty.join("notes.txt"), b"no photos").unwrap();
    let err = predict_folder(&model, &empty, &transform, 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("utils_predict_empty") && err.contains("no image files"),
        "{err}"
    );

    // A transform that leaves bytes: the model cannot take them, and the
    // error says which photo and what to add.
    let err = predict(
        &model,
        f.dir.join("photos/chelsea.png"),
        &Resize::new(32),
        1,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("chelsea.png") && err.contains("ConvertImageDtype"),
        "{err}"
    );

    // A model whose input does not fit the transform's output.
    let small = Sequential::new()
        .add(Flatten::new())
        .add(Linear::new(10, 2));
    let err = predict(&small, f.dir.join("photos/chelsea.png"), &transform, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("chelsea.png"), "{err}");
}
