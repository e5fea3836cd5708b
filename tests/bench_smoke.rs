//! `scripts/bench.sh` in quick mode (2 batches, 1 thread): both PyTorch
//! variants and cnn_lab's `bench_train` (the debug build `cargo test` makes)
//! run on the same data and report the same figures. A smoke test of the
//! benchmark's plumbing, not a timing: speed is read from the printed table.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

#[test]
fn bench_script_runs_every_contender_and_prints_the_ratios() {
    let root = common::repo_root();
    let bin = root.join("target/debug/examples/bench_train");
    assert!(
        bin.exists(),
        "{} was not built by cargo test",
        bin.display()
    );
    let out = Command::new("bash")
        .arg(root.join("scripts/bench.sh"))
        .args(["--threads", "1", "--max-batches", "2"])
        .env("CNN_LAB_BENCH_BIN", &bin)
        .env("CNN_LAB_DATA", common::datasets_root())
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench.sh failed\n{stdout}\n{stderr}");

    // The table: one column per contender and the two ratio columns.
    for want in [
        "pytorch-dataloader",
        "pytorch-preloaded",
        "cnn_lab/dataloader",
        "cnn_lab/preloaded",
        "train img/s",
        "epoch s",
        "test eval s",
        "peak RSS MB",
    ] {
        assert!(stdout.contains(want), "no {want:?} in\n{stdout}");
    }

    // The raw JSON lines: a summary from each contender with the same fields.
    let raw = stdout
        .lines()
        .find_map(|l| l.strip_prefix("bench: raw results in "))
        .expect("raw results path");
    let text = std::fs::read_to_string(raw.trim()).unwrap();
    let mut impls = BTreeSet::new();
    let mut fields: Option<BTreeSet<String>> = None;
    for line in text.lines().filter(|l| l.contains("\"kind\": \"summary\"")) {
        let keys: BTreeSet<String> = line
            .split('"')
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[1].starts_with(':'))
            .map(|w| w[0].to_string())
            .collect();
        let name = line
            .split("\"impl\": \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_string();
        impls.insert(name);
        match &fields {
            None => fields = Some(keys),
            Some(f) => assert_eq!(f, &keys, "summary fields differ:\n{text}"),
        }
    }
    assert_eq!(
        impls.into_iter().collect::<Vec<_>>(),
        ["cnn_lab", "pytorch-dataloader", "pytorch-preloaded"]
    );
}
