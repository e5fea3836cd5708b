//! cnn_lab's side of the lecture benchmark (`scripts/bench.sh` runs it
//! beside `benches/pytorch_baseline.py`): MNIST through
//! `load_mnist_dataset`, `MnistCNNModel(0.3)`, Adam 1e-3 and
//! `CrossEntropyLoss`, trained by `fit` (per epoch: the training pass,
//! then re-evaluation of the train and the test split; `fit`'s own lines go
//! to stdout too, and `scripts/bench.sh` keeps only the JSON ones); then
//! one test-set evaluation (10,000 images) and the peak RSS.
//!
//! ```text
//! cargo run --release --example bench_train -- [--threads N] [--epochs E]
//!     [--max-batches B] [--batch-size 256] [--data ROOT] [--seed S]
//!     [--device cpu|cuda] [--adam auto|fused|cpp] [--cuda-graph auto|on|off]
//!     [--cudnn-benchmark on|off]
//! ```
//!
//! `--adam` picks Adam's implementation (`auto`: `Adam`'s default, fused on
//! a GPU only); `--cuda-graph on|off` passes `FitOptions::cuda_graph(..)`,
//! `auto` (the default) leaves `fit`'s default (a graph on a GPU), and the
//! JSON's `cuda_graph` says whether one was used; `--cudnn-benchmark` (GPU
//! only) is `torch.backends.cudnn.benchmark`, default off as in libtorch
//! and so in a notebook (the PyTorch baseline turns it on unless told off).
//!
//! With `--device cuda` the datasets are moved to the GPU once (the loaders'
//! `device`), so a batch is a slice of device memory; it fails if
//! `cuda_if_available()` finds no GPU. It seeds before it asks for the
//! device, as the notebooks do; that order is safe because cnn_lab loads
//! the CUDA backend at start-up (see `cnn_lab::cuda`).
//!
//! `--max-batches B` limits the training pass and each re-evaluation to B
//! batches (loaders over the first B·batch-size images); the test-set
//! evaluation always covers the whole split. Prints the same JSON lines as
//! the Python baseline.

use std::time::Instant;

use cnn_lab::models::MnistCNNModel;
use cnn_lab::*;

#[path = "support/mod.rs"]
mod support;
use support::{auto_on_off, limited, on_off};

struct Args {
    threads: i32,
    epochs: usize,
    max_batches: Option<usize>,
    batch_size: usize,
    data: std::path::PathBuf,
    seed: i64,
    cuda: bool,
    adam: Option<bool>,
    cuda_graph: Option<bool>,
    cudnn_benchmark: bool,
}

