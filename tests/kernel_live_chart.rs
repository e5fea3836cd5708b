//! The live chart through the project's kernel (jupyter_client): a 1-epoch
//! `fit` sends at least 5 chart updates, in place, before the epoch's line,
//! and the lecture's lines are unchanged. The check is
//! tests/python/kernel_live_chart.py; it needs the kernel set up
//! (`scripts/setup.sh`) and takes both cores for its first `:dep` build.

mod common;

#[test]
fn a_one_epoch_fit_sends_at_least_5_chart_updates_before_the_epoch_line() {
    let out = common::run_python("kernel_live_chart.py", &[]);
    println!("{out}");
}
