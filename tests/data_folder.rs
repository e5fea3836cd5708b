//! Datasets that are files, and the loader over any dataset:
//! `ImageFolder` against torchvision's on the same folders
//! (`tests/python/folder_reference.py`), `random_split` against torch's,
//! and `DataLoader::from_dataset`'s batches, workers, cache and errors.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use cnn_lab::data::transforms::{RandomHorizontalFlip, Transform, TransformRng};
use cnn_lab::data::{random_split, DataLoader, Dataset, ImageFolder, Subset, TensorDataset};
use cnn_lab::*;
use serde_json::Value;

/// The reference folders and torchvision's view of them, made once per
/// test binary.
fn reference() -> &'static (PathBuf, Value) {
    static REF: OnceLock<(PathBuf, Value)> = OnceLock::new();
    REF.get_or_init(|| {
        let dir = common::repo_root().join("target/test-scratch/data_folder");
        common::run_python("folder_reference.py", &[dir.to_str().unwrap()]);
        let json = std::fs::read_to_string(dir.join("ref.json")).unwrap();
        (dir, serde_json::from_str(&json).unwrap())
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// `(path relative to root, class)` of each sample.
fn relative_samples(ds: &ImageFolder, root: &Path) -> Vec<(String, usize)> {
    ds.samples()
        .iter()
        .map(|(p, c)| {
            let rel = p.strip_prefix(root).unwrap();
            (rel.to_str().unwrap().to_string(), *c)
        })
        .collect()
}

#[test]
fn image_folder_finds_torchvisions_classes_and_samples_in_its_order() {
    let (dir, r) = reference();
    let clean = dir.join("clean");
    let ds = ImageFolder::new(&clean).unwrap();
    assert_eq!(ds.classes(), strings(&r["classes"]));
    let want: Vec<(String, usize)> = r["class_to_idx"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap() as usize))
        .collect();
    let ours: Vec<(String, usize)> = ds
        .class_to_idx()
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(ours, want_sorted);
    let want: Vec<(String, usize)> = r["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s[0].as_str().unwrap().to_string(),
                s[1].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(relative_samples(&ds, &clean), want);
    let targets: Vec<usize> = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(ds.targets(), targets);
    assert_eq!(ds.len(), want.len());
    assert_eq!(ds.to_string(), r["repr"].as_str().unwrap());
}

#[test]
fn hidden_folders_are_skipped_where_torchvision_takes_them() {
    let (dir, r) = reference();
    // torchvision refuses the folder Jupyter left its checkpoints in …
    let theirs = r["tree_error"].as_str().unwrap();
    assert!(
        theirs.starts_with("Found no valid file for the classes .ipynb_checkpoints."),
        "{theirs}"
    );
    // … which reads here as the same folder without its hidden folders.
    let tree = dir.join("tree");
    let ours = ImageFolder::new(&tree).unwrap();
    let clean = ImageFolder::new(dir.join("clean")).unwrap();
    assert_eq!(ours.classes(), clean.classes());
    assert_eq!(
        relative_samples(&ours, &tree),
        relative_samples(&clean, &dir.join("clean"))
    );
    // Inside a class, torchvision takes the checkpoint's image; not here.
    let nested = dir.join("with_nested");
    let mut theirs = strings(&r["with_nested"]);
    let hidden = theirs.pop().unwrap();
    assert_eq!(hidden, "Dog/.ipynb_checkpoints/dog-checkpoint.png");
    let ours: Vec<String> = relative_samples(&ImageFolder::new(&nested).unwrap(), &nested)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(ours, theirs);
}

#[test]
fn image_folder_errors_are_torchvisions_and_name_the_folder() {
    let (dir, r) = reference();
    let no_class = dir.join("no_class");
    let err = ImageFolder::new(&no_class).unwrap_err().to_string();
    let theirs = r["errors"]["no_class"].as_str().unwrap();
    assert!(
        err.starts_with(theirs),
        "ours: {err}\ntorchvision: {theirs}"
    );

    let empty = dir.join("empty_class");
    let err = ImageFolder::new(&empty).unwrap_err().to_string();
    let theirs = r["errors"]["empty_class"].as_str().unwrap();
    assert!(theirs.contains("b empty, zz empty"), "{theirs}");
    assert_eq!(err, format!("{}: {theirs}", empty.display()));

    let missing = dir.join("no such folder");
    let err = ImageFolder::new(&missing).unwrap_err().to_string();
    assert!(
        err.starts_with(&missing.display().to_string()) && err.contains("No such file"),
        "{err}"
    );
}

fn numbers(n: i64) -> TensorDataset {
    TensorDataset::new(
        Tensor::arange(n, (Kind::Float, Device::Cpu)),
        Tensor::arange(n, (Kind::Int64, Device::Cpu)),
    )
    .unwrap()
}

#[test]
fn random_split_gives_torchs_subsets() {
    let (_, r) = reference();
    for case in r["splits"].as_array().unwrap() {
        let n = case["n"].as_i64().unwrap();
        let seed = case["seed"].as_u64().unwrap();
        let lengths = case["lengths"].as_array().unwrap();
        let parts = if lengths.iter().all(Value::is_u64) {
            let l: Vec<usize> = lengths
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            random_split(numbers(n), l, seed).unwrap()
        } else {
            let l: Vec<f64> = lengths.iter().map(|v| v.as_f64().unwrap()).collect();
            random_split(numbers(n), l, seed).unwrap()
        };
        let want: Vec<Vec<usize>> = case["indices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                p.as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_u64().unwrap() as usize)
                    .collect()
            })
            .collect();
        let ours: Vec<Vec<usize>> = parts.iter().map(|p| p.indices().to_vec()).collect();
        assert_eq!(ours, want, "{case}");
        // Disjoint, covering, and read through the subset.
        let mut all: Vec<usize> = ours.concat();
        all.sort_unstable();
        assert_eq!(all, (0..n as usize).collect::<Vec<_>>());
        for p in &parts {
            assert_eq!(p.len(), p.indices().len());
            for (k, &i) in p.indices().iter().enumerate() {
                assert_eq!(p.get(k).unwrap().1.int64_value(&[]), i as i64);
            }
        }
    }
    let err = random_split(numbers(10), [3, 3], 0)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("does not equal the length of the input dataset (10)"),
        "{err}"
    );
    let err = random_split(numbers(10), [0.5, 0.6], 0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("must sum to 1"), "{err}");
    assert!(Subset::new(numbers(3), vec![0, 3]).is_err());
}

