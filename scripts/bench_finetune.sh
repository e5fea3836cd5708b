#!/usr/bin/env bash
# The transfer-learning lecture's fine-tune, cnn_lab against PyTorch, in one run:
#   scripts/bench_finetune.sh [--photos 80] [--epochs 3] [--batch-size 16] [--threads 2]
#                             [--models "resnet18 vgg16"] [--uncached] [--fused] [--augment]
#                             [--repeat 1]
# (1) resnet18, every parameter frozen, a new fc = Linear(512, 2); (2) vgg16, every
# parameter frozen, a new classifier ending in Linear(4096, 2). The lecture's fit
# (per epoch a training pass, then the training and the validation set
# re-evaluated), Adam(1e-3), cross-entropy, batch 16, on the first PHOTOS photos of
# target/bench/photos (made once by benches/pytorch_images.py make, as
# scripts/bench_images.sh does; 2 classes interleaved, every fifth for validation),
# Resize((224, 224)) + ToTensor + Normalize. Random weights, the same on both
# sides (benches/pytorch_finetune.py weights, kept in target/bench/). Contenders,
# libtorch's intra-op threads THREADS on both sides:
#   pytorch   benches/pytorch_finetune.py run: the course's code, DataLoader(num_workers=0)
#   cnn_lab   crate/examples/bench_finetune.rs (release): fit, default options
#   cnn_lab-uncached   (--uncached) the same with cache_frozen_features(false)
#   cnn_lab-fused      (--fused) the same with Adam::fused(true) (PyTorch's fused=True)
# --augment adds RandomHorizontalFlip to the training set's transform on
# both sides: the frozen body's output can then not be kept.
# --repeat N runs every contender N times, in rotating order, and reports medians
# (of the seconds, and of each round's ratio to PyTorch: the load moves between rounds).
# Prints seconds for epoch 1 and for all epochs, the ratios to PyTorch and the
# load average; raw JSON lines go to target/bench/finetune-*.jsonl. Not a test:
# the machine is shared, compare ratios from one run.
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# shellcheck source=bench_photos.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_photos.sh"
cd "$CNN_LAB_ROOT"

photos=80 epochs=3 batch_size=16 threads=2 models="resnet18 vgg16" uncached=0 fused=0 augment=0 repeat=1
while [ $# -gt 0 ]; do
  case "$1" in
    --photos) photos="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --batch-size) batch_size="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    --uncached) uncached=1; shift ;;
    --fused) fused=1; shift ;;
    --augment) augment=1; shift ;;
    --repeat) repeat="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "bench_finetune.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

bench_photos
# CNN_LAB_BENCH_FINETUNE_BIN: an already built bench_finetune.
bench_example bench_finetune CNN_LAB_BENCH_FINETUNE_BIN
results="$out_dir/finetune-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
common=(--photos "$photos" --epochs "$epochs" --batch-size "$batch_size" --threads "$threads")
py_extra=() rs_extra=()
[ "$augment" = 1 ] && py_extra=(--augment) && rs_extra=(--augment on)

record() { # contender model
  local load weights="$out_dir/finetune_$2.safetensors"
  [ -f "$weights" ] || "$py" benches/pytorch_finetune.py weights "$weights" --model "$2"
  load="$(cut -d' ' -f1 /proc/loadavg)"
  echo "bench_finetune: $2: $1 (load $load)" >&2
  case "$1" in
    pytorch) "$py" benches/pytorch_finetune.py run "$folder" --model "$2" --weights "$weights" "${common[@]}" "${py_extra[@]}" ;;
    cnn_lab) "$bin" "$folder" --model "$2" --weights "$weights" "${common[@]}" "${rs_extra[@]}" ;;
    cnn_lab-uncached) "$bin" "$folder" --model "$2" --weights "$weights" --cache off "${common[@]}" "${rs_extra[@]}" ;;
    cnn_lab-fused) "$bin" "$folder" --model "$2" --weights "$weights" --fused on "${common[@]}" "${rs_extra[@]}" ;;
  esac | while IFS= read -r line; do
    [[ $line == \{* ]] || continue
    printf '%s\n' "${line%\}}, \"contender\": \"$1\", \"load_before\": $load}"
  done >> "$results"
}

echo "bench_finetune: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "bench_finetune: $photos photos of $folder, epochs=$epochs batch_size=$batch_size threads=$threads augment=$augment"
echo "bench_finetune: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
contenders=(cnn_lab pytorch)
[ "$uncached" = 1 ] && contenders+=(cnn_lab-uncached)
[ "$fused" = 1 ] && contenders+=(cnn_lab-fused)
for ((r = 0; r < repeat; r++)); do
  for model in $models; do
    n=${#contenders[@]}
    for ((k = 0; k < n; k++)); do record "${contenders[(k + r) % n]}" "$model"; done
  done
done
echo "bench_finetune: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench_finetune: raw results in $results"

"$py" - "$results" "$repeat" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
repeat = int(sys.argv[2])
print(f"\n{'model':10}{'contender':18}{'epoch 1 s':>10}{'all s':>9}{'x epoch 1':>10}{'x all':>8}"
      f"{'val acc':>9}  load  frozen features")
for model in dict.fromkeys(r["model"] for r in rows):
    runs = {}
    for r in rows:
        if r["model"] == model:
            runs.setdefault(r["contender"], []).append(r)
    def figures(c):
        # Over the repeats: epoch 1's seconds, the whole fit's.
        ep1 = [r["seconds"] for r in runs.get(c, []) if r.get("epoch") == 1]
        tot = [r for r in runs.get(c, []) if "total_s" in r]
        last = [r for r in runs.get(c, []) if "epoch" in r]
        if not ep1 or not tot:
            return None
        loads = [r["load_before"] for r in tot]
        return (ep1, [r["total_s"] for r in tot],
                last[-1]["val_accuracy"], f"{min(loads)}-{max(loads)}" if len(loads) > 1 else str(loads[0]),
                tot[0].get("frozen_features", ""))
    def ratio(base, mine):
        # The k-th run against PyTorch's k-th (run beside it, in one round).
        return statistics.median(b / m for b, m in zip(base, mine))
    base = figures("pytorch")
    for c in runs:
        f = figures(c)
        if f is None:
            continue
        r1 = ratio(base[0], f[0]) if base else float("nan")
        ra = ratio(base[1], f[1]) if base else float("nan")
        f = (statistics.median(f[0]), statistics.median(f[1])) + f[2:]
        print(f"{model:10}{c:18}{f[0]:>10.1f}{f[1]:>9.1f}{r1:>9.2f}x{ra:>7.2f}x{f[2]:>9.3f}  {f[3]:<5} {f[4][:90]}")
print("(x = PyTorch's seconds / the contender's: above 1 is faster than PyTorch"
      + (f"; seconds: medians of {repeat} runs each; x: the median of the {repeat} rounds' ratios"
         if repeat > 1 else "") + ")")
PY
