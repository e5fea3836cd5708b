//! cnn_lab's side of the photo pipeline benchmark (`scripts/bench_images.sh`
//! runs it beside `benches/pytorch_images.py`): the augmentation lecture's
//! input pipeline, `ImageFolder` + `Resize((224, 224))` +
//! `RandomHorizontalFlip` + `ToTensor` + `Normalize`, through
//! `DataLoader::from_dataset(…, 32).shuffle(true).num_workers(2)`.
//!
//! ```text
//! cargo run --release --example bench_images -- run FOLDER [--workers 2]
//!     [--batch-size 32] [--epochs 2] [--cache on|off] [--resize float|uint8]
//!     [--threads 1]
//! cargo run --release --example bench_images -- stages FOLDER [--threads 1]
//! cargo run --release --example bench_images -- mnist [ROOT] [--epochs 1]
//! ```
//!
//! `run` prints one JSON line per epoch, in the shape of the Python side's
//! (`who`, `epoch`, `images`, `seconds`, `images_per_s`, `shape`): images
//! per second of a whole pass, the first epoch included. `--cache on` is a
//! separate contender (`DataLoader::cache(true)`: each photo decoded once,
//! in the first epoch; the transforms still drawn every epoch), so its
//! second epoch measures the transforms and collation alone.
//!
//! `--resize uint8` measures a proposal: torchvision v2's `uint8` resize
//! (see `ResizeU8`) in place of `Resize`; its JSON says so in `who`.
//!
//! `stages` times each step of the pipeline on every photo of the folder,
//! one photo at a time on the calling thread (decode, resize, flip,
//! to_tensor, normalize, then stacking 32 samples; also `ResizeU8` and its
//! largest and mean difference from `Resize`), and prints one JSON line per
//! stage with the mean milliseconds per photo.
//!
//! `mnist` iterates the lecture's in-memory loader,
//! `load_mnist_dataset(ROOT, 256, true)` (shuffled), for one epoch and
//! prints its images per second.
//!
//! `--threads` is libtorch's intra-op thread count (`torch.set_num_threads`;
//! the Python side sets 1 as well, and PyTorch's DataLoader workers run
//! with one thread each).

use std::path::PathBuf;
use std::time::Instant;

use cnn_lab::image::{decode_image, ImageReadMode};
use cnn_lab::*;

struct Args {
    what: String,
    folder: Option<PathBuf>,
    workers: usize,
    batch_size: usize,
    epochs: Option<usize>,
    cache: bool,
    u8_resize: bool,
    threads: i32,
}

fn parse_args() -> std::result::Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let what = it
        .next()
        .ok_or("expected run FOLDER, stages FOLDER or mnist [ROOT]")?;
    let mut a = Args {
        what,
        folder: None,
        workers: 2,
        batch_size: 32,
        epochs: None,
        cache: false,
        u8_resize: false,
        threads: 1,
    };
    while let Some(arg) = it.next() {
        if !arg.starts_with("--") {
            a.folder = Some(arg.into());
            continue;
        }
        let value = it.next().ok_or(format!("{arg} needs a value"))?;
        let bad = |e: std::num::ParseIntError| format!("{arg} {value}: {e}");
        match arg.as_str() {
            "--workers" => a.workers = value.parse().map_err(bad)?,
            "--batch-size" => a.batch_size = value.parse().map_err(bad)?,
            "--epochs" => a.epochs = Some(value.parse().map_err(bad)?),
            "--threads" => a.threads = value.parse().map_err(bad)?,
            "--cache" => {
                a.cache = match value.as_str() {
                    "on" => true,
                    "off" => false,
                    _ => return Err(format!("--cache {value}: expected on or off")),
                }
            }
            "--resize" => {
                a.u8_resize = match value.as_str() {
                    "uint8" => true,
                    "float" => false,
                    _ => return Err(format!("--resize {value}: expected float or uint8")),
                }
            }
            _ => return Err(format!("unknown option {arg}")),
        }
    }
    Ok(a)
}

const MEAN: [f64; 3] = [0.485, 0.456, 0.406];
const STD: [f64; 3] = [0.229, 0.224, 0.225];

/// The proposal measured by `--resize uint8`: torchvision v2's resize of
/// a `uint8` image on the CPU, libtorch's antialiased bilinear kernel run
/// on the `uint8` pixels themselves (its AVX2 path) instead of on a
/// `float32` copy as torchvision v1's tensor path (`Resize`) does. Within
/// 1/255 of `Resize` (`stages` prints the difference); not cnn_lab's
/// `Resize`, a contender only.
#[derive(Debug)]
struct ResizeU8(i64, i64);

impl Transform for ResizeU8 {
    fn apply(&self, x: &Tensor, _rng: &mut TransformRng) -> Result<Tensor> {
        let batch = match (x.kind(), x.dim()) {
            (Kind::Uint8, 3) => x.f_unsqueeze(0)?,
            (Kind::Uint8, 4) => x.shallow_clone(),
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "ResizeU8: expected a uint8 [C, H, W] or [N, C, H, W] image, got {:?} {:?}",
                    x.kind(),
                    x.size()
                )))
            }
        };
        let y = batch.f_internal_upsample_bilinear2d_aa([self.0, self.1], false, None, None)?;
        Ok(if x.dim() == 3 { y.f_squeeze_dim(0)? } else { y })
    }

    fn repr(&self) -> String {
        format!("ResizeU8(size=({}, {}))", self.0, self.1)
    }
}

fn pipeline(u8_resize: bool) -> Compose {
    let c = Compose::new();
    let c = if u8_resize {
        c.add(ResizeU8(224, 224))
    } else {
        c.add(Resize::new((224, 224)))
    };
    c.add(RandomHorizontalFlip::new())
        .add(ToTensor::new())
        .add(Normalize::new(MEAN, STD))
}