/// `n` images `[1, 2, 3]` whose pixels are the sample's index, with `int64`
/// labels `i % 3`; counts how often each sample is read.
struct Counted {
    n: usize,
    reads: Arc<AtomicUsize>,
}

impl Dataset for Counted {
    fn len(&self) -> usize {
        self.n
    }
    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let image =
            Tensor::arange(6, (Kind::Float, Device::Cpu)).view([1, 2, 3]) + index as f64 * 10.0;
        Ok((image, Tensor::from(index as i64 % 3)))
    }
}

fn counted(n: usize) -> (Counted, Arc<AtomicUsize>) {
    let reads = Arc::new(AtomicUsize::new(0));
    (
        Counted {
            n,
            reads: Arc::clone(&reads),
        },
        reads,
    )
}

fn epoch(loader: &DataLoader) -> Vec<(Tensor, Tensor)> {
    loader.try_iter().map(|b| b.unwrap()).collect()
}

/// The sample index of each image of a `Counted` batch.
fn ids(x: &Tensor) -> Vec<i64> {
    Vec::<f64>::try_from(x.select(1, 0).select(1, 0).select(1, 0) / 10.0)
        .unwrap()
        .into_iter()
        .map(|v| v.round() as i64)
        .collect()
}

#[test]
fn dataset_loader_batches_every_sample_once_per_shuffled_epoch() {
    let (ds, reads) = counted(23);
    let loader = DataLoader::from_dataset(ds, 5)
        .unwrap()
        .shuffle(true)
        .seed(3);
    assert_eq!((loader.len(), loader.num_samples()), (5, 23));
    let e1 = epoch(&loader);
    let sizes: Vec<Vec<i64>> = e1.iter().map(|(x, _)| x.size()).collect();
    assert_eq!(sizes[..4], vec![vec![5, 1, 2, 3]; 4]);
    assert_eq!(sizes[4], [3, 1, 2, 3]);
    assert!(e1
        .iter()
        .all(|(x, y)| y.size() == [x.size()[0]] && y.kind() == Kind::Int64));
    let order: Vec<i64> = e1.iter().flat_map(|(x, _)| ids(x)).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..23).collect::<Vec<_>>());
    assert_ne!(order, sorted, "shuffled");
    // Images and labels stay paired.
    for (x, y) in &e1 {
        let labels: Vec<i64> = Vec::try_from(y).unwrap();
        assert_eq!(labels, ids(x).iter().map(|i| i % 3).collect::<Vec<_>>());
    }
    let e2: Vec<i64> = epoch(&loader).iter().flat_map(|(x, _)| ids(x)).collect();
    assert_ne!(order, e2, "a new order every epoch");
    assert_eq!(reads.load(Ordering::SeqCst), 46);

    let dropped = DataLoader::from_dataset(counted(23).0, 5)
        .unwrap()
        .drop_last(true);
    assert_eq!(dropped.len(), 4);
    let e = epoch(&dropped);
    assert_eq!(e.len(), 4);
    assert!(e.iter().all(|(x, _)| x.size()[0] == 5));
    let in_order: Vec<i64> = e.iter().flat_map(|(x, _)| ids(x)).collect();
    assert_eq!(in_order, (0..20).collect::<Vec<_>>());
}

