#!/usr/bin/env bash
# The GPU checks, as one prepared run for a borrowed GPU machine (see
# docs/gpu.md): everything is built here, only binaries and data travel, and
# that machine's own torch 2.13 libraries are used.
#
#   here:   scripts/gpu_check.sh --prepare
#           builds bench_train, gpu_order, lecture_gpu and the test binary of
#           tests/cuda_fit.rs (release) and copies them, with MNIST's four
#           .gz files, into .gpu/ (git-ignored; ~30 MB).
#   there:  bash scripts/gpu_check.sh --run [--epochs 10]
#           (the device tool: carry [".gpu"], timeout ≥ 500 s) prints the GPU;
#           checks that CUDA is found whatever the first torch call, one fresh
#           process per order, the notebooks' (seed, then device_from_env())
#           included; runs fit's GPU tests (tests/cuda_fit.rs); trains the
#           lecture with fit on the GPU (with fit's defaults, a CUDA graph
#           there, then eagerly), reloads its checkpoint on the CPU and tests
#           it there; then runs the lecture's
#           epochs through cnn_lab (C++ Adam without a graph, the defaults,
#           fused Adam without a graph, the defaults with cuDNN's benchmark)
#           and through the PyTorch baseline (preloaded with its default and
#           its fused Adam and without cuDNN's benchmark, then the lecture's
#           DataLoader); the ratios to PyTorch's default and to its fastest
#           preloaded run. One JSON line each
#           (also to $OUT/gpu_results.jsonl when $OUT is set); exits non-zero
#           if any check failed, after running them all.
#   dry run on a CPU (here, after --prepare, with scripts/env.sh sourced):
#           scripts/gpu_check.sh --run --device cpu --epochs 1 --max-batches 2
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-}"
shift || true
epochs=10
device=cuda
max_batches=()
warm_up=(--max-batches 20)
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --max-batches) max_batches=(--max-batches "$2"); warm_up=("${max_batches[@]}"); shift 2 ;;
    *) echo "gpu_check.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
bins=(bench_train gpu_order lecture_gpu)

