//! The transforms on real photos against torchvision
//! (tests/python/transforms_reference.py, `photos` mode): every
//! functional form on scikit-image's photos (odd and even sizes, RGB and
//! grey, uint8 and float, up and down) against torchvision's tensor path;
//! the random transforms' parameters against many draws of torchvision's
//! `get_params`; a seeded run repeats and the images of a batch get their
//! own parameters; `print(Compose([...]))` of every transform is
//! torchvision's text.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use cnn_lab::data::transforms::functional as F;
use cnn_lab::data::transforms::*;
use cnn_lab::{read_state_dict, Kind, Normalize, Tensor};
use serde_json::Value;

/// torchvision's files, written once for all the tests of this file.
fn reference_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::scratch_dir("transforms_photos");
        common::run_python(
            "transforms_reference.py",
            &["photos", dir.to_str().unwrap()],
        );
        dir
    })
}

fn tensors(file: &str) -> HashMap<String, Tensor> {
    read_state_dict(reference_dir().join(file))
        .unwrap()
        .into_iter()
        .collect()
}

fn json(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(reference_dir().join(file)).unwrap()).unwrap()
}

fn mode(a: &Value) -> InterpolationMode {
    match a["interpolation"].as_str().unwrap_or("nearest") {
        "nearest" => InterpolationMode::Nearest,
        "bilinear" => InterpolationMode::Bilinear,
        "bicubic" => InterpolationMode::Bicubic,
        other => panic!("interpolation {other}"),
    }
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn size(v: &Value) -> ImageSize {
    match v.as_i64() {
        Some(s) => ImageSize::from(s),
        None => {
            let s = ints(v);
            ImageSize::from((s[0], s[1]))
        }
    }
}

fn pair(v: &Value) -> (f64, f64) {
    let f = floats(v);
    (f[0], f[1])
}

/// cnn_lab's function for the case's `op` and JSON `args`.
fn ours(op: &str, img: &Tensor, a: &Value) -> cnn_lab::Result<Tensor> {
    let i = |k: &str| a[k].as_i64().unwrap();
    let f = |k: &str| a[k].as_f64().unwrap();
    let center = |a: &Value| (!a["center"].is_null()).then(|| pair(&a["center"]));
    let fill = (!a["fill"].is_null() && a["fill"].is_array()).then(|| floats(&a["fill"]));
    match op {
        "resize" => F::resize_with(
            img,
            size(&a["size"]),
            mode(a),
            a["max_size"].as_i64(),
            a["antialias"].as_bool().unwrap(),
        ),
        "resized_crop" => F::resized_crop(
            img,
            i("top"),
            i("left"),
            i("height"),
            i("width"),
            size(&a["size"]),
            mode(a),
            true,
        ),
        "center_crop" => F::center_crop(img, size(&a["size"])),
        "crop" => F::crop(img, i("top"), i("left"), i("height"), i("width")),
        "pad" => {
            let p = ints(&a["padding"]);
            let m = match a["mode"].as_str().unwrap() {
                "constant" => PaddingMode::Constant,
                "edge" => PaddingMode::Edge,
                "reflect" => PaddingMode::Reflect,
                _ => PaddingMode::Symmetric,
            };
            F::pad_with(img, (p[0], p[1], p[2], p[3]), f("fill"), m)
        }
        "hflip" => F::hflip(img),
        "vflip" => F::vflip(img),
        "rotate" => F::rotate_with(
            img,
            f("angle"),
            mode(a),
            a["expand"].as_bool().unwrap(),
            center(a),
            fill.as_deref(),
        ),
        "affine" => F::affine_with(
            img,
            f("angle"),
            pair(&a["translate"]),
            f("scale"),
            pair(&a["shear"]),
            mode(a),
            fill.as_deref(),
            center(a),
        ),
        "gaussian_blur" => {
            let k = ints(&a["kernel_size"]);
            let s = floats(&a["sigma"]);
            F::gaussian_blur(img, [k[0], k[1]], Some([s[0], s[1]]))
        }
        "adjust_brightness" => F::adjust_brightness(img, f("factor")),
        "adjust_contrast" => F::adjust_contrast(img, f("factor")),
        "adjust_saturation" => F::adjust_saturation(img, f("factor")),
        "adjust_hue" => F::adjust_hue(img, f("factor")),
        "adjust_sharpness" => F::adjust_sharpness(img, f("factor")),
        "rgb_to_grayscale" => F::rgb_to_grayscale(img, i("num_output_channels")),
        "invert" => F::invert(img),
        "erase" => {
            let v: Vec<f32> = floats(&a["v"]).iter().map(|&x| x as f32).collect();
            let v = Tensor::from_slice(&v).view([-1, 1, 1]);
            F::erase(img, i("i"), i("j"), i("h"), i("w"), &v)
        }
        "normalize" => F::normalize(img, &floats(&a["mean"]), &floats(&a["std"])),
        "to_tensor" => F::to_tensor(img),
        "convert_image_dtype" => F::convert_image_dtype(
            img,
            match a["dtype"].as_str().unwrap() {
                "uint8" => Kind::Uint8,
                _ => Kind::Float,
            },
        ),
        other => panic!("op {other}"),
    }
}

/// The transform class behind a deterministic case, where there is one
/// (`Resize`, `CenterCrop`, `Pad`, `Grayscale`, `ToTensor`,
/// `ConvertImageDtype`, `Normalize`): it must give the function's result.
fn as_transform(op: &str, a: &Value) -> Option<Box<dyn Transform>> {
    Some(match op {
        "resize" => {
            let mut t = Resize::new(size(&a["size"]))
                .interpolation(mode(a))
                .antialias(a["antialias"].as_bool().unwrap());
            if let Some(m) = a["max_size"].as_i64() {
                t = t.max_size(m);
            }
            Box::new(t)
        }
        "center_crop" => Box::new(CenterCrop::new(size(&a["size"]))),
        "pad" if a["mode"] == "constant" => {
            let p = ints(&a["padding"]);
            Box::new(Pad::new((p[0], p[1], p[2], p[3])).fill(a["fill"].as_i64().unwrap()))
        }
        "rgb_to_grayscale" => Box::new(
            Grayscale::new().num_output_channels(a["num_output_channels"].as_i64().unwrap()),
        ),
        "to_tensor" => Box::new(ToTensor::new()),
        "convert_image_dtype" if a["dtype"] == "float32" => {
            Box::new(ConvertImageDtype::new(Kind::Float))
        }
        "normalize" => Box::new(Normalize::new(floats(&a["mean"]), floats(&a["std"]))),
        _ => return None,
    })
}

/// Ops whose result is the same pixels moved or set: equal, not close.
const EXACT: [&str; 11] = [
    "center_crop",
    "crop",
    "pad",
    "hflip",
    "vflip",
    "invert",
    "erase",
    "to_tensor",
    "convert_image_dtype",
    "normalize",
    "rgb_to_grayscale",
];

#[test]
fn every_functional_form_is_torchvisions_on_real_photos() {
    let inputs = tensors("inputs.safetensors");
    let outputs = tensors("outputs.safetensors");
    let cases = json("cases.json");
    // (op, kind) -> (max |diff|, worst mean |diff|, cases), in 1/255.
    let mut table: std::collections::BTreeMap<(String, String), (f64, f64, usize)> =
        Default::default();
    let mut failures = Vec::new();
    for case in cases.as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let op = case["op"].as_str().unwrap();
        let kind = case["kind"].as_str().unwrap();
        let input = &inputs[case["input"].as_str().unwrap()];
        let img = if kind == "f32" {
            input.to_kind(Kind::Float) / 255.0
        } else {
            input.shallow_clone()
        };
        let want = &outputs[name];
        let got = ours(op, &img, &case["args"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(t) = as_transform(op, &case["args"]) {
            let by_class = t.apply_one(&img, 0).unwrap();
            if op == "resize"
                && img.kind() == Kind::Uint8
                && t.to_string().contains("bilinear")
                && t.to_string().contains("antialias=True")
            {
                // The Resize class on a uint8 photo takes torchvision v2's uint8
                // kernel; F.resize stays v1's float path: within 1/255.
                let d = (by_class.to_kind(Kind::Double) - got.to_kind(Kind::Double)).abs();
                let (max, mean) = (
                    d.max().double_value(&[]),
                    d.mean(Kind::Double).double_value(&[]),
                );
                assert!(
                    max <= 1.0 && mean <= 0.5,
                    "{name}: {t} vs F.{op}: max {max}, mean {mean}"
                );
            } else {
                assert!(by_class.equal(&got), "{name}: {t} differs from F.{op}");
            }
        }
        assert_eq!(got.size(), want.size(), "{name}: shape");
        assert_eq!(got.kind(), want.kind(), "{name}: kind");
        let scale = if want.kind() == Kind::Uint8 {
            1.0
        } else {
            255.0
        };
        let diff = (got.to_kind(Kind::Double) - want.to_kind(Kind::Double)).abs() * scale;
        let (max, mean) = (
            diff.max().double_value(&[]),
            diff.mean(Kind::Double).double_value(&[]),
        );
        let e = table
            .entry((op.to_string(), kind.to_string()))
            .or_insert((0.0, 0.0, 0));
        *e = (e.0.max(max), e.1.max(mean), e.2 + 1);
        let ok = if EXACT.contains(&op) {
            max == 0.0
        } else {
            max <= 2.0 && mean <= 0.5
        };
        if !ok {
            failures.push(format!("{name}: max {max:.4}/255, mean {mean:.5}/255"));
        }
    }
    println!("| op | input | cases | max diff (/255) | worst mean diff (/255) |");
    println!("| --- | --- | --- | --- | --- |");
    for ((op, kind), (max, mean, n)) in &table {
        println!("| `{op}` | {kind} | {n} | {max:.3} | {mean:.4} |");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases.as_array().unwrap().len() > 200);
}

/// torchvision's `Compose` of every transform, built the cnn_lab way.
fn compose_of_all() -> Compose {
    use InterpolationMode::*;
    Compose::new()
        .add(Resize::new(224))
        .add(
            Resize::new((100, 150))
                .interpolation(Bicubic)
                .antialias(false),
        )
        .add(Resize::new(64).max_size(100))
        .add(CenterCrop::new(224))
        .add(CenterCrop::new((20, 30)))
        .add(RandomCrop::new(32).padding(4))
        .add(
            RandomCrop::new((20, 30))
                .padding((1, 2))
                .pad_if_needed(true)
                .fill(3)
                .padding_mode(PaddingMode::Reflect),
        )
        .add(RandomResizedCrop::new(224))
        .add(
            RandomResizedCrop::new((64, 48))
                .scale(0.5, 1.0)
                .ratio(0.5, 2.0)
                .interpolation(Bicubic),
        )
        .add(RandomHorizontalFlip::new())
        .add(RandomVerticalFlip::new().p(0.3))
        .add(RandomRotation::new(30))
        .add(
            RandomRotation::new((0, 90))
                .interpolation(Bilinear)
                .expand(true)
                .center(3, 4)
                .fill([1, 2, 3]),
        )
        .add(RandomAffine::new(10))
        .add(
            RandomAffine::new(10)
                .translate(0.1, 0.2)
                .scale(0.9, 1.1)
                .shear(5)
                .interpolation(Bilinear)
                .fill(1)
                .center(1, 2),
        )
        .add(RandomAffine::new(0).shear([1, 2, 3, 4]))
        .add(GaussianBlur::new(3))
        .add(GaussianBlur::new((3, 5)).sigma(1.0))
        .add(RandomAdjustSharpness::new(2.0).p(0.25))
        .add(ColorJitter::new())
        .add(
            ColorJitter::new()
                .brightness(0.4)
                .contrast(0.4)
                .saturation(0.4)
                .hue(0.1),
        )
        .add(ColorJitter::new().brightness((0.5, 1.5)).hue((-0.2, 0.3)))
        .add(RandomGrayscale::new())
        .add(Grayscale::new())
        .add(Grayscale::new().num_output_channels(3))
        .add(RandomInvert::new())
        .add(RandomErasing::new())
        .add(
            RandomErasing::new()
                .p(0.3)
                .scale(0.1, 0.2)
                .ratio(0.5, 2.0)
                .value(ErasingValue::Random),
        )
        .add(RandomErasing::new().value([1, 2, 3]))
        .add(
            RandomApply::new()
                .add(ColorJitter::new().brightness(0.1))
                .add(
                    Compose::new()
                        .add(RandomInvert::new())
                        .add(Grayscale::new()),
                )
                .p(0.8),
        )
        .add(
            RandomChoice::new()
                .add(RandomInvert::new())
                .add(Grayscale::new()),
        )
        .add(RandomChoice::new().add(RandomInvert::new()).p(vec![0.3]))
        .add(Pad::new(4))
        .add(Pad::new((1, 2)).fill(1).padding_mode(PaddingMode::Edge))
        .add(Pad::new((1, 2, 3, 4)).padding_mode(PaddingMode::Symmetric))
        .add(ToTensor::new())
        .add(ConvertImageDtype::new(Kind::Float))
        .add(Normalize::new([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]))
}

#[test]
fn print_of_a_compose_of_every_transform_is_torchvisions() {
    let theirs = std::fs::read_to_string(reference_dir().join("repr.txt")).unwrap();
    let t = compose_of_all();
    common::assert_same_lines("Compose", &t.to_string(), &theirs);
    common::assert_same_lines("Compose (Debug)", &format!("{t:?}"), &theirs);
    let boxed: Box<dyn Transform> = Box::new(compose_of_all());
    assert_eq!(boxed.to_string(), theirs);
}

/// `ours` over `n` draws agrees with torchvision's `get_params` moments:
/// means within 5 standard errors of the difference, stds within 8%.
fn assert_moments(case: &str, key: &str, ours: &[f64], theirs: &Value) {
    let n = ours.len() as f64;
    let mean = ours.iter().sum::<f64>() / n;
    let std = (ours.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let (tm, ts) = (theirs[0].as_f64().unwrap(), theirs[1].as_f64().unwrap());
    let se = ((std * std + ts * ts) / n).sqrt();
    println!("{case} {key}: mean {mean:.3} vs {tm:.3}, std {std:.3} vs {ts:.3}");
    assert!(
        (mean - tm).abs() <= 5.0 * se + 1e-9,
        "{case} {key}: mean {mean} vs torchvision's {tm} (se {se})"
    );
    assert!(
        (std - ts).abs() <= 0.08 * ts + 1e-9,
        "{case} {key}: std {std} vs torchvision's {ts}"
    );
}

/// One number of each `RandomAffine` draw.
type Series = fn(&AffineParams) -> f64;

#[test]
fn random_parameters_follow_torchvisions_get_params() {
    let stats = json("stats.json");
    let n = stats["n"].as_u64().unwrap() as usize;
    let mut rng = TransformRng::new(11, 0, 0);
    for (h, w) in [(300, 451), (40, 400)] {
        let key = format!("rrc_{h}x{w}");
        let t = RandomResizedCrop::new(1);
        let ps: Vec<(i64, i64, i64, i64)> =
            (0..n).map(|_| t.get_params((h, w), &mut rng)).collect();
        for (k, name) in ["i", "j", "h", "w"].iter().enumerate() {
            let v: Vec<f64> = ps.iter().map(|p| [p.0, p.1, p.2, p.3][k] as f64).collect();
            assert_moments(&key, name, &v, &stats[&key][name]);
        }
        for &(i, j, ch, cw) in &ps {
            assert!(i >= 0 && j >= 0 && i + ch <= h && j + cw <= w && ch > 0 && cw > 0);
        }
    }
    let erasing = RandomErasing::new();
    let ps: Vec<(i64, i64, i64, i64)> = (0..n)
        .map(|_| {
            erasing
                .get_params((64, 48), &mut rng)
                .unwrap_or((0, 0, 64, 48))
        })
        .collect();
    for (k, name) in ["i", "j", "h", "w"].iter().enumerate() {
        let v: Vec<f64> = ps.iter().map(|p| [p.0, p.1, p.2, p.3][k] as f64).collect();
        assert_moments("erasing_64x48", name, &v, &stats["erasing_64x48"][name]);
    }
    let affine = RandomAffine::new(10)
        .translate(0.1, 0.2)
        .scale(0.8, 1.2)
        .shear([-5.0, 5.0, -3.0, 3.0]);
    let ps: Vec<AffineParams> = (0..n)
        .map(|_| affine.get_params((451, 300), &mut rng))
        .collect();
    let series: [(&str, Series); 7] = [
        ("angle", |p| p.angle),
        ("tx", |p| p.translate.0),
        ("ty", |p| p.translate.1),
        ("abs_tx", |p| p.translate.0.abs()),
        ("scale", |p| p.scale),
        ("shear_x", |p| p.shear.0),
        ("shear_y", |p| p.shear.1),
    ];
    for (name, f) in series {
        let v: Vec<f64> = ps.iter().map(f).collect();
        assert_moments("affine_451x300", name, &v, &stats["affine_451x300"][name]);
    }
    assert!(ps
        .iter()
        .all(|p| p.translate.0.fract() == 0.0 && p.translate.0.abs() <= 45.1));
    let crop = RandomCrop::new(32);
    let ps: Vec<(i64, i64, i64, i64)> = (0..n)
        .map(|_| crop.get_params((40, 36), &mut rng).unwrap())
        .collect();
    for (k, name) in ["i", "j"].iter().enumerate() {
        let v: Vec<f64> = ps.iter().map(|p| [p.0, p.1][k] as f64).collect();
        assert_moments("crop_40x36", name, &v, &stats["crop_40x36"][name]);
    }
}

#[test]
fn random_choices_have_their_probabilities_and_ranges() {
    let n = 4000;
    let mut rng = TransformRng::new(5, 2, 9);
    let freq = |hits: usize| hits as f64 / n as f64;
    // p: a flip, a grayscale, an inversion, RandomApply happen that often.
    let img = Tensor::rand([3, 6, 7], cnn_lab::FLOAT_CPU);
    let flips = (0..n)
        .filter(|_| {
            !RandomHorizontalFlip::new()
                .p(0.3)
                .apply(&img, &mut rng)
                .unwrap()
                .equal(&img)
        })
        .count();
    assert!((freq(flips) - 0.3).abs() < 0.03, "{}", freq(flips));
    let applied = (0..n)
        .filter(|_| {
            !RandomApply::new()
                .add(RandomInvert::new().p(1.0))
                .p(0.8)
                .apply(&img, &mut rng)
                .unwrap()
                .equal(&img)
        })
        .count();
    assert!((freq(applied) - 0.8).abs() < 0.03, "{}", freq(applied));
    // RandomChoice with weights.
    let choice = RandomChoice::new()
        .add(RandomInvert::new())
        .add(Grayscale::new())
        .add(ToTensor::new())
        .p(vec![1.0, 2.0, 1.0]);
    let mut counts = [0usize; 3];
    for _ in 0..n {
        counts[choice.get_params(&mut rng).unwrap()] += 1;
    }
    assert!((freq(counts[1]) - 0.5).abs() < 0.03, "{counts:?}");
    assert!((freq(counts[0]) - 0.25).abs() < 0.03, "{counts:?}");
    // ColorJitter: every order of the four adjustments, factors in range.
    let jitter = ColorJitter::new()
        .brightness(0.4)
        .contrast((0.5, 0.9))
        .saturation(0.2)
        .hue(0.1);
    let mut orders = std::collections::HashSet::new();
    for _ in 0..n {
        let p = jitter.get_params(&mut rng).unwrap();
        orders.insert(p.order);
        let b = p.brightness.unwrap();
        let c = p.contrast.unwrap();
        let s = p.saturation.unwrap();
        let h = p.hue.unwrap();
        assert!((0.6..1.4).contains(&b) && (0.5..0.9).contains(&c));
        assert!((0.8..1.2).contains(&s) && (-0.1..0.1).contains(&h));
    }
    assert_eq!(orders.len(), 24, "all orders of the four adjustments");
    assert_eq!(
        ColorJitter::new().get_params(&mut rng).unwrap().brightness,
        None
    );
    // Angles cover the range; sigma too.
    let rot = RandomRotation::new((-20.0, 50.0));
    let angles: Vec<f64> = (0..n).map(|_| rot.get_params(&mut rng)).collect();
    assert!(angles.iter().all(|a| (-20.0..50.0).contains(a)));
    assert!(angles.iter().any(|&a| a < -19.0) && angles.iter().any(|&a| a > 49.0));
    let blur = GaussianBlur::new(3).sigma((0.5, 1.5));
    let sig: Vec<f64> = (0..n).map(|_| blur.get_params(&mut rng)).collect();
    let mean = sig.iter().sum::<f64>() / n as f64;
    assert!((mean - 1.0).abs() < 0.02 && sig.iter().all(|s| (0.5..1.5).contains(s)));
    // RandomResizedCrop falls back to the central crop when ten tries fail.
    let t = RandomResizedCrop::new(8).scale(2.0, 3.0);
    assert_eq!(t.get_params((10, 20), &mut rng), (0, 3, 10, 13));
}

#[test]
fn a_seeded_run_repeats_and_batch_images_get_their_own_parameters() {
    let inputs = tensors("inputs.safetensors");
    let photo = inputs["chelsea_odd"].shallow_clone();
    let augment = Compose::new()
        .add(RandomResizedCrop::new(48).scale(0.3, 1.0))
        .add(RandomHorizontalFlip::new())
        .add(RandomRotation::new(20).interpolation(InterpolationMode::Bilinear))
        .add(
            RandomApply::new()
                .add(ColorJitter::new().brightness(0.4).saturation(0.4).hue(0.1))
                .p(0.9),
        )
        .add(RandomGrayscale::new().p(0.2))
        .add(GaussianBlur::new(3))
        .add(ToTensor::new())
        .add(Normalize::new([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]))
        .add(RandomErasing::new().p(0.7));
    let a = augment.apply_one(&photo, 1).unwrap();
    assert_eq!(a.size(), [3, 48, 48]);
    assert_eq!(a.kind(), Kind::Float);
    assert!(a.equal(&augment.apply_one(&photo, 1).unwrap()), "same seed");
    assert!(
        !a.equal(&augment.apply_one(&photo, 2).unwrap()),
        "other seed"
    );
    // A batch of one photo four times: four different results, and the
    // batch repeats for the same generator.
    let batch = Tensor::stack(&[&photo, &photo, &photo, &photo], 0);
    let run = |seed| {
        augment
            .apply(&batch, &mut TransformRng::new(seed, 0, 0))
            .unwrap()
    };
    let out = run(3);
    assert_eq!(out.size(), [4, 3, 48, 48]);
    assert!(out.equal(&run(3)));
    for k in 1..4 {
        assert!(
            !out.get(0).equal(&out.get(k)),
            "image {k} got image 0's draws"
        );
    }
    // Each transform with per-image draws gives the batch what it gives
    // the images one by one from the same generator.
    let float_batch = batch.to_kind(Kind::Float) / 255.0;
    let per_image: Vec<Box<dyn Transform>> = vec![
        Box::new(RandomCrop::new(90).padding(3)),
        Box::new(RandomHorizontalFlip::new()),
        Box::new(RandomVerticalFlip::new()),
        Box::new(RandomRotation::new(40)),
        Box::new(RandomAffine::new(20).translate(0.1, 0.1).shear(10)),
        Box::new(RandomResizedCrop::new(40)),
        Box::new(ColorJitter::new().contrast(0.5).hue(0.2)),
        Box::new(RandomErasing::new().p(0.9).value(ErasingValue::Random)),
        Box::new(RandomInvert::new()),
    ];
    for t in &per_image {
        let mut rng = TransformRng::new(8, 1, 4);
        let whole = t.apply(&float_batch, &mut rng).unwrap();
        let mut rng = TransformRng::new(8, 1, 4);
        let one_by_one: Vec<Tensor> = (0..4)
            .map(|k| t.apply(&float_batch.get(k), &mut rng).unwrap())
            .collect();
        assert!(
            whole.equal(&Tensor::stack(&one_by_one, 0)),
            "{t}: batch and one by one"
        );
    }
}

#[test]
fn mistakes_are_errors_naming_the_transform() {
    let img = Tensor::rand([3, 10, 10], cnn_lab::FLOAT_CPU);
    let mut rng = TransformRng::new(0, 0, 0);
    let err = |r: cnn_lab::Result<Tensor>| r.unwrap_err().to_string();
    let e = err(RandomCrop::new(20).apply(&img, &mut rng));
    assert!(e.contains("RandomCrop: Required crop size (20, 20)"), "{e}");
    let e = err(GaussianBlur::new(4).apply(&img, &mut rng));
    assert!(e.contains("GaussianBlur") && e.contains("odd"), "{e}");
    let e = err(Resize::new(5).apply(&Tensor::rand([10, 10], cnn_lab::FLOAT_CPU), &mut rng));
    assert!(e.contains("resize: expected one image [C, H, W]"), "{e}");
    let e = err(ColorJitter::new().hue(0.7).apply(&img, &mut rng));
    assert!(e.contains("hue values should be between"), "{e}");
    let e = err(F::rotate_with(
        &img,
        10.0,
        InterpolationMode::Bicubic,
        false,
        None,
        None,
    ));
    assert!(e.contains("bicubic"), "{e}");
    let e = err(Grayscale::new().apply(&Tensor::rand([2, 4, 4], cnn_lab::FLOAT_CPU), &mut rng));
    assert!(e.contains("permitted channel values are [1, 3]"), "{e}");
    let e = err(Transform::apply(
        &Normalize::new([0.5, 0.5], [0.2, 0.2]),
        &img,
        &mut rng,
    ));
    assert!(e.contains("Normalize"), "{e}");
    let e = err(RandomRotation::new(45)
        .expand(true)
        .apply(&Tensor::rand([8, 3, 10, 20], cnn_lab::FLOAT_CPU), &mut rng));
    assert!(e.contains("different sizes"), "{e}");
}