#[test]
fn same_seed_same_batches_whatever_the_number_of_workers() {
    let run = |workers: usize, cache: bool| {
        let loader = DataLoader::from_dataset(counted(17).0, 4)
            .unwrap()
            .shuffle(true)
            .seed(11)
            .num_workers(workers)
            .cache(cache)
            .transform(RandomHorizontalFlip::new())
            .unwrap();
        (epoch(&loader), epoch(&loader))
    };
    let (a1, a2) = run(0, false);
    // The flips are drawn per sample: some images are flipped, some not.
    let flipped = |batches: &[(Tensor, Tensor)]| -> usize {
        batches
            .iter()
            .map(|(x, _)| {
                let first = x.select(3, 0).select(2, 0).select(1, 0);
                let last = x.select(3, 2).select(2, 0).select(1, 0);
                Vec::<bool>::try_from(first.gt_tensor(&last))
                    .unwrap()
                    .iter()
                    .filter(|&&f| f)
                    .count()
            })
            .sum()
    };
    assert!((1..17).contains(&flipped(&a1)), "{}", flipped(&a1));
    for (workers, cache) in [(1, false), (2, false), (2, true), (3, true)] {
        let (b1, b2) = run(workers, cache);
        for (e, (a, b)) in [(&a1, &b1), (&a2, &b2)].into_iter().enumerate() {
            assert_eq!(a.len(), b.len());
            for (k, ((ax, ay), (bx, by))) in a.iter().zip(b).enumerate() {
                assert!(
                    ax.equal(bx) && ay.equal(by),
                    "epoch {e} batch {k}: {workers} workers (cache {cache}) differ from 0"
                );
            }
        }
    }
    // The second epoch draws new flips.
    assert!(a1.iter().zip(&a2).any(|((x, _), (y, _))| !x.equal(y)));
}

#[test]
fn cache_reads_each_sample_once_and_gives_the_same_batches() {
    let (ds, reads) = counted(10);
    let cached = DataLoader::from_dataset(ds, 3)
        .unwrap()
        .shuffle(true)
        .seed(5)
        .cache(true)
        .num_workers(2);
    let plain = DataLoader::from_dataset(counted(10).0, 3)
        .unwrap()
        .shuffle(true)
        .seed(5);
    for _ in 0..3 {
        for ((a, ay), (b, by)) in epoch(&cached).iter().zip(&epoch(&plain)) {
            assert!(a.equal(b) && ay.equal(by));
        }
    }
    assert_eq!(reads.load(Ordering::SeqCst), 10, "read once, three epochs");
}

#[test]
fn float_labels_of_shape_n_1_are_batched_as_pytorch_does() {
    let x = Tensor::rand([10, 1, 4, 4], (Kind::Float, Device::Cpu));
    let y = Tensor::rand([10, 1], (Kind::Float, Device::Cpu));
    let memory = DataLoader::new(x.shallow_clone(), y.shallow_clone(), 4)
        .unwrap()
        .shuffle(true);
    let dataset = DataLoader::from_dataset(TensorDataset::new(x, y).unwrap(), 4)
        .unwrap()
        .shuffle(true);
    for loader in [&memory, &dataset] {
        let batches = epoch(loader);
        let sizes: Vec<Vec<i64>> = batches.iter().map(|(_, y)| y.size()).collect();
        assert_eq!(sizes, [vec![4, 1], vec![4, 1], vec![2, 1]]);
        assert!(batches.iter().all(|(_, y)| y.kind() == Kind::Float));
    }
    // Same seed and order: the two kinds of loader give the same batches.
    for ((a, ay), (b, by)) in epoch(&memory).iter().zip(&epoch(&dataset)) {
        assert!(a.equal(b) && ay.equal(by));
    }
    let err = DataLoader::new(
        Tensor::zeros([3, 2], (Kind::Float, Device::Cpu)),
        Tensor::zeros([4, 1], (Kind::Float, Device::Cpu)),
        2,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("labels must have 3 as their first dimension"),
        "{err}"
    );
}