fn parse_args() -> std::result::Result<Args, String> {
    let mut a = Args {
        threads: tch::get_num_threads(),
        epochs: 1,
        max_batches: None,
        batch_size: 256,
        data: data_root(),
        seed: 0,
        cuda: false,
        adam: None,
        cuda_graph: None,
        cudnn_benchmark: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: std::num::ParseIntError| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--threads" => a.threads = value.parse().map_err(bad)?,
            "--epochs" => a.epochs = value.parse().map_err(bad)?,
            "--max-batches" => a.max_batches = Some(value.parse().map_err(bad)?),
            "--batch-size" => a.batch_size = value.parse().map_err(bad)?,
            "--seed" => a.seed = value.parse().map_err(bad)?,
            "--data" => a.data = value.into(),
            "--device" => {
                a.cuda = match value.as_str() {
                    "cpu" => false,
                    "cuda" => true,
                    _ => return Err(format!("--device {value}: expected cpu or cuda")),
                }
            }
            "--adam" => {
                a.adam = match value.as_str() {
                    "auto" => None,
                    "fused" => Some(true),
                    "cpp" => Some(false),
                    _ => return Err(format!("--adam {value}: expected auto, fused or cpp")),
                }
            }
            "--cuda-graph" => a.cuda_graph = auto_on_off(&flag, &value)?,
            "--cudnn-benchmark" => a.cudnn_benchmark = on_off(&flag, &value)?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

fn peak_rss_mb() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

fn main() -> Result<()> {
    let args = parse_args().map_err(Error::InvalidArgument)?;
    tch::set_num_threads(args.threads);
    tch::manual_seed(args.seed);
    let device = if args.cuda {
        match cuda_if_available() {
            Device::Cpu => {
                return Err(Error::InvalidArgument(format!(
                    "--device cuda: no CUDA device is visible (cuda_if_available() gave Cpu; \
                     CUDA backend: {:?})",
                    cuda::load_cuda_backend()
                )))
            }
            gpu => gpu,
        }
    } else {
        Device::Cpu
    };
    if args.cuda {
        tch::Cuda::cudnn_set_benchmark(args.cudnn_benchmark);
    }

    let t = Instant::now();
    let train_full = load_mnist_dataset(&args.data, args.batch_size, true)?;
    let test_loader = load_mnist_dataset(&args.data, args.batch_size, false)?.device(device);
    let train_loader = limited(train_full, args.max_batches, true)?.device(device);
    let val_loader = limited(
        load_mnist_dataset(&args.data, args.batch_size, false)?,
        args.max_batches,
        false,
    )?
    .device(device);
    let load_s = t.elapsed().as_secs_f64();

    let model = MnistCNNModel::new(0.3);
    model.to_device(device);
    let loss_fn = CrossEntropyLoss::new();
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    if let Some(fused) = args.adam {
        optimizer = optimizer.fused(fused);
    }

    let mut options = FitOptions::default()
        .progress(Progress::Off)
        .live_plot(false);
    if let Some(on) = args.cuda_graph {
        options = options.cuda_graph(on);
    }
    let result = fit(
        &train_loader,
        &val_loader,
        &model,
        &loss_fn,
        &mut optimizer,
        args.epochs,
        options,
    )?;
    let common = format!(
        "\"impl\": \"cnn_lab\", \"device\": \"{}\", \"threads\": {}, \"batch_size\": {}, \"max_batches\": {}, \
         \"adam\": \"{}\", \"cuda_graph\": {}, \"cudnn_benchmark\": {}",
        if args.cuda { "cuda" } else { "cpu" },
        tch::get_num_threads(),
        args.batch_size,
        args.max_batches
            .map_or("null".to_string(), |b| b.to_string()),
        if optimizer.is_fused() { "fused" } else { "cpp" },
        result.cuda_graph,
        args.cuda && args.cudnn_benchmark,
    );
    let seen = train_loader.num_samples();
    let rates: Vec<f64> = result
        .train_pass_s
        .iter()
        .map(|s| seen as f64 / s)
        .collect();
    let reeval_s: Vec<f64> = result
        .epoch_s
        .iter()
        .zip(&result.train_pass_s)
        .map(|(e, t)| e - t)
        .collect();
    for (i, (&t_train, &t_epoch)) in result.train_pass_s.iter().zip(&result.epoch_s).enumerate() {
        println!(
            "{{{common}, \"kind\": \"epoch\", \"epoch\": {}, \"train_images\": {seen}, \
             \"train_pass_s\": {t_train}, \"reeval_s\": {}, \"epoch_s\": {t_epoch}, \
             \"train_loss\": {}, \"train_acc\": {}, \"val_loss\": {}, \"val_acc\": {}}}",
            i + 1,
            reeval_s[i],
            result.train_loss[i],
            result.train_accuracy[i],
            result.val_loss[i],
            result.val_accuracy[i],
        );
    }
    let val_acc = result.val_accuracy.last().copied().unwrap_or(f64::NAN);
    let t = Instant::now();
    let (test_loss, test_acc) = test_multi_classification(&test_loader, &model, &loss_fn, device)?;
    let test_s = t.elapsed().as_secs_f64();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!(
        "{{{common}, \"kind\": \"summary\", \"load_s\": {load_s}, \"train_images_per_s\": {}, \
         \"train_pass_s\": {}, \"reeval_s\": {}, \"epoch_s\": {}, \"test_eval_s\": {test_s}, \
         \"test_loss\": {test_loss}, \"test_acc\": {test_acc}, \"val_acc\": {val_acc}, \
         \"peak_rss_mb\": {}}}",
        mean(&rates),
        mean(&result.train_pass_s),
        mean(&reeval_s),
        mean(&result.epoch_s),
        peak_rss_mb()
    );
    Ok(())
}
