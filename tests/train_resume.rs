//! `FitOptions::resume_from`: a child process (this test binary run again)
//! trains with a training checkpoint and is killed with SIGKILL in the
//! middle of an epoch; running the same fit again continues from the last
//! completed epoch and ends with the history and weights of an
//! uninterrupted run with the same seeds, bit for bit. The checkpoint is
//! PyTorch's general-checkpoint layout, read back by `torch.load`.

mod common;
mod train_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cnn_lab::pth::load_pth;
use cnn_lab::{
    fit, Adam, CrossEntropyLoss, DataLoader, FitOptions, FitResult, ModuleExt, Progress, StepLR,
    Tensor,
};
use train_support::{mnist, rng_lock, TinyCnn};

const EPOCHS: usize = 4;
/// Set in the child: the checkpoint path it trains with.
const CHILD: &str = "CNN_LAB_RESUME_TEST_CHILD";

/// One run: the same seeds, model, data and options every time; `fit`
/// resumes from `path` when it exists.
fn run(path: &Path) -> (FitResult, Vec<(String, Tensor)>) {
    cnn_lab::manual_seed(42);
    let model = TinyCnn::new(10, 0.3);
    let (x, y) = mnist(true, 768);
    let train = DataLoader::new(x, y, 64).unwrap().shuffle(true).seed(7);
    let (vx, vy) = mnist(false, 128);
    let val = DataLoader::new(vx, vy, 128).unwrap();
    let mut optimizer = Adam::new(model.parameters(), 2e-3);
    let options = FitOptions::default()
        .progress(Progress::Off)
        .live_plot(false)
        .scheduler(StepLR::new(2).gamma(0.5))
        .resume_from(path);
    let result = fit(
        &train,
        &val,
        &model,
        &CrossEntropyLoss::new(),
        &mut optimizer,
        EPOCHS,
        options,
    )
    .unwrap();
    (result, model.state_dict())
}

/// The child's side: train until killed.
#[test]
fn child_trains_until_killed() {
    if let Some(path) = std::env::var_os(CHILD) {
        run(Path::new(&path));
    }
}

fn saved_epoch(path: &Path) -> Option<i64> {
    load_pth(path).ok()?.get("epoch")?.as_int()
}

#[test]
fn a_run_killed_mid_epoch_resumes_and_matches_an_uninterrupted_one() {
    let _lock = rng_lock();
    let dir = common::scratch_dir("train_resume");
    let path = dir.join("run.pth");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_trains_until_killed",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, &path)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as the checkpoint of epoch 2 is there: it is then
    // inside epoch 3's training pass.
    let start = Instant::now();
    while saved_epoch(&path) != Some(2) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoint of epoch 2"
        );
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed, not finished: {status:?}");
    let done = saved_epoch(&path).unwrap();
    assert!(
        (2..EPOCHS as i64).contains(&done),
        "checkpoint of epoch {done}"
    );

    let (resumed, resumed_weights) = run(&path);
    let (plain, plain_weights) = run(&dir.join("uninterrupted.pth"));
    assert_eq!(resumed.resumed_from, Some(done as usize));
    assert_eq!(plain.resumed_from, None);
    assert_eq!(resumed.train_loss, plain.train_loss);
    assert_eq!(resumed.train_accuracy, plain.train_accuracy);
    assert_eq!(resumed.val_loss, plain.val_loss);
    assert_eq!(resumed.val_accuracy, plain.val_accuracy);
    assert_eq!(resumed.lr, plain.lr);
    assert_eq!(resumed.lr, [2e-3, 2e-3, 1e-3, 1e-3]);
    assert_eq!(resumed.train_loss_steps, plain.train_loss_steps);
    assert_eq!(resumed.best_epoch, plain.best_epoch);
    assert_eq!(resumed.val_loss.len(), EPOCHS);
    for ((name, a), (_, b)) in resumed_weights.iter().zip(&plain_weights) {
        assert!(a.equal(b), "{name} differs after resuming");
    }
    // Running it again once finished trains nothing more.
    let (again, _) = run(&path);
    assert_eq!(again.resumed_from, Some(EPOCHS));
    assert_eq!(again.val_loss, plain.val_loss);
}

#[test]
fn pytorch_reads_the_checkpoint_as_a_general_checkpoint() {
    let _lock = rng_lock();
    let dir = common::scratch_dir("train_resume_torch");
    let path = dir.join("run.pth");
    let (result, _) = run(&path);
    let out = common::run_python("resume_reference.py", &[path.to_str().unwrap()]);
    let line = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} in {out}"))
            .to_string()
    };
    assert_eq!(line("epoch"), EPOCHS.to_string());
    assert_eq!(
        line("val_loss"),
        format!("{:?}", result.val_loss.last().unwrap())
    );
    assert_eq!(line("optimizer_loaded"), "True");
    assert_eq!(line("scheduler_last_lr"), "0.0005");
}