case "$mode" in
  --prepare)
    # shellcheck source=env.sh
    source scripts/env.sh
    cargo build --release --quiet -p cnn_lab "${bins[@]/#/--example=}"
    # The GPU-only tests of fit (tests/cuda_fit.rs), as a test binary.
    cuda_fit="$(cargo test --release --quiet -p cnn_lab --test cuda_fit --no-run --message-format=json \
      | python3 -c 'import json, sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "cuda_fit":
        print(m["executable"])')"
    rm -rf .gpu && mkdir -p .gpu/datasets/MNIST/raw
    for b in "${bins[@]}"; do cp "target/release/examples/$b" .gpu/; done
    cp "$cuda_fit" .gpu/cuda_fit
    cp "$CNN_LAB_DATA"/MNIST/raw/*.gz .gpu/datasets/MNIST/raw/
    du -sh .gpu
    ;;
  --run)
    for b in "${bins[@]}"; do
      [ -x ".gpu/$b" ] || { echo "gpu_check.sh: no .gpu/$b: run --prepare here first and carry .gpu" >&2; exit 2; }
    done
    py="$(command -v python3)"
    torch_lib="$("$py" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
    export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    # The backend is chosen by the driver (the default), as a learner's would be.
    unset CNN_LAB_CUDA_BACKEND CNN_LAB_DEVICE
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    "$py" -c 'import torch, torchvision; print("python torch", torch.__version__, "torchvision", torchvision.__version__, "cuda", torch.cuda.is_available())'
    mkdir -p "${OUT:-/tmp}"
    results="${OUT:-/tmp}/gpu_results.jsonl"
    : > "$results"
    data="$here/.gpu/datasets"
    failed=()
    # Each check under a time limit, so that one hung process (a first real
    # CUDA-graph capture, say) cannot eat the whole lease: cnn_lab's runs
    # take seconds; the lecture's DataLoader about two minutes.
    limit=90
    run() {
      echo "gpu_check: $*" >&2
      timeout "$limit" "$@" | tee -a "$results" || failed+=("$* (rc ${PIPESTATUS[0]})")
    }
    # 1. CUDA whatever the first call: a fresh process per order.
    for first in nothing tensor conv tch-seed cnn_lab-seed notebook; do
      run .gpu/gpu_order --first "$first" --expect "$device"
    done
    # 2. fit's GPU tests: its default graph, and a step it cannot capture
    #    (#[ignore]d where cargo test runs them: they need a GPU).
    export CNN_LAB_DATA="$data"
    [ "$device" = cuda ] && run .gpu/cuda_fit --ignored --test-threads=1
    # 3. The lecture: fit on the GPU with a checkpoint, reloaded and tested
    #    on the CPU; with fit's defaults (on a GPU: the training step as a
    #    CUDA graph, which lecture_gpu checks was used), then eagerly.
    graph_modes=(auto)
    [ "$device" = cuda ] && graph_modes=(auto off)
    for g in "${graph_modes[@]}"; do
      run .gpu/lecture_gpu --device "$device" --epochs "$epochs" "${max_batches[@]}" \
        --data "$data" --out "/tmp/cnn_lab_lecture_gpu_$g" --cuda-graph "$g"
    done
    # 4. The benchmark. A short warm-up of each (CUDA context, first
    #    kernels), then the timed runs: cnn_lab with libtorch's C++ Adam and
    #    no graph (the old path), with its defaults (on a GPU: fused Adam, the
    #    step as a CUDA graph, cuDNN's benchmark off as in libtorch), and on
    #    a GPU also fused Adam without a graph and the defaults with cuDNN's
    #    benchmark on; PyTorch preloaded with its default Adam, with
    #    Adam(fused=True), and with cuDNN's benchmark off; the lecture's
    #    DataLoader.
    cnn_variants=("--adam cpp --cuda-graph off" "")
    [ "$device" = cuda ] && cnn_variants+=("--adam auto --cuda-graph off" "--cudnn-benchmark on")
    run .gpu/bench_train --device "$device" --epochs 1 "${warm_up[@]}" --data "$data"
    run "$py" benches/pytorch_baseline.py --variant preloaded --device "$device" --epochs 1 "${warm_up[@]}" --data "$data" --scratch /tmp/bench-data
    for v in "${cnn_variants[@]}"; do
      # shellcheck disable=SC2086 # $v is a list of options
      run .gpu/bench_train --device "$device" --epochs "$epochs" "${max_batches[@]}" --data "$data" $v
    done
    for v in "--adam default" "--adam fused" "--adam default --cudnn-benchmark off"; do
      # shellcheck disable=SC2086 # $v is a list of options
      run "$py" benches/pytorch_baseline.py --variant preloaded $v --device "$device" --epochs "$epochs" "${max_batches[@]}" --data "$data" --scratch /tmp/bench-data
    done
    limit=300
    run "$py" benches/pytorch_baseline.py --variant dataloader --device "$device" --epochs "$epochs" "${max_batches[@]}" --data "$data" --scratch /tmp/bench-data
    "$py" - "$results" "$epochs" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
epochs = int(sys.argv[2])
timed = {}
for r in rows:
    if r.get("kind") == "order":
        print(f'first call {r["first"]:13} -> {r["device"]:8} is_available {r["is_available"]}  ok {r["ok"]}')
    elif r.get("kind") == "lecture":
        print(f'fit on {r["device"]} (cuda_graph {r["cuda_graph"]}): {r["epochs"]} epochs {r["fit_s"]:.2f} s, '
              f'val acc {r["fit_val_acc"]:.4f}; reloaded on the CPU {r["cpu_reloaded_acc"]:.4f}  ok {r["ok"]}')
    elif r.get("kind") == "summary" and r.get("max_batches") is None and r.get("epoch_s"):
        name = (f'{r["impl"]} adam={r.get("adam")}' + (" graph" if r.get("cuda_graph") else "")
                + ("" if r.get("cudnn_benchmark") or r["device"] != "cuda" else " no-bench"))
        total = r["epoch_s"] * epochs
        if name in timed:
            continue
        timed[name] = r
        print(f'{name:36} {epochs} epochs {total:7.2f} s  train {r["train_images_per_s"]:8.0f} img/s  '
              f'test eval {r["test_eval_s"]:.3f} s  val acc {r["val_acc"]:.4f}')
preloaded = {n: r for n, r in timed.items() if n.startswith("pytorch-preloaded")}
if preloaded:
    named = "pytorch-preloaded adam=default"
    fastest = min(preloaded, key=lambda n: preloaded[n]["epoch_s"])
    for base_name in dict.fromkeys([named, fastest]):
        base = preloaded.get(base_name)
        if not base:
            continue
        print(f'against {base_name}:')
        for name, r in timed.items():
            if name.startswith("cnn_lab"):
                print(f'  {name:36} time {r["epoch_s"] / base["epoch_s"]:.2f}x, '
                      f'test eval {r["test_eval_s"] / base["test_eval_s"]:.2f}x')
PY
    if [ ${#failed[@]} -gt 0 ]; then
      printf 'gpu_check: FAILED: %s\n' "${failed[@]}" >&2
      exit 1
    fi
    echo "gpu_check: all checks passed" >&2
    ;;
  *)
    sed -n '2,20p' "$0"
    exit 2
    ;;
esac
