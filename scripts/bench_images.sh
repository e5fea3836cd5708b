#!/usr/bin/env bash
# The augmentation lecture's photo pipeline, cnn_lab against PyTorch, in one run:
#   scripts/bench_images.sh [--repeat 1] [--workers 2] [--batch-size 32] [--epochs 2]
#                           [--stages] [--no-mnist]
# ImageFolder + Resize((224, 224)) + RandomHorizontalFlip + ToTensor + Normalize
# over target/bench/photos (400 JPEGs, 240-640 px, made once from
# scikit-image's photos by benches/pytorch_images.py make), shuffled, batch 32:
#   pytorch        torchvision ImageFolder + PIL, DataLoader(num_workers=2)
#   cnn_lab        ImageFolder + DataLoader::from_dataset(..).num_workers(2)
#   cnn_lab-cache  the same with .cache(true): photos decoded once (epoch 1),
#                  the transforms still drawn every epoch
# (crate/examples/bench_images.rs, release build), rotating their order each
# repeat; libtorch's intra-op threads are 1 on both sides. Then the lecture's
# in-memory MNIST loader, one shuffled epoch at batch 256 (and the same
# measurement by CNN_LAB_BENCH_MNIST_BEFORE_BIN, if set: a build of an older
# commit, for a before/after; docs/performance.md says how), and with
# --stages the per-photo cost of each step on one thread (both sides).
# Prints images/s per contender (whole run and per epoch), the ratios to
# PyTorch and the load average; raw JSON lines go to target/bench/. Not a
# test: the machine is shared, compare ratios from one run.
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# shellcheck source=bench_photos.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_photos.sh"
cd "$CNN_LAB_ROOT"

repeat=1 workers=2 batch_size=32 epochs=2 stages=0 mnist=1
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --batch-size) batch_size="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --stages) stages=1; shift ;;
    --no-mnist) mnist=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "bench_images.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

bench_photos
# CNN_LAB_BENCH_IMAGES_BIN: an already built bench_images instead of
# building the release one.
bench_example bench_images CNN_LAB_BENCH_IMAGES_BIN
results="$out_dir/images-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
common=(--batch-size "$batch_size" --epochs "$epochs" --threads 1)

run_one() { # contender
  case "$1" in
    pytorch) "$py" benches/pytorch_images.py run "$folder" --workers "$workers" "${common[@]}" ;;
    cnn_lab) "$bin" run "$folder" --workers "$workers" --cache off "${common[@]}" ;;
    cnn_lab-cache) "$bin" run "$folder" --workers "$workers" --cache on "${common[@]}" ;;
    cnn_lab-u8resize) "$bin" run "$folder" --workers "$workers" --resize uint8 "${common[@]}" ;;
    mnist) "$bin" mnist "$CNN_LAB_DATA" --threads 1 ;;
    mnist-before) "$CNN_LAB_BENCH_MNIST_BEFORE_BIN" "$CNN_LAB_DATA" ;;
    stages-pytorch) "$py" benches/pytorch_images.py stages "$folder" --threads 1 ;;
    stages-cnn_lab) "$bin" stages "$folder" --threads 1 ;;
  esac
}
record() { # contender repeat
  local load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  echo "bench_images: repeat $(($2 + 1))/$repeat: $1 (load $load)" >&2
  run_one "$1" | while IFS= read -r line; do
    [[ $line == \{* ]] || continue
    printf '%s\n' "${line%\}}, \"contender\": \"$1\", \"repeat\": $2, \"load_before\": $load}"
  done >> "$results"
}

echo "bench_images: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "bench_images: $(find "$folder" -name '*.jpg' | wc -l) photos in $folder; workers=$workers batch_size=$batch_size epochs=$epochs repeat=$repeat"
echo "bench_images: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
contenders=(pytorch cnn_lab cnn_lab-cache)
n=${#contenders[@]}
for ((r = 0; r < repeat; r++)); do
  for ((i = 0; i < n; i++)); do
    record "${contenders[$(((i + r) % n))]}" "$r"
  done
  if [ "$mnist" = 1 ]; then
    if [ -n "${CNN_LAB_BENCH_MNIST_BEFORE_BIN:-}" ] && [ $((r % 2)) = 1 ]; then
      record mnist-before "$r"; record mnist "$r"
    else
      record mnist "$r"
      if [ -n "${CNN_LAB_BENCH_MNIST_BEFORE_BIN:-}" ]; then record mnist-before "$r"; fi
    fi
  fi
done
if [ "$stages" = 1 ]; then
  record stages-pytorch 0
  record stages-cnn_lab 0
fi
echo "bench_images: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench_images: raw results in $results"

"$py" - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
order = ("pytorch", "cnn_lab", "cnn_lab-cache", "cnn_lab-u8resize")
runs = [r for r in rows if r["contender"] in order]
names = [n for n in order if any(r["contender"] == n for r in runs)]
loads = [r["load_before"] for r in rows]
print(f"\nimages/s (medians over {max(r['repeat'] for r in rows) + 1} repeat(s)); "
      f"load average before each run {min(loads):.2f}-{max(loads):.2f}")
epochs = sorted({r["epoch"] for r in runs})
def rate(name, epoch=None):
    vals = []
    for rep in sorted({r["repeat"] for r in runs}):
        sel = [r for r in runs if r["contender"] == name and r["repeat"] == rep
               and (epoch is None or r["epoch"] == epoch)]
        if sel:
            vals.append(sum(r["images"] for r in sel) / sum(r["seconds"] for r in sel))
    return statistics.median(vals) if vals else float("nan")
cols = [("all epochs", None)] + [(f"epoch {e}", e) for e in epochs]
print(f"{'':18}" + "".join(f"{c:>12}" for c, _ in cols) + f"{'vs pytorch':>12}")
base = rate("pytorch") if "pytorch" in names else float("nan")
for n in names:
    line = f"{n:18}" + "".join(f"{rate(n, e):>12.1f}" for _, e in cols)
    line += f"{rate(n) / base:>11.2f}x" if n != "pytorch" else f"{'1.00x':>12}"
    print(line)
for c in ("mnist-before", "mnist"):
    m = [r for r in rows if r["contender"] == c]
    if m:
        print(f"MNIST in-memory loader{' (before)' if c == 'mnist-before' else ''}, "
              f"load_mnist_dataset(256, shuffled), one epoch: median "
              f"{statistics.median(r['images_per_s'] for r in m):.0f} images/s "
              f"(runs: {', '.join(str(round(r['images_per_s'])) for r in m)})")
st = [r for r in rows if r["contender"].startswith("stages-") and "ms_per_image" in r]
if st:
    print("\nper photo, one thread, ms:")
    by = {}
    for r in st:
        by.setdefault(r["stage"].split(" ")[0], {})[r["who"]] = r["ms_per_image"]
    print(f"{'stage':14}{'pytorch':>10}{'cnn_lab':>10}")
    for s, v in by.items():
        print(f"{s:14}{v.get('pytorch', float('nan')):>10.3f}{v.get('cnn_lab', float('nan')):>10.3f}")
    print("(resize_uint8: the cnn_lab-u8resize proposal; its largest difference from Resize: "
          + ", ".join(f"{r['max_diff_vs_resize']}/255 max, {r['mean_diff_vs_resize']:.3f}/255 mean"
                      for r in st if "max_diff_vs_resize" in r) + ")")
PY