/// Images whose size depends on the index: sample 2 is wider.
struct Ragged;

impl Dataset for Ragged {
    fn len(&self) -> usize {
        4
    }
    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        let w = if index == 2 { 5 } else { 4 };
        Ok((
            Tensor::zeros([3, 4, w], (Kind::Uint8, Device::Cpu)),
            Tensor::from(0i64),
        ))
    }
    fn describe(&self, index: usize) -> Option<String> {
        Some(format!("photo{index}.png"))
    }
}

#[test]
fn samples_of_different_sizes_are_an_error_naming_them() {
    let loader = DataLoader::from_dataset(Ragged, 4).unwrap().num_workers(2);
    let mut batches = loader.try_iter();
    let err = batches.next().unwrap().unwrap_err().to_string();
    assert_eq!(
        err,
        "DataLoader: cannot stack the samples of a batch, whose images must have one shape \
         and kind: sample 0 (photo0.png): image [3, 4, 4] Uint8 but sample 2 (photo2.png): \
         image [3, 4, 5] Uint8 — photos of different sizes need a resize in the transforms"
    );
    assert!(batches.next().is_none(), "an error ends the epoch");
    // `iter` carries the same message in its panic.
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loader.iter().count()))
        .unwrap_err();
    assert_eq!(panic.downcast_ref::<String>(), Some(&err));
    // In batches of 2, the first batch is fine.
    let loader = DataLoader::from_dataset(Ragged, 2).unwrap();
    let mut batches = loader.try_iter();
    assert!(batches.next().unwrap().is_ok());
    assert!(batches.next().unwrap().is_err());
}

/// `uint8` images to `float32` in `[0, 1]` (what `ToTensor()` does after
/// the PIL loader).
#[derive(Debug)]
struct ToFloat;

impl Transform for ToFloat {
    fn apply(&self, images: &Tensor, _rng: &mut TransformRng) -> Result<Tensor> {
        Ok(images.to_kind(Kind::Float) / 255.0)
    }
}

#[test]
fn image_folder_reads_photos_as_pils_rgb_loader() {
    let (dir, _) = reference();
    let clean = dir.join("clean");
    let pixels = Tensor::read_safetensors(dir.join("pixels.safetensors")).unwrap();
    let ds = ImageFolder::new(&clean).unwrap();
    let mut compared = 0;
    for (i, (path, class)) in ds.samples().iter().enumerate() {
        let rel = path.strip_prefix(&clean).unwrap().to_str().unwrap();
        let ext = rel.rsplit('.').next().unwrap().to_lowercase();
        if !["png", "jpg", "jpeg", "bmp", "webp"].contains(&ext.as_str()) {
            // TIFF and PPM/PGM: not read by cnn_lab::image; the error names the file.
            let err = ds.get(i).unwrap_err().to_string();
            assert!(err.contains(rel), "{err}");
            continue;
        }
        let (image, label) = ds.get(i).unwrap();
        assert_eq!(
            (image.size(), image.kind()),
            (vec![3, 16, 16], Kind::Uint8),
            "{rel}"
        );
        assert_eq!(label.size(), Vec::<i64>::new());
        assert_eq!(label.int64_value(&[]), *class as i64);
        if let Some((_, want)) = pixels.iter().find(|(name, _)| name == rel) {
            assert!(image.equal(want), "{rel}: pixels differ from PIL's");
            compared += 1;
        }
    }
    assert_eq!(compared, pixels.len(), "every PNG compared");
    assert!(compared > 20);
    // A dataset transform and a target transform.
    let ds = ImageFolder::new(&clean)
        .unwrap()
        .transform(ToFloat)
        .target_transform(|c| Tensor::from_slice(&[c as f32]));
    let (image, label) = ds.get(0).unwrap();
    assert_eq!((image.kind(), label.size()), (Kind::Float, vec![1]));
    assert!(image.max().double_value(&[]) <= 1.0);
}

