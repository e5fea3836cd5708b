#!/usr/bin/env bash
# The GPU half of the lecture benchmark (issue 6), as one prepared check for a
# borrowed GPU machine (see ../shared/GPU.md): everything is built here, only
# binaries and data travel, and that machine's own torch 2.11 libraries are used.
#
#   here:   scripts/gpu_check.sh --prepare
#           builds bench_train (release) and copies it, with MNIST's four .gz
#           files, into .gpu/ (git-ignored; ~12 MB).
#   there:  bash scripts/gpu_check.sh --run [--epochs 10]
#           (the device tool: carry [".gpu"], timeout ≥ 400 s) prints the GPU,
#           whether cnn_lab's cuda_if_available() finds it through pip torch's
#           libtorch_cuda, then runs the lecture's 10 epochs through
#           cnn_lab and through the PyTorch baseline (preloaded, then the
#           lecture's DataLoader), alternating, and prints one JSON line each
#           (also to $OUT/gpu_results.jsonl when $OUT is set).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-}"
shift || true
epochs=10
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    *) echo "gpu_check.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

case "$mode" in
  --prepare)
    # shellcheck source=env.sh
    source scripts/env.sh
    cargo build --release --quiet -p cnn_lab --example bench_train
    rm -rf .gpu && mkdir -p .gpu/datasets/MNIST/raw
    cp target/release/examples/bench_train .gpu/
    cp "$CNN_LAB_DATA"/MNIST/raw/*.gz .gpu/datasets/MNIST/raw/
    du -sh .gpu
    ;;
  --run)
    [ -x .gpu/bench_train ] || { echo "gpu_check.sh: run --prepare here first and carry .gpu" >&2; exit 2; }
    py="$(command -v python3)"
    torch_lib="$("$py" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
    export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    "$py" -c 'import torch, torchvision; print("python torch", torch.__version__, "torchvision", torchvision.__version__, "cuda", torch.cuda.is_available())'
    results="${OUT:-/tmp}/gpu_results.jsonl"
    : > "$results"
    data="$here/.gpu/datasets"
    run() { echo "gpu_check: $*" >&2; "$@" | tee -a "$results"; }
    # A short warm-up of each (cuDNN autotuning, CUDA context), then the timed runs.
    run .gpu/bench_train --device cuda --epochs 1 --max-batches 20 --data "$data"
    run "$py" benches/pytorch_baseline.py --variant preloaded --device cuda --epochs 1 --max-batches 20 --data "$data" --scratch /tmp/bench-data
    run .gpu/bench_train --device cuda --epochs "$epochs" --data "$data"
    run "$py" benches/pytorch_baseline.py --variant preloaded --device cuda --epochs "$epochs" --data "$data" --scratch /tmp/bench-data
    run "$py" benches/pytorch_baseline.py --variant dataloader --device cuda --epochs "$epochs" --data "$data" --scratch /tmp/bench-data
    "$py" - "$results" "$epochs" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
epochs = int(sys.argv[2])
for r in rows:
    if r["kind"] == "summary" and r.get("max_batches") is None:
        print(f'{r["impl"]:20} {epochs} epochs {r["epoch_s"] * epochs:7.2f} s  '
              f'train {r["train_images_per_s"]:8.0f} img/s  test eval {r["test_eval_s"]:.3f} s  '
              f'val acc {r["val_acc"]:.4f}')
PY
    ;;
  *)
    sed -n '2,16p' "$0"
    exit 2
    ;;
esac
