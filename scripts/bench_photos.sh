# Sourced by the photo benchmarks (bench_images.sh, bench_finetune.sh) after
# env.sh: the shared photo folder and the release example they time.
#   bench_photos             sets py, out_dir (target/bench) and folder
#                            (target/bench/photos, made once from scikit-image's
#                            photos by benches/pytorch_images.py make)
#   bench_example NAME VAR   sets bin: $VAR when set (an already built binary),
#                            else crate/examples/NAME.rs built in release

bench_photos() {
  py="$CNN_LAB_VENV/bin/python"
  out_dir="$CNN_LAB_ROOT/target/bench"
  folder="$out_dir/photos"
  mkdir -p "$out_dir"
  if [ ! -f "$folder/.complete" ]; then
    rm -rf "$folder"
    "$py" benches/pytorch_images.py make "$folder"
    touch "$folder/.complete"
  fi
}

bench_example() { # NAME VAR
  if [ -n "${!2:-}" ]; then
    bin="${!2}"
  else
    cargo build --release --quiet -p cnn_lab --example "$1"
    bin="${CARGO_TARGET_DIR:-$CNN_LAB_ROOT/target}/release/examples/$1"
  fi
}