fn run(folder: PathBuf, a: &Args) -> Result<()> {
    let dataset = ImageFolder::new(&folder)?.transform(pipeline(a.u8_resize));
    let loader = DataLoader::from_dataset(dataset, a.batch_size)?
        .shuffle(true)
        .num_workers(a.workers)
        .cache(a.cache);
    let who = format!(
        "cnn_lab DataLoader(num_workers={}){}{}",
        a.workers,
        if a.cache { ".cache(true)" } else { "" },
        if a.u8_resize {
            " + uint8 resize (proposal)"
        } else {
            ""
        }
    );
    for epoch in 0..a.epochs.unwrap_or(2) {
        let start = Instant::now();
        let mut n = 0i64;
        let mut shape = Vec::new();
        for batch in loader.try_iter() {
            let (x, _y) = batch?;
            n += x.size()[0];
            shape = x.size();
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{{\"who\": \"{who}\", \"epoch\": {}, \"images\": {n}, \"seconds\": {:.3}, \
             \"images_per_s\": {:.1}, \"shape\": {shape:?}}}",
            epoch + 1,
            seconds,
            n as f64 / seconds
        );
    }
    Ok(())
}

/// Mean milliseconds per photo of each stage, on the calling thread.
fn stages(folder: PathBuf, batch_size: usize) -> Result<()> {
    let dataset = ImageFolder::new(&folder)?;
    let paths: Vec<PathBuf> = dataset.samples().iter().map(|(p, _)| p.clone()).collect();
    let names = [
        "file read",
        "decode (RGB uint8 [3, H, W])",
        "resize (224, 224)",
        "hflip",
        "to_tensor",
        "normalize",
    ];
    let mut total = [0f64; 6];
    let mut pixels = 0i64;
    let (mut u8_total, mut max_diff, mut mean_diff) = (0f64, 0i64, 0f64);
    let mut outs = Vec::new();
    for path in &paths {
        let t = Instant::now();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        total[0] += t.elapsed().as_secs_f64();
        // What ImageFolder's default loader does after reading the file.
        let t = Instant::now();
        let img = decode_image(&bytes, ImageReadMode::RGB)?;
        total[1] += t.elapsed().as_secs_f64();
        pixels += img.size()[1] * img.size()[2];
        let t = Instant::now();
        let u8_img = ResizeU8(224, 224).apply_one(&img, 0)?;
        u8_total += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let img = functional::resize(&img, (224, 224))?;
        total[2] += t.elapsed().as_secs_f64();
        let diff = (img.to_kind(Kind::Int) - u8_img.to_kind(Kind::Int)).abs();
        max_diff = max_diff.max(diff.max().int64_value(&[]));
        mean_diff += diff
            .to_kind(Kind::Double)
            .mean(Kind::Double)
            .double_value(&[]);
        let t = Instant::now();
        let img = functional::hflip(&img)?;
        total[3] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let img = functional::to_tensor(&img)?;
        total[4] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let img = functional::normalize(&img, &MEAN, &STD)?;
        total[5] += t.elapsed().as_secs_f64();
        outs.push(img);
    }
    let n = paths.len().max(1) as f64;
    for (name, s) in names.iter().zip(total) {
        println!(
            "{{\"who\": \"cnn_lab\", \"stage\": \"{name}\", \"ms_per_image\": {:.3}}}",
            1e3 * s / n
        );
    }
    println!(
        "{{\"who\": \"cnn_lab\", \"stage\": \"resize_uint8 (proposal)\", \"ms_per_image\": {:.3}, \
         \"max_diff_vs_resize\": {max_diff}, \"mean_diff_vs_resize\": {:.4}}}",
        1e3 * u8_total / n,
        mean_diff / n
    );
    let t = Instant::now();
    let mut batches = 0;
    for chunk in outs.chunks(batch_size) {
        let _ = Tensor::stack(chunk, 0);
        batches += 1;
    }
    println!(
        "{{\"who\": \"cnn_lab\", \"stage\": \"collate (stack {batch_size})\", \"ms_per_image\": {:.3}}}",
        1e3 * t.elapsed().as_secs_f64() / n
    );
    println!(
        "{{\"who\": \"cnn_lab\", \"stage\": \"photos\", \"images\": {}, \"mean_megapixels\": {:.3}, \"batches\": {batches}}}",
        paths.len(),
        pixels as f64 / n / 1e6
    );
    Ok(())
}

fn mnist(root: PathBuf, epochs: usize) -> Result<()> {
    let loader = load_mnist_dataset(&root, 256, true)?;
    for epoch in 0..epochs {
        let start = Instant::now();
        let mut n = 0i64;
        for (x, y) in &loader {
            n += x.size()[0].min(y.size()[0]);
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{{\"who\": \"cnn_lab load_mnist_dataset(256, shuffled)\", \"epoch\": {}, \"images\": {n}, \
             \"seconds\": {:.4}, \"images_per_s\": {:.0}}}",
            epoch + 1,
            seconds,
            n as f64 / seconds
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    let mut a = parse_args().map_err(Error::InvalidArgument)?;
    tch::set_num_threads(a.threads);
    let folder = a.folder.take();
    match (a.what.as_str(), folder) {
        ("run", Some(folder)) => run(folder, &a),
        ("stages", Some(folder)) => stages(folder, a.batch_size),
        ("mnist", root) => mnist(root.unwrap_or_else(data_root), a.epochs.unwrap_or(1)),
        (what, _) => Err(Error::InvalidArgument(format!(
            "{what}: expected run FOLDER, stages FOLDER or mnist [ROOT]"
        ))),
    }
}
