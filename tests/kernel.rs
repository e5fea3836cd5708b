//! The project's kernel (evcxr_jupyter with scripts/kernel/patches/) as
//! Jupyter clients meet it, through jupyter_client and nbclient: errors never
//! arrive after their cell's idle, failed cells are Jupyter errors, and an
//! interrupt stops `fit` without losing the notebook's variables; a value cell
//! compiles once, a `let` never waits for rust-analyzer and its variables keep
//! their types, and Tab sees a derived model's methods; the lean kernel runs
//! cells the same; and a stock evcxr_jupyter runs cnn_lab as docs/kernel.md
//! says. The checks themselves are in tests/python/kernel_check.py and
//! stock_evcxr_check.py; each prints its figures.

mod common;

use std::sync::Mutex;

/// One kernel at a time: each takes a build slot and both cores.
static KERNEL: Mutex<()> = Mutex::new(());

fn kernel_check(args: &[&str]) {
    let _guard = KERNEL.lock().unwrap_or_else(|e| e.into_inner());
    let out = common::run_python("kernel_check.py", args);
    println!("{out}");
}

#[test]
fn no_error_text_arrives_after_its_cells_idle_nor_under_another_cell() {
    kernel_check(&["stress", "--per-kind", "50"]);
}

#[test]
fn interrupting_fit_keeps_the_variables_and_a_stuck_cell_is_killed_after_the_grace_period() {
    kernel_check(&["interrupt"]);
}

#[test]
fn nbclient_reports_question_mark_errors_panics_and_compile_errors_in_their_own_cells() {
    kernel_check(&["nbclient"]);
}

#[test]
fn fit_shows_one_progress_output_and_one_chart_updated_in_place_before_idle() {
    kernel_check(&["live"]);
}

#[test]
fn requests_queued_behind_a_failed_cell_are_aborted_as_run_all_expects() {
    kernel_check(&["abort"]);
}

#[test]
fn cell_libraries_stay_small_and_a_new_kernel_clears_the_previous_ones_from_its_slot() {
    kernel_check(&["disk"]);
}

#[test]
fn tab_completes_cnn_labs_stds_and_a_derived_models_names_and_shift_tab_shows_their_rustdoc() {
    kernel_check(&["complete"]);
}

#[test]
fn after_dep_the_analysis_is_made_in_the_background_and_cells_keep_their_types_and_displays() {
    kernel_check(&["latency"]);
}

#[test]
fn a_cell_ending_in_a_value_compiles_once_and_variables_keep_their_types_across_cells() {
    kernel_check(&["values"]);
}

#[test]
fn a_let_takes_its_types_from_the_program_and_they_survive_errors_panics_and_stop() {
    kernel_check(&["lets"]);
}

#[test]
fn the_lean_kernel_runs_cells_and_keeps_variables_as_the_whole_one_without_completions() {
    kernel_check(&["lean"]);
}

/// A learner's own evcxr: upstream's evcxr_jupyter 0.22.0, no patches
/// (`scripts/kernel/build.sh --stock-path`: its first build ~4 minutes, its
/// first `:dep cnn_lab` another ~4), in the environment docs/kernel.md names.
#[test]
fn a_stock_evcxr_jupyter_runs_cnn_lab_in_the_environment_docs_kernel_md_names() {
    let _guard = KERNEL.lock().unwrap_or_else(|e| e.into_inner());
    let build = common::repo_root().join("scripts/kernel/build.sh");
    let out = std::process::Command::new(&build)
        .arg("--stock-path")
        .output()
        .expect("running scripts/kernel/build.sh --stock-path");
    assert!(
        out.status.success(),
        "building a stock evcxr_jupyter failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stock = String::from_utf8(out.stdout).expect("a UTF-8 path");
    println!(
        "{}",
        common::run_python("stock_evcxr_check.py", &[stock.trim()])
    );
}
