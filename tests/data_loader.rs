//! The lecture's loaders over the shared datasets: shapes, kinds, batch
//! counts, shuffling and order, as PyTorch's `DataLoader` gives them.

mod common;

use std::collections::BTreeSet;

use cnn_lab::data::Normalize;
use cnn_lab::*;

#[test]
fn mnist_train_loader_has_pytorch_batches() {
    let loader = load_mnist_dataset(common::datasets_root(), 256, true).unwrap();
    assert_eq!(loader.num_samples(), 60_000);
    assert_eq!(loader.batch_size(), 256);
    // drop_last=False: ceil(60000 / 256).
    assert_eq!(loader.len(), 235);
    let sizes: Vec<i64> = loader
        .iter()
        .map(|(x, y)| {
            assert_eq!(x.kind(), Kind::Float);
            assert_eq!(y.kind(), Kind::Int64);
            assert_eq!(&x.size()[1..], [1, 28, 28]);
            assert_eq!(y.size(), [x.size()[0]]);
            x.size()[0]
        })
        .collect();
    assert_eq!(sizes.len(), 235);
    assert!(sizes[..234].iter().all(|&s| s == 256));
    assert_eq!(sizes[234], 96);
}

#[test]
fn mnist_statistics_match_the_readme() {
    let loader = load_mnist_dataset(common::datasets_root(), 1000, true).unwrap();
    let x = loader.images();
    assert!((x.mean(Kind::Double).double_value(&[]) - 0.1307).abs() < 5e-5);
    assert!((x.std(true).double_value(&[]) - 0.3081).abs() < 5e-5);
    assert_eq!(x.min().double_value(&[]), 0.0);
    assert_eq!(x.max().double_value(&[]), 1.0);
    let first: Vec<i64> = Vec::try_from(loader.labels().narrow(0, 0, 10)).unwrap();
    assert_eq!(first, [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
}

#[test]
fn train_loader_shuffles_with_a_new_order_every_epoch() {
    let loader = load_mnist_dataset(common::datasets_root(), 512, true).unwrap();
    let epoch = |l: &DataLoader| Tensor::cat(&l.iter().map(|(_, y)| y).collect::<Vec<_>>(), 0);
    let e1 = epoch(&loader);
    let e2 = epoch(&loader);
    assert!(!e1.equal(loader.labels()), "shuffled");
    assert!(!e1.equal(&e2), "a new order each epoch");
    // Every sample exactly once per epoch: the label histograms agree.
    assert!(e1
        .bincount::<Tensor>(None, 10)
        .equal(&loader.labels().bincount::<Tensor>(None, 10)));
    // Seeded: a fresh loader repeats the same epochs.
    let again = load_mnist_dataset(common::datasets_root(), 512, true).unwrap();
    assert!(epoch(&again).equal(&e1));
    assert!(epoch(&again).equal(&e2));
    let other = load_mnist_dataset(common::datasets_root(), 512, true)
        .unwrap()
        .seed(7);
    assert!(!epoch(&other).equal(&e1));
}

#[test]
fn shuffled_batches_pair_images_with_their_labels() {
    let loader = load_mnist_dataset(common::datasets_root(), 100, true).unwrap();
    // Image sums identify MNIST images well enough to check the pairing.
    let sums = loader
        .images()
        .sum_dim_intlist(&[1i64, 2, 3][..], false, Kind::Double);
    let (x, y) = loader.iter().next().unwrap();
    let bsums = x.sum_dim_intlist(&[1i64, 2, 3][..], false, Kind::Double);
    for k in 0..100 {
        let s = bsums.double_value(&[k]);
        let matches = sums.eq(s).nonzero().squeeze_dim(1);
        let labels: BTreeSet<i64> = Vec::<i64>::try_from(loader.labels().index_select(0, &matches))
            .unwrap()
            .into_iter()
            .collect();
        assert!(labels.contains(&y.int64_value(&[k])), "batch item {k}");
    }
}

#[test]
fn test_loader_is_in_file_order() {
    let loader = load_fashion_mnist_dataset(common::datasets_root(), 256, false).unwrap();
    assert_eq!(loader.num_samples(), 10_000);
    assert_eq!(loader.len(), 40);
    let ds = FashionMNIST::new(common::datasets_root())
        .train(false)
        .load()
        .unwrap();
    let xs = Tensor::cat(&loader.iter().map(|(x, _)| x).collect::<Vec<_>>(), 0);
    let ys = Tensor::cat(&loader.iter().map(|(_, y)| y).collect::<Vec<_>>(), 0);
    assert!(xs.equal(&ds.images().unwrap()));
    assert!(ys.equal(&ds.targets));
}

#[test]
fn drop_last_drops_the_incomplete_batch() {
    let loader = load_mnist_dataset(common::datasets_root(), 256, false)
        .unwrap()
        .drop_last(true);
    assert_eq!(loader.len(), 39);
    assert_eq!(loader.iter().count(), 39);
    assert!(loader.iter().all(|(x, _)| x.size()[0] == 256));
}

#[test]
fn normalize_rejects_bad_arguments() {
    let loader = || load_mnist_dataset(common::datasets_root(), 256, false).unwrap();
    let err = loader()
        .normalize(Normalize::new([0.1], [0.0]))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "Normalize: std must be finite and non-zero, found 0");
    let err = loader()
        .normalize(Normalize::new([0.1, 0.2], [0.3, 0.3]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("found 2 means and 2 stds"), "{err}");
    assert!(err.contains("(1 channels)"), "{err}");
    let ok = loader().normalize(Normalize::fashion_mnist()).unwrap();
    assert_eq!(
        ok.normalization(),
        Some(&Normalize::new([0.2860], [0.3530]))
    );
}

#[test]
fn data_root_defaults_to_data() {
    // Read-only check of the default; CNN_LAB_DATA is not set by the test runner.
    if std::env::var_os("CNN_LAB_DATA").is_none() {
        assert_eq!(data_root(), std::path::PathBuf::from("data"));
    }
}
