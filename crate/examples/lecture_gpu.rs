//! The lecture's scenario for `scripts/gpu_check.sh --run`: train with
//! `fit` on the GPU, saving the best checkpoint, then load that checkpoint
//! into a fresh model on the CPU and test it there
//! (`notebooks/mnist_cnn.ipynb`, then `mnist_cnn_inference.ipynb`). The
//! calls come in the notebook's order: seed first, then
//! `device_from_env()`.
//!
//! ```text
//! lecture_gpu [--device cuda|cpu] [--epochs 10] [--max-batches B]
//!             [--data ROOT] [--out DIR] [--cuda-graph auto|on|off]
//! ```
//!
//! `--cuda-graph on|off` trains with `FitOptions::cuda_graph(..)`; `auto`
//! (the default) leaves `fit`'s default, which on a GPU is a graph: the
//! run fails if, there, none was used.
//!
//! `--max-batches B` limits the training and validation sets to B batches
//! of 256 (a quick run); the CPU test uses the same validation set. Prints
//! one JSON line and fails when the device is not the one asked for or when
//! the reloaded model's accuracy on the CPU differs from the GPU's by more
//! than 0.5 %.

use std::time::Instant;

use cnn_lab::models::MnistCNNModel;
use cnn_lab::*;

#[path = "support/mod.rs"]
mod support;
use support::{auto_on_off, limited};

const BATCH_SIZE: usize = 256;

fn main() -> Result<()> {
    let mut want_cuda = true;
    let mut epochs = 10;
    let mut max_batches = None;
    let mut cuda_graph = None;
    let mut data = data_root();
    let mut out = std::env::temp_dir().join("cnn_lab_lecture_gpu");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| Error::InvalidArgument(format!("{flag} needs a value")))?;
        let number = |v: &str| {
            v.parse::<usize>()
                .map_err(|e| Error::InvalidArgument(format!("{flag} {v}: {e}")))
        };
        match flag.as_str() {
            "--device" => {
                want_cuda = match value.as_str() {
                    "cuda" => true,
                    "cpu" => false,
                    _ => {
                        return Err(Error::InvalidArgument(format!(
                            "--device {value}: expected cpu or cuda"
                        )))
                    }
                }
            }
            "--epochs" => epochs = number(&value)?,
            "--max-batches" => max_batches = Some(number(&value)?),
            "--data" => data = value.into(),
            "--out" => out = value.into(),
            "--cuda-graph" => {
                cuda_graph = auto_on_off(&flag, &value).map_err(Error::InvalidArgument)?
            }
            _ => return Err(Error::InvalidArgument(format!("unknown option {flag}"))),
        }
    }

    // The notebook's order: a seed (its feature-map cell) long before the device.
    manual_seed(0);
    let device = if want_cuda {
        device_from_env()
    } else {
        Device::Cpu
    };
    if device.is_cuda() != want_cuda {
        return Err(Error::InvalidArgument(format!(
            "asked for {}, device_from_env() gave {device:?} (CUDA backend: {:?})",
            if want_cuda { "cuda" } else { "cpu" },
            cuda::load_cuda_backend()
        )));
    }

    let train_loader = limited(
        load_mnist_dataset(&data, BATCH_SIZE, true)?,
        max_batches,
        true,
    )?
    .device(device);
    let val_cpu = limited(
        load_mnist_dataset(&data, BATCH_SIZE, false)?,
        max_batches,
        false,
    )?;
    let val_loader = limited(
        load_mnist_dataset(&data, BATCH_SIZE, false)?,
        max_batches,
        false,
    )?
    .device(device);

    manual_seed(42);
    let model = MnistCNNModel::new(0.3);
    model.to_device(device);
    let loss_fn = CrossEntropyLoss::new();
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let checkpoint = out.join("mnist_cnn_model.safetensors");
    let mut options = FitOptions::default()
        .save_model_path(&checkpoint)
        .device(device)
        .mode(Mode::Multi)
        .progress(Progress::Off);
    if let Some(on) = cuda_graph {
        options = options.cuda_graph(on);
    }
    // Graphed training needs more full batches than the warm-up's three.
    let expect_graph = device.is_cuda() && cuda_graph != Some(false) && train_loader.len() > 4;
    let t = Instant::now();
    let result = fit(
        &train_loader,
        &val_loader,
        &model,
        &loss_fn,
        &mut optimizer,
        epochs,
        options,
    )?;
    let fit_s = t.elapsed().as_secs_f64();
    let best = result
        .best_epoch
        .ok_or_else(|| Error::Training("fit saved no checkpoint".into()))?;
    let fit_acc = result.val_accuracy[best - 1];

    let cpu_model = MnistCNNModel::new(0.3);
    load_model(&cpu_model, &checkpoint)?;
    let (cpu_loss, cpu_acc) =
        test_multi_classification(&val_cpu, &cpu_model, &loss_fn, Device::Cpu)?;
    let acc_ok = (cpu_acc - fit_acc).abs() <= 0.005;
    let graph_ok = result.cuda_graph == expect_graph;
    let ok = acc_ok && graph_ok;
    println!(
        "{{\"kind\": \"lecture\", \"device\": \"{device:?}\", \"cuda_graph\": {}, \
         \"epochs\": {epochs}, \
         \"max_batches\": {}, \"fit_s\": {fit_s:.2}, \"best_epoch\": {best}, \
         \"fit_val_acc\": {fit_acc:.4}, \"cpu_reloaded_loss\": {cpu_loss:.5}, \
         \"cpu_reloaded_acc\": {cpu_acc:.4}, \"ok\": {ok}}}",
        result.cuda_graph,
        max_batches.map_or("null".to_string(), |b| b.to_string()),
    );
    if !graph_ok {
        Err(Error::Training(format!(
            "fit used a CUDA graph: {}, expected {expect_graph} (--cuda-graph {cuda_graph:?})",
            result.cuda_graph
        )))
    } else if acc_ok {
        Ok(())
    } else {
        Err(Error::Training(format!(
            "the checkpoint reloaded on the CPU scored {cpu_acc:.4}, fit's best epoch {fit_acc:.4}"
        )))
    }
}
