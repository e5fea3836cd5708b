//! The weights table against the venv's torchvision: every enum, member,
//! URL, meta field and `transforms()` preset (fields, repr, describe) as
//! `tests/python/weights_reference.py` reads them from torchvision, and the
//! committed generated files as `scripts/gen_weights_table.py` writes them
//! today.

mod common;

use std::process::Command;

use cnn_lab::models::{
    get_model_weights, get_weight, Categories, EfficientNet_B0_Weights, ResNet18_Weights, Weights,
};
use cnn_lab::{read_state_dict, Transform};
use serde_json::Value;

fn f64_or_nan(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn same_f64(ours: f64, theirs: f64) -> bool {
    (ours.is_nan() && theirs.is_nan()) || ours == theirs
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f64_or_nan).collect()
}

/// One member against torchvision's description of it.
fn check_member(w: &Weights, r: &Value) {
    let ctx = r["repr"].as_str().unwrap();
    assert_eq!(w.to_string(), ctx);
    assert_eq!(format!("{w:?}"), ctx);
    assert_eq!(w.member_name(), r["name"].as_str().unwrap(), "{ctx}");
    assert_eq!(w.url, r["url"].as_str().unwrap(), "{ctx}");
    assert_eq!(w.file_name(), w.url.rsplit('/').next().unwrap(), "{ctx}");
    assert_eq!(
        w.meta.num_params,
        r["num_params"].as_i64().unwrap(),
        "{ctx}"
    );
    let min = r["min_size"].as_array().unwrap();
    assert_eq!(
        w.meta.min_size,
        (min[0].as_i64().unwrap(), min[1].as_i64().unwrap()),
        "{ctx}"
    );
    match r["categories"].as_array() {
        Some(names) => {
            let names: Vec<&str> = names.iter().map(|n| n.as_str().unwrap()).collect();
            assert_eq!(w.categories().unwrap(), names.as_slice(), "{ctx}");
            assert_eq!(w.meta.categories, Some(Categories::ImageNet1K), "{ctx}");
            assert_eq!(w.num_classes, names.len() as i64, "{ctx}");
        }
        None => {
            assert_eq!(w.categories(), None, "{ctx}");
            // torchvision's builders keep their default head then.
            assert_eq!(w.num_classes, 1000, "{ctx}");
        }
    }
    assert!(
        same_f64(w.meta.metrics.acc1, f64_or_nan(&r["acc1"])),
        "{ctx}"
    );
    assert!(
        same_f64(w.meta.metrics.acc5, f64_or_nan(&r["acc5"])),
        "{ctx}"
    );
    assert_eq!(w.meta.recipe, r["recipe"].as_str().unwrap(), "{ctx}");
    assert_eq!(w.meta.ops, r["ops"].as_f64().unwrap(), "{ctx}");
    assert_eq!(w.meta.file_size, r["file_size"].as_f64().unwrap(), "{ctx}");

    let t = &r["transforms"];
    let p = w.transforms();
    assert_eq!(t["type"], "ImageClassification", "{ctx}");
    assert_eq!(
        vec![p.crop_size],
        serde_json::from_value::<Vec<i64>>(t["crop_size"].clone()).unwrap(),
        "{ctx}"
    );
    assert_eq!(
        vec![p.resize_size],
        serde_json::from_value::<Vec<i64>>(t["resize_size"].clone()).unwrap(),
        "{ctx}"
    );
    assert_eq!(p.mean.to_vec(), floats(&t["mean"]), "{ctx}");
    assert_eq!(p.std.to_vec(), floats(&t["std"]), "{ctx}");
    assert_eq!(
        format!("InterpolationMode.{}", p.interpolation.name()),
        t["interpolation"],
        "{ctx}"
    );
    assert_eq!(p.antialias, t["antialias"].as_bool(), "{ctx}");
    assert_eq!(p.to_string(), t["repr"].as_str().unwrap(), "{ctx}");
    assert_eq!(format!("{p:?}"), t["repr"].as_str().unwrap(), "{ctx}");
    assert_eq!(p.describe(), t["describe"].as_str().unwrap(), "{ctx}");
}

