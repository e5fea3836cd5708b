#!/usr/bin/env bash
# cnn_lab against the lecture's PyTorch, side by side on this machine:
#   scripts/bench.sh [--threads 2[,1]] [--epochs 1] [--max-batches B] [--repeat 1]
#                    [--batch-size 256] [--device cpu|cuda]
#                    [--only pytorch-dataloader,pytorch-preloaded,cnn_lab]
# Runs benches/pytorch_baseline.py (the lecture's DataLoader version and a
# preloaded-tensor version) and crate/examples/bench_train.rs (release build)
# in turn, rotating their order each repeat, with the same data, thread count
# and batch size; then prints per contender the medians of train-pass
# images/s, one epoch (train pass + re-evaluation of train and test split),
# the test-set evaluation (10k images), peak RSS and accuracy, and the
# ratios cnn_lab / PyTorch. Raw JSON lines go to target/bench/. Not a test:
# the machine is shared, so compare ratios from one run and quote the load
# average printed beside them.
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CNN_LAB_ROOT"

threads=2 epochs=1 max_batches="" repeat=1 batch_size=256 device=cpu
only="pytorch-dataloader,pytorch-preloaded,cnn_lab"
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --max-batches) max_batches="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --batch-size) batch_size="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# CNN_LAB_BENCH_BIN: an already built bench_train (the smoke test uses the
# debug build that `cargo test` made) instead of building the release one.
if [ -n "${CNN_LAB_BENCH_BIN:-}" ]; then
  bin="$CNN_LAB_BENCH_BIN"
else
  cargo build --release --quiet -p cnn_lab --example bench_train
  bin="$CNN_LAB_ROOT/target/release/examples/bench_train"
fi
py="$CNN_LAB_VENV/bin/python"
out_dir="$CNN_LAB_ROOT/target/bench"
mkdir -p "$out_dir"
results="$out_dir/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
IFS=, read -r -a contenders <<< "$only"
IFS=, read -r -a thread_counts <<< "$threads"

common=(--epochs "$epochs" --batch-size "$batch_size" --data "$CNN_LAB_DATA" --device "$device")
[ -n "$max_batches" ] && common+=(--max-batches "$max_batches")

run_one() { # contender threads
  case "$1" in
    pytorch-dataloader) "$py" benches/pytorch_baseline.py --variant dataloader --threads "$2" "${common[@]}" ;;
    pytorch-preloaded) "$py" benches/pytorch_baseline.py --variant preloaded --threads "$2" "${common[@]}" ;;
    cnn_lab) "$bin" --threads "$2" "${common[@]}" ;;
    *) echo "bench.sh: unknown contender $1" >&2; exit 2 ;;
  esac
}

echo "bench: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "bench: device=$device threads=$threads epochs=$epochs max_batches=${max_batches:-all} repeat=$repeat batch_size=$batch_size"
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
n=${#contenders[@]}
for ((r = 0; r < repeat; r++)); do
  for t in "${thread_counts[@]}"; do
    for ((i = 0; i < n; i++)); do
      c="${contenders[$(((i + r) % n))]}"
      load="$(cut -d' ' -f1 /proc/loadavg)"
      echo "bench: repeat $((r + 1))/$repeat, $t threads: $c (load $load)" >&2
      # Only the JSON lines (fit's own lines go to stdout too).
      run_one "$c" "$t" | while IFS= read -r line; do
        [[ $line == \{* ]] || continue
        printf '%s\n' "${line%\}}, \"repeat\": $r, \"load_before\": $load}"
      done >> "$results"
    done
  done
done
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: raw results in $results"

"$py" - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
summ = [r for r in rows if r["kind"] == "summary"]
med = lambda xs: statistics.median(xs) if xs else float("nan")
metrics = [("train_images_per_s", "train img/s", "{:.0f}"), ("train_pass_s", "train pass s", "{:.2f}"),
           ("reeval_s", "re-eval s", "{:.2f}"), ("epoch_s", "epoch s", "{:.2f}"),
           ("test_eval_s", "test eval s", "{:.3f}"), ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
           ("val_acc", "val acc", "{:.4f}")]
for t in sorted({r["threads"] for r in summ}):
    by = {}
    for r in summ:
        if r["threads"] == t:
            by.setdefault(r["impl"], []).append(r)
    names = [n for n in ("pytorch-dataloader", "pytorch-preloaded", "cnn_lab") if n in by]
    n_runs = {n: len(by[n]) for n in names}
    print(f"\n{t} thread(s); medians over runs {n_runs}; load during runs "
          f"{min(r['load_before'] for r in summ):.2f}-{max(r['load_before'] for r in summ):.2f}")
    print(f"{'':14}" + "".join(f"{n:>20}" for n in names)
          + ("".join(f"{'cnn_lab/' + n.split('-')[1]:>22}" for n in names if n != "cnn_lab") if "cnn_lab" in by else ""))
    for key, label, fmt in metrics:
        vals = {n: med([r[key] for r in by[n]]) for n in names}
        line = f"{label:14}" + "".join(f"{fmt.format(vals[n]):>20}" for n in names)
        if "cnn_lab" in by:
            for n in names:
                if n != "cnn_lab" and vals[n]:
                    line += f"{vals['cnn_lab'] / vals[n]:>22.2f}"
        print(line)
PY
