//! cnn_lab's side of the fine-tuning benchmark (`scripts/bench_finetune.sh`
//! runs it beside `benches/pytorch_finetune.py`): the transfer-learning
//! lecture's fine-tune on a folder of photos, `ImageFolder` +
//! `Resize((224, 224))` + `ToTensor` + `Normalize`, through the lecture's
//! `fit` (per epoch a training pass, then the training and the validation
//! set re-evaluated), Adam(1e-3), cross-entropy.
//!
//! ```text
//! cargo run --release --example bench_finetune -- FOLDER --model resnet18|vgg16
//!     --weights FILE.safetensors [--photos 80] [--epochs 3] [--batch-size 16]
//!     [--threads 2] [--workers 2] [--cache on|off] [--fused on|off]
//!     [--augment on|off]
//! ```
//!
//! - `resnet18`: every parameter frozen, a new `fc = Linear(512, 2)`;
//! - `vgg16`: every parameter frozen, a new `classifier` (`Linear(25088,
//!   4096)`, ReLU, Dropout, `Linear(4096, 4096)`, ReLU, Dropout,
//!   `Linear(4096, 2)`).
//!
//! The weights (random, the new head included) come from `FILE`, written by
//! `benches/pytorch_finetune.py weights`, so both sides start from the same
//! numbers. The photos: the first `--photos` of the folder, the two classes
//! interleaved; every fifth is the validation set. `--cache off` is
//! `FitOptions::cache_frozen_features(false)`; `--fused on` is
//! `Adam::fused(true)` (PyTorch's `Adam(fused=True)`); `--augment on` adds
//! `RandomHorizontalFlip` to the training set's transform (after the
//! resize), so the frozen body's output cannot be kept. Prints one JSON line per
//! epoch (`who`, `model`, `epoch`, `seconds`, `train_pass_s`, the four
//! figures) and one for the run (`total_s`).

use std::path::PathBuf;

use cnn_lab::*;

struct Args {
    folder: PathBuf,
    model: String,
    weights: PathBuf,
    photos: usize,
    epochs: usize,
    batch_size: usize,
    threads: i32,
    workers: usize,
    cache: bool,
    fused: bool,
    augment: bool,
}