#[test]
fn photos_of_different_sizes_are_an_error_naming_the_files() {
    let (dir, _) = reference();
    let mixed = dir.join("mixed");
    let loader = DataLoader::from_dataset(ImageFolder::new(&mixed).unwrap(), 4).unwrap();
    let err = loader.try_iter().next().unwrap().unwrap_err().to_string();
    let file = |i: usize| mixed.join(format!("a/{i}.png")).display().to_string();
    assert_eq!(
        err,
        format!(
            "DataLoader: cannot stack the samples of a batch, whose images must have one shape \
             and kind: sample 0 ({}): image [3, 16, 16] Uint8 but sample 2 ({}): image \
             [3, 12, 20] Uint8 — photos of different sizes need a resize in the transforms",
            file(0),
            file(2)
        )
    );
}

#[test]
fn fit_trains_on_a_folder_of_photos() {
    let (dir, _) = reference();
    let folder = ImageFolder::new(dir.join("fit"))
        .unwrap()
        .transform(ToFloat);
    assert_eq!(folder.classes(), ["cat", "coffee"]);
    let parts = random_split(folder, [0.75, 0.25], 0).unwrap();
    let train = DataLoader::from_dataset(parts[0].clone(), 8)
        .unwrap()
        .shuffle(true)
        .seed(1)
        .cache(true)
        .transform(RandomHorizontalFlip::new())
        .unwrap();
    let val = DataLoader::from_dataset(parts[1].clone(), 8)
        .unwrap()
        .num_workers(1);
    assert_eq!((train.num_samples(), val.num_samples()), (36, 12));
    manual_seed(0);
    let model = Sequential::new()
        .add(Conv2d::new(3, 8, 3))
        .add(ReLU::new())
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(8 * 7 * 7, 2));
    let mut optimizer = Adam::new(model.parameters(), 1e-2);
    let result = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        4,
        FitOptions::default().progress(Progress::Off),
    )
    .unwrap();
    assert!(
        result.train_loss[3] < result.train_loss[0],
        "learning: {:?}",
        result.train_loss
    );
    assert!(result.val_accuracy[3] >= 0.75, "{:?}", result.val_accuracy);
    // What reads a loader sample by sample works over a folder too.
    let top = top_losses(&val, &model, 3).unwrap();
    assert_eq!(top.indices.len(), 3);
    assert!(top.losses.windows(2).all(|w| w[0] >= w[1]));
    let (x, y) = val.samples(&top.indices).unwrap();
    assert_eq!((x.size(), y.size()), (vec![3, 3, 16, 16], vec![3]));
    assert_eq!(Vec::<i64>::try_from(&y).unwrap(), top.actual);
    let cm = confusion_matrix_of(&model, &val, 2).unwrap();
    let (loss, accuracy) =
        test_multi_classification(&val, &model, &CrossEntropyLoss::new(), None).unwrap();
    assert!(loss.is_finite() && (accuracy - result.val_accuracy[3]).abs() < 1e-9);
    assert_eq!(cm.counts.iter().flatten().sum::<i64>(), 12);
}

#[test]
fn a_dataset_loader_normalizes_its_batches_and_samples_as_an_in_memory_one() {
    let x = Tensor::rand([6, 1, 3, 3], (Kind::Float, Device::Cpu));
    let y = Tensor::arange(6, (Kind::Int64, Device::Cpu));
    let norm = || Normalize::new([0.5], [0.25]);
    let memory = DataLoader::new(x.shallow_clone(), y.shallow_clone(), 4)
        .unwrap()
        .normalize(norm())
        .unwrap();
    let dataset = DataLoader::from_dataset(TensorDataset::new(x, y).unwrap(), 4)
        .unwrap()
        .normalize(norm())
        .unwrap();
    for ((a, ay), (b, by)) in epoch(&memory).iter().zip(&epoch(&dataset)) {
        assert!(a.allclose(b, 1e-6, 1e-6, false) && ay.equal(by));
    }
    let (a, ay) = memory.sample(5).unwrap();
    let (b, by) = dataset.sample(5).unwrap();
    assert!(a.allclose(&b, 1e-6, 1e-6, false) && ay.equal(&by));
    assert_eq!(b.size(), [1, 3, 3]);
    assert!(dataset.images().numel() == 0 && !dataset.is_in_memory());
    assert!(dataset.sample(6).is_err());
}
