//! Data-path benchmark: time to load MNIST's 60k train split from `.gz` into
//! the loader's tensor, and batches/s over a shuffled epoch at batch 256.
//!
//! ```text
//! cargo run --release --example bench_data -- [ROOT]
//! ```
//!
//! `ROOT` defaults to `cnn_lab::data_root()` (`$CNN_LAB_DATA`, else `data`).

use std::time::Instant;

use cnn_lab::data::{idx, MNIST};
use cnn_lab::*;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let root = std::env::args()
        .nth(1)
        .map(Into::into)
        .unwrap_or_else(data_root);
    let gz = root.join("MNIST/raw/train-images-idx3-ubyte.gz");
    // Wall-clock figures depend on what else runs: print the load beside them.
    let load_avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "root: {}; load average {}; torch threads {}",
        root.display(),
        load_avg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        tch::get_num_threads()
    );

    let runs = 5;
    let (mut gunzip, mut load, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let mut loader = None;
    for _ in 0..runs {
        let t = Instant::now();
        let bytes = idx::read_maybe_gz(&gz)?;
        gunzip.push(t.elapsed().as_secs_f64());
        drop(bytes);

        let t = Instant::now();
        let ds = MNIST::new(&root).load()?;
        load.push(t.elapsed().as_secs_f64());
        let l = ds.into_loader(256)?.shuffle(true);
        total.push(t.elapsed().as_secs_f64());
        loader = Some(l);
    }
    let loader = loader.expect("at least one run");
    println!(
        "train split (60k) from .gz, median of {runs}: gunzip images {:.3} s, \
         parse+check both files into uint8 {:.3} s, into float32 DataLoader {:.3} s",
        median(gunzip),
        median(load),
        median(total)
    );

    let mut rates = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut seen = 0i64;
        for (x, y) in &loader {
            // Touch both tensors so no batch is skipped unseen.
            seen += x.size()[0].min(y.size()[0]);
        }
        assert_eq!(seen as usize, loader.num_samples());
        rates.push(loader.len() as f64 / t.elapsed().as_secs_f64());
    }
    println!(
        "shuffled epoch at batch 256: {} batches, median {:.0} batches/s over {runs} epochs",
        loader.len(),
        median(rates)
    );
    let in_order = MNIST::new(&root).load()?.into_loader(256)?;
    let t = Instant::now();
    let n = in_order.iter().count();
    println!(
        "in-order epoch at batch 256 (slices, no copy): {:.0} batches/s",
        n as f64 / t.elapsed().as_secs_f64()
    );
    Ok(())
}