fn parse_args() -> std::result::Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let folder = PathBuf::from(it.next().ok_or("expected FOLDER")?);
    let mut a = Args {
        folder,
        model: "resnet18".into(),
        weights: PathBuf::new(),
        photos: 80,
        epochs: 3,
        batch_size: 16,
        threads: 2,
        workers: 2,
        cache: true,
        fused: false,
        augment: false,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<usize>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--model" => a.model = value,
            "--weights" => a.weights = PathBuf::from(value),
            "--photos" => a.photos = number(&value)?,
            "--epochs" => a.epochs = number(&value)?,
            "--batch-size" => a.batch_size = number(&value)?,
            "--threads" => a.threads = number(&value)? as i32,
            "--workers" => a.workers = number(&value)?,
            "--cache" => a.cache = value == "on",
            "--fused" => a.fused = value == "on",
            "--augment" => a.augment = value == "on",
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

/// The first `photos` samples, the classes interleaved (as the Python side
/// picks them), split: every fifth to validation.
fn split(targets: &[usize], photos: usize) -> (Vec<usize>, Vec<usize>) {
    let classes = targets.iter().max().map_or(0, |m| m + 1);
    let by_class: Vec<Vec<usize>> = (0..classes)
        .map(|c| (0..targets.len()).filter(|&i| targets[i] == c).collect())
        .collect();
    let longest = by_class.iter().map(Vec::len).max().unwrap_or(0);
    let picked: Vec<usize> = (0..longest * classes)
        .filter_map(|k| by_class[k % classes].get(k / classes).copied())
        .take(photos)
        .collect();
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for (k, i) in picked.into_iter().enumerate() {
        if k % 5 == 0 {
            val.push(i)
        } else {
            train.push(i)
        }
    }
    (train, val)
}

fn model(name: &str) -> Result<Box<dyn Module + Send>> {
    Ok(match name {
        "resnet18" => {
            let mut m = models::resnet18(None)?;
            m.requires_grad_(false);
            m.fc = Linear::new(512, 2);
            Box::new(m)
        }
        "vgg16" => {
            let mut m = models::vgg16(None)?;
            m.requires_grad_(false);
            m.classifier = Sequential::new()
                .add(Linear::new(512 * 7 * 7, 4096))
                .add(ReLU::new().inplace(true))
                .add(Dropout::new(0.5))
                .add(Linear::new(4096, 4096))
                .add(ReLU::new().inplace(true))
                .add(Dropout::new(0.5))
                .add(Linear::new(4096, 2));
            Box::new(m)
        }
        other => {
            return Err(Error::InvalidArgument(format!(
                "--model {other}: expected resnet18 or vgg16"
            )))
        }
    })
}

fn main() -> Result<()> {
    let a = parse_args().map_err(Error::InvalidArgument)?;
    tch::set_num_threads(a.threads);
    let net = model(&a.model)?;
    let net = net.as_ref();
    load_model(net, &a.weights)?;
    let transform = |augment: bool| {
        let mut t = Compose::new().add(Resize::new((224, 224)));
        if augment {
            t = t.add(RandomHorizontalFlip::new());
        }
        t.add(ToTensor::new())
            .add(Normalize::new([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]))
    };
    let folder = ImageFolder::new(&a.folder)?;
    let (train_idx, val_idx) = split(&folder.targets(), a.photos);
    let train_set = std::sync::Arc::new(folder.transform(transform(a.augment)));
    let val_set = std::sync::Arc::new(ImageFolder::new(&a.folder)?.transform(transform(false)));
    let train_loader =
        DataLoader::from_dataset(Subset::shared(train_set, train_idx)?, a.batch_size)?
            .shuffle(true)
            .num_workers(a.workers);
    let val_loader = DataLoader::from_dataset(Subset::shared(val_set, val_idx)?, a.batch_size)?
        .num_workers(a.workers);
    let mut optimizer = Adam::new(net.parameters(), 1e-3);
    if a.fused {
        optimizer = optimizer.fused(true);
    }
    let result = fit(
        &train_loader,
        &val_loader,
        net,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        a.epochs,
        FitOptions::default()
            .progress(Progress::Off)
            .live_plot(false)
            .cache_frozen_features(a.cache),
    )?;
    let who = format!(
        "cnn_lab fit{}{}",
        if a.cache {
            ""
        } else {
            " cache_frozen_features(false)"
        },
        if a.fused { " Adam fused" } else { "" }
    );
    for e in 0..result.epoch_s.len() {
        println!(
            "{{\"who\": \"{who}\", \"model\": \"{}\", \"epoch\": {}, \"seconds\": {:.3}, \
             \"train_pass_s\": {:.3}, \"train_loss\": {:.5}, \"train_accuracy\": {:.5}, \
             \"val_loss\": {:.5}, \"val_accuracy\": {:.5}}}",
            a.model,
            e + 1,
            result.epoch_s[e],
            result.train_pass_s[e],
            result.train_loss[e],
            result.train_accuracy[e],
            result.val_loss[e],
            result.val_accuracy[e]
        );
    }
    let kept = match (&result.frozen_features, &result.frozen_features_skipped) {
        (Some(k), _) => format!("kept {} ({} samples)", k.stages.join(", "), k.samples),
        (None, _) if !result.frozen_stages_in_eval_mode.is_empty() => format!(
            "not kept, run in eval mode: {}",
            result.frozen_stages_in_eval_mode.join(", ")
        ),
        (None, Some(why)) => format!("not kept: {why}"),
        (None, None) => String::new(),
    };
    println!(
        "{{\"who\": \"{who}\", \"model\": \"{}\", \"total_s\": {:.3}, \"train\": {}, \"val\": {}, \
         \"frozen_features\": {:?}}}",
        a.model,
        result.elapsed.as_secs_f64(),
        train_loader.num_samples(),
        val_loader.num_samples(),
        kept
    );
    Ok(())
}