#[test]
fn every_weights_enum_is_torchvisions() {
    let out = common::scratch_dir("weights_table_reference");
    common::run_python("weights_reference.py", &["table", out.to_str().unwrap()]);
    let reference: Value =
        serde_json::from_slice(&std::fs::read(out.join("weights.json")).unwrap()).unwrap();
    let enums = reference["enums"].as_array().unwrap();
    assert_eq!(enums.len(), 23, "the builders the brief lists");
    for e in enums {
        let model = e["model"].as_str().unwrap();
        let enum_name = e["enum"].as_str().unwrap();
        let ours = get_model_weights(model).unwrap();
        let theirs = e["members"].as_array().unwrap();
        let names: Vec<String> = ours.iter().map(Weights::to_string).collect();
        let expected: Vec<&str> = theirs.iter().map(|m| m["repr"].as_str().unwrap()).collect();
        assert_eq!(names, expected, "{model}: the members, in order");
        for (w, r) in ours.iter().zip(theirs) {
            assert_eq!(w.enum_name(), enum_name);
            check_member(w, r);
            assert_eq!(get_weight(w.name).unwrap(), *w);
        }
        let default = get_weight(&format!("{enum_name}.DEFAULT")).unwrap();
        assert_eq!(default.to_string(), e["default"].as_str().unwrap());
    }
    assert!(get_model_weights("resnet152").is_err());
    let err = get_weight("ResNet18_Weights.IMAGENET1K_V9")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"ResNet18_Weights.IMAGENET1K_V9\"")
            && err.contains("ResNet18_Weights.IMAGENET1K_V1"),
        "{err}"
    );
}

#[test]
fn the_committed_table_is_what_the_generator_writes_today() {
    let out = common::scratch_dir("weights_table_generated");
    let script = common::repo_root().join("scripts/gen_weights_table.py");
    let run = Command::new(common::python())
        .arg(&script)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for rel in [
        "crate/src/models/weights/table.rs",
        "crate/assets/imagenet_classes.txt",
    ] {
        let committed = std::fs::read_to_string(common::repo_root().join(rel)).unwrap();
        let fresh = std::fs::read_to_string(out.join(rel)).unwrap();
        common::assert_same_lines(rel, &committed, &fresh);
        assert_eq!(
            committed, fresh,
            "{rel}: rerun scripts/gen_weights_table.py"
        );
    }
}

/// `weights.transforms()` is a transform: on a real photo (and an odd-sized
/// crop of it) it gives what torchvision's preset gives, bilinear and bicubic.
#[test]
fn a_weights_preset_transforms_a_photo_as_torchvision_does() {
    let out = common::scratch_dir("weights_preset_reference");
    common::run_python("weights_reference.py", &["preset", out.to_str().unwrap()]);
    let tensors = read_state_dict(out.join("preset.safetensors")).unwrap();
    let get = |k: &str| {
        tensors
            .iter()
            .find(|(name, _)| name == k)
            .unwrap_or_else(|| panic!("{k} missing"))
            .1
            .shallow_clone()
    };
    for (name, w) in [
        ("resnet18", ResNet18_Weights::DEFAULT),
        ("efficientnet_b0", EfficientNet_B0_Weights::DEFAULT),
    ] {
        for input in ["photo", "odd"] {
            let ours = w.transforms().apply_one(&get(input), 0).unwrap();
            let theirs = get(&format!("{name}.{input}"));
            assert_eq!(ours.size(), theirs.size(), "{name} {input}");
            let diff = (&ours - &theirs).abs().max().double_value(&[]);
            // Normalised values: 1/255 of a pixel is ~0.017 after dividing by std.
            assert!(diff < 1e-4, "{name} {input}: max difference {diff}");
        }
    }
}
