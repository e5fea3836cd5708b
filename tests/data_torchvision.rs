//! cnn_lab's MNIST / Fashion-MNIST against torchvision itself
//! (`tests/python/data_torchvision.py`): the same raw data and labels, and the
//! same `ToTensor()` / `Normalize` values at the first, last and random indices.

mod common;

use cnn_lab::data::{DataLoader, FashionMNIST, MnistSplit, Normalize, MNIST};
use cnn_lab::{Kind, Tensor};

/// Indices to compare: first, last and a few pseudo-random ones in between.
fn indices(n: usize) -> Vec<usize> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D ^ n as u64;
    let mut v = vec![0, n - 1];
    for _ in 0..8 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        v.push((state >> 33) as usize % n);
    }
    v
}

fn reference(name: &str, split: &str, idx: &[usize]) -> (String, Vec<(String, Tensor)>) {
    let scratch = common::scratch_dir(&format!("data_torchvision_{name}_{split}"));
    let out = scratch.join("ref.safetensors");
    let idx: Vec<String> = idx.iter().map(|i| i.to_string()).collect();
    let json = common::run_python(
        "data_torchvision.py",
        &[
            common::datasets_root().to_str().unwrap(),
            scratch.join("root").to_str().unwrap(),
            name,
            split,
            out.to_str().unwrap(),
            &idx.join(","),
        ],
    );
    let tensors = Tensor::read_safetensors(&out).unwrap();
    std::fs::remove_dir_all(&scratch).unwrap();
    (json, tensors)
}

fn get<'a>(t: &'a [(String, Tensor)], name: &str) -> &'a Tensor {
    &t.iter().find(|(n, _)| n == name).unwrap().1
}

fn check(name: &str, train: bool, ds: MnistSplit) {
    let split = if train { "train" } else { "test" };
    let idx = indices(ds.len());
    let (json, r) = reference(name, split, &idx);
    let classes: Vec<String> = ds.classes().iter().map(|c| format!("\"{c}\"")).collect();
    assert_eq!(
        json.trim(),
        format!(
            "{{\"classes\": [{}], \"len\": {}}}",
            classes.join(", "),
            ds.len()
        ),
        "{name} {split}: class names and length"
    );
    assert!(ds.data.equal(get(&r, "data")), "{name} {split}: data");
    assert!(
        ds.targets.equal(get(&r, "targets")),
        "{name} {split}: targets"
    );

    let sel = Tensor::from_slice(&idx.iter().map(|&i| i as i64).collect::<Vec<_>>());
    let (want_x, want_y) = (get(&r, "images"), get(&r, "labels"));
    for (k, &i) in idx.iter().enumerate() {
        let (x, y) = ds.get(i).unwrap();
        assert!(
            x.equal(&want_x.get(k as i64)),
            "{name} {split}: ToTensor at {i}"
        );
        assert_eq!(
            y,
            want_y.int64_value(&[k as i64]),
            "{name} {split}: label at {i}"
        );
    }

    let loader: DataLoader = ds.into_loader(256).unwrap();
    assert_eq!(loader.images().kind(), Kind::Float);
    assert!(
        loader.images().index_select(0, &sel).equal(want_x),
        "{name} {split}: loader images"
    );
    assert!(
        loader.labels().index_select(0, &sel).equal(want_y),
        "{name} {split}: loader labels"
    );
    let loader = loader.normalize(Normalize::mnist()).unwrap();
    assert!(
        loader
            .images()
            .index_select(0, &sel)
            .equal(get(&r, "normalized")),
        "{name} {split}: Normalize((0.1307,), (0.3081,))"
    );
}

#[test]
fn mnist_train_matches_torchvision() {
    let ds = MNIST::new(common::datasets_root()).load().unwrap();
    assert_eq!(ds.len(), 60_000);
    check("MNIST", true, ds);
}

#[test]
fn mnist_test_matches_torchvision() {
    let ds = MNIST::new(common::datasets_root())
        .train(false)
        .load()
        .unwrap();
    assert_eq!(ds.len(), 10_000);
    check("MNIST", false, ds);
}

#[test]
fn fashion_mnist_train_matches_torchvision() {
    let ds = FashionMNIST::new(common::datasets_root()).load().unwrap();
    check("FashionMNIST", true, ds);
}

#[test]
fn fashion_mnist_test_matches_torchvision() {
    let ds = FashionMNIST::new(common::datasets_root())
        .train(false)
        .load()
        .unwrap();
    check("FashionMNIST", false, ds);
}
