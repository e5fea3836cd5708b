//! The loader's transforms against torchvision (tests/python/
//! transforms_reference.py): given the same per-image parameters, flip,
//! padded crop and Normalize are torchvision's bit for bit; rotation and
//! affine go through torchvision's matrix, grid and nearest `grid_sample`.
//! Then the loader: per-batch random parameters from its seed, repeated
//! for the same seed and epoch, new for a new epoch.

mod common;

use cnn_lab::data::transforms::{
    AffineParams, Compose, RandomAffine, RandomCrop, RandomHorizontalFlip, RandomRotation,
};
use cnn_lab::pth::{save_pth, PyValue};
use cnn_lab::{DataLoader, Normalize, Tensor, MNIST};
use serde_json::Value;

fn images() -> Tensor {
    let ds = MNIST::new(common::datasets_root())
        .train(false)
        .download(false)
        .load()
        .unwrap();
    ds.data
        .narrow(0, 0, 6)
        .unsqueeze(1)
        .to_kind(cnn_lab::Kind::Float)
        / 255.0
}

const WHICH: [bool; 6] = [true, false, true, false, true, true];
const OFFSETS: [(i64, i64); 6] = [(0, 0), (8, 8), (3, 5), (7, 1), (4, 4), (2, 6)];
const ANGLES: [f64; 6] = [10.0, -10.0, 37.5, -90.0, 3.3, 0.0];

fn affine_params() -> Vec<AffineParams> {
    [
        (12.0, (2.0, -3.0), 0.9, (5.0, 0.0)),
        (-25.0, (0.0, 0.0), 1.1, (0.0, 0.0)),
        (0.0, (4.0, 1.0), 1.0, (-8.0, 0.0)),
    ]
    .iter()
    .cycle()
    .take(6)
    .map(|&(angle, translate, scale, shear)| AffineParams {
        angle,
        translate,
        scale,
        shear,
    })
    .collect()
}

#[test]
fn transforms_are_torchvisions_given_the_parameters() {
    let x = images();
    let dir = common::scratch_dir("transforms");
    let path = dir.join("cases.pth");
    let params = affine_params();
    let floats = |v: &[f64]| PyValue::List(v.iter().map(|&f| PyValue::Float(f)).collect());
    let cases = PyValue::dict([
        ("input", PyValue::Tensor(x.shallow_clone())),
        (
            "flip",
            PyValue::Tensor(RandomHorizontalFlip::flip(&x, &WHICH).unwrap()),
        ),
        (
            "flip_which",
            PyValue::List(WHICH.iter().map(|&b| PyValue::Bool(b)).collect()),
        ),
        (
            "crop",
            PyValue::Tensor(RandomCrop::new(28).padding(4).crop(&x, &OFFSETS).unwrap()),
        ),
        (
            "crop_offsets",
            PyValue::List(
                OFFSETS
                    .iter()
                    .map(|&(t, l)| PyValue::Tuple(vec![t.into(), l.into()]))
                    .collect(),
            ),
        ),
        (
            "rotate",
            PyValue::Tensor(RandomRotation::rotate(&x, &ANGLES).unwrap()),
        ),
        ("rotate_angles", floats(&ANGLES)),
        (
            "affine",
            PyValue::Tensor(RandomAffine::affine(&x, &params).unwrap()),
        ),
        (
            "affine_params",
            PyValue::List(
                params
                    .iter()
                    .map(|p| {
                        floats(&[
                            p.angle,
                            p.translate.0,
                            p.translate.1,
                            p.scale,
                            p.shear.0,
                            p.shear.1,
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "normalize",
            PyValue::Tensor(Normalize::mnist().apply(&x).unwrap()),
        ),
    ]);
    save_pth(&path, &cases).unwrap();
    let out = common::run_python("transforms_reference.py", &[path.to_str().unwrap()]);
    let diffs: Value = serde_json::from_str(&out).unwrap();
    println!("max |diff| vs torchvision, mismatched pixels: {diffs}");
    for case in ["flip", "crop", "normalize", "rotate", "affine"] {
        let d = &diffs[case];
        assert_eq!(d["max_diff"].as_f64(), Some(0.0), "{case}: {d}");
    }
}

#[test]
fn the_loader_draws_per_image_parameters_from_its_seed_and_epoch() {
    let x = images();
    let y = Tensor::zeros([6], (cnn_lab::Kind::Int64, cnn_lab::Device::Cpu));
    let augment = || {
        Compose::new()
            .add(RandomCrop::new(28).padding(4))
            .add(RandomHorizontalFlip::new())
            .add(RandomAffine::new(15.0).translate(0.1, 0.1).scale(0.9, 1.1))
            .add(Normalize::mnist())
    };
    let loader = |seed| {
        DataLoader::new(x.shallow_clone(), y.shallow_clone(), 3)
            .unwrap()
            .seed(seed)
            .transform(augment())
            .unwrap()
    };
    let (a, b) = (loader(1), loader(1));
    let first: Vec<Tensor> = a.iter().map(|(x, _)| x).collect();
    let again: Vec<Tensor> = b.iter().map(|(x, _)| x).collect();
    assert_eq!(first.len(), 2);
    assert!(
        first.iter().zip(&again).all(|(p, q)| p.equal(q)),
        "same seed, same epoch: same batches"
    );
    let next_epoch: Vec<Tensor> = a.iter().map(|(x, _)| x).collect();
    assert!(
        !first[0].equal(&next_epoch[0]),
        "a new epoch draws new parameters"
    );
    let other: Vec<Tensor> = loader(2).iter().map(|(x, _)| x).collect();
    assert!(
        !first[0].equal(&other[0]),
        "another seed draws other parameters"
    );
    // The two images of one batch got different parameters.
    let plain = Normalize::mnist().apply(&x).unwrap();
    assert!(!first[0].equal(&plain.narrow(0, 0, 3)));
    let err = DataLoader::new(
        Tensor::zeros([2, 28, 28], (cnn_lab::Kind::Float, cnn_lab::Device::Cpu)),
        Tensor::zeros([2], (cnn_lab::Kind::Int64, cnn_lab::Device::Cpu)),
        2,
    )
    .unwrap()
    .transform(RandomRotation::new(10.0))
    .unwrap_err()
    .to_string();
    assert!(err.contains("expected a float batch [N, C, H, W]"), "{err}");
}
