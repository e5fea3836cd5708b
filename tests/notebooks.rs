//! Notebook execution is a test: every notebook runs headless through the
//! real cnn_lab kernel (`scripts/run_notebooks.sh`), and the runner itself
//! must fail on the ways evcxr hides failures.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use base64::Engine as _;
use serde_json::Value;

/// Kernels share warm build slots; running notebooks one at a time keeps
/// every kernel on a warm slot.
static KERNEL: Mutex<()> = Mutex::new(());

fn run_notebooks(paths: &[&Path]) -> Output {
    let _guard = KERNEL.lock().unwrap_or_else(|e| e.into_inner());
    let script = common::repo_root().join("scripts/run_notebooks.sh");
    Command::new("bash")
        .arg(script)
        .args(paths)
        .output()
        .expect("run scripts/run_notebooks.sh")
}

fn executed_copy(name: &str) -> Value {
    let path = common::repo_root().join("target/notebooks").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("executed notebook is JSON")
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// Every (cell index, output) pair of an executed notebook.
fn outputs(nb: &Value) -> Vec<(usize, Value)> {
    nb["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            c["outputs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |o| (i, o))
        })
        .collect()
}

/// The PNG images shown by a notebook, decoded: (cell, width, height).
fn pngs(nb: &Value) -> Vec<(usize, u32, u32)> {
    outputs(nb)
        .into_iter()
        .filter_map(|(i, o)| {
            let b64 = text_of(&o["data"]["image/png"]);
            if b64.is_empty() {
                return None;
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .expect("image/png output is base64");
            let reader = png::Decoder::new(bytes.as_slice())
                .read_info()
                .expect("image/png output is a PNG");
            let info = reader.info();
            Some((i, info.width, info.height))
        })
        .collect()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    common::repo_root().join("tests/notebooks").join(name)
}

#[test]
fn quickstart_notebook_runs_and_shows_a_png_chart() {
    let nb_path = common::repo_root().join("notebooks/00_quickstart.ipynb");
    let out = run_notebooks(&[&nb_path]);
    assert!(out.status.success(), "runner failed:\n{}", stderr_of(&out));
    let nb = executed_copy("00_quickstart.ipynb");
    let images = pngs(&nb);
    assert!(
        !images.is_empty(),
        "no image/png output in the executed quickstart"
    );
    for (cell, w, h) in images {
        assert!(w >= 200 && h >= 100, "cell {cell}: tiny PNG {w}x{h}");
    }
    let printed: String = outputs(&nb)
        .iter()
        .map(|(_, o)| text_of(&o["text"]))
        .collect();
    assert!(
        printed.contains("first loss"),
        "training output missing: {printed}"
    );
}

#[test]
fn runner_fails_on_a_panicking_cell_and_names_it() {
    let out = run_notebooks(&[&fixture("fail_panic.ipynb")]);
    let err = stderr_of(&out);
    assert!(!out.status.success(), "a panicking notebook passed:\n{err}");
    assert!(err.contains("FAILED fail_panic.ipynb: cell 3"), "{err}");
    // The kernel reports the panic as an error: its message, then the line.
    assert!(
        err.contains("Panic: index out of bounds: the len is 0 but the index is 3"),
        "{err}"
    );
    assert!(err.contains("in this cell, line 2:"), "{err}");
}

#[test]
fn runner_fails_on_an_err_returned_by_question_mark() {
    let out = run_notebooks(&[&fixture("fail_err.ipynb")]);
    let err = stderr_of(&out);
    assert!(
        !out.status.success(),
        "a notebook returning Err passed:\n{err}"
    );
    assert!(err.contains("FAILED fail_err.ipynb: cell 3"), "{err}");
    assert!(err.contains("deliberate failure"), "{err}");
}

#[test]
fn runner_fails_on_a_compile_error_and_names_the_cell() {
    let out = run_notebooks(&[&fixture("fail_compile.ipynb")]);
    let err = stderr_of(&out);
    assert!(
        !out.status.success(),
        "a notebook that does not compile passed:\n{err}"
    );
    assert!(err.contains("FAILED fail_compile.ipynb: cell 3"), "{err}");
    assert!(err.contains("mismatched types"), "{err}");
}

/// All text a notebook printed (stdout streams and plain-text results).
fn printed(nb: &Value) -> String {
    outputs(nb)
        .iter()
        .map(|(_, o)| text_of(&o["text"]) + &text_of(&o["data"]["text/plain"]))
        .collect()
}

/// The number after the last occurrence of `label` in `text`.
fn last_figure(text: &str, label: &str) -> Option<f64> {
    let at = text.rfind(label)? + label.len();
    let rest = text[at..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[test]
fn lecture_notebooks_run_in_order_train_and_reload() {
    let dir = common::repo_root().join("notebooks");
    let names = [
        "mnist_cnn.ipynb",
        "mnist_cnn_inference.ipynb",
        "fashion_mnist_cnn.ipynb",
    ];
    let paths: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let out = run_notebooks(&refs);
    assert!(out.status.success(), "runner failed:\n{}", stderr_of(&out));

    // mnist_cnn: the lecture's epoch line, a checkpoint, charts.
    let nb = executed_copy("mnist_cnn.ipynb");
    let text = printed(&nb);
    assert!(text.contains("Epoch[1/"), "no epoch line:\n{text}");
    assert!(
        text.contains("<<<<<<<저장: 1 - 이전 : inf"),
        "no save line:\n{text}"
    );
    let val_acc = last_figure(&text, "Validation Accuracy:").expect("validation accuracy printed");
    assert!(
        val_acc >= 0.97,
        "mnist_cnn validation accuracy {val_acc} < 0.97"
    );
    assert!(
        text.contains("Total params: 620,234"),
        "summary missing:\n{text}"
    );
    assert!(
        pngs(&nb).len() >= 6,
        "expected the lecture's pictures, got {:?}",
        pngs(&nb)
    );

    // The inference notebook reloads that checkpoint on the CPU.
    let nb = executed_copy("mnist_cnn_inference.ipynb");
    let text = printed(&nb);
    let acc = last_figure(&text, "Accuracy:").expect("`Loss: …, Accuracy: …` printed");
    assert!(acc >= 0.97, "reloaded model accuracy {acc} < 0.97");
    assert!(
        pngs(&nb).len() >= 3,
        "predictions, confusion matrix, worst digits"
    );

    // Fashion-MNIST: harder. The notebook trains twice and prints both figures:
    // the plain fit (one epoch reached 0.858 here) and the augmented one with
    // OneCycleLR peaking at the plain run's rate (0.756 after one epoch: random
    // crops and flips make one pass harder; 0.10 would be chance).
    let nb = executed_copy("fashion_mnist_cnn.ipynb");
    let text = printed(&nb);
    let plain = last_figure(&text, "plain:     Validation Accuracy").expect("plain figure printed");
    assert!(
        plain >= 0.80,
        "fashion plain validation accuracy {plain} < 0.80"
    );
    let aug =
        last_figure(&text, "augmented: Validation Accuracy").expect("augmented figure printed");
    assert!(
        aug >= 0.60,
        "fashion augmented validation accuracy {aug} < 0.60"
    );
    assert!(pngs(&nb).len() >= 4);
    // What augmentation buys, on the same shifted and flipped test images:
    // after one epoch the augmented model is ahead there (0.72 against 0.64
    // with PyTorch's own run of the same recipe), whatever the clean figures.
    let plain_row = row_figures(&text, "plain model:");
    let aug_row = row_figures(&text, "augmented model:");
    assert!(
        plain_row.len() == 2 && aug_row.len() == 2,
        "robustness table missing:\n{text}"
    );
    assert!(
        aug_row[1] > plain_row[1],
        "on shifted+flipped test images the augmented model ({}) should beat the plain one ({})",
        aug_row[1],
        plain_row[1]
    );
}

/// The numbers on the last line of `text` that starts with `label`.
fn row_figures(text: &str, label: &str) -> Vec<f64> {
    text.lines()
        .rev()
        .find(|l| l.trim_start().starts_with(label))
        .map(|l| {
            l.trim_start()[label.len()..]
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn image_augmentation_notebook_reads_photos_and_shows_what_augmentation_buys() {
    let path = common::repo_root().join("notebooks/image_augmentation.ipynb");
    let out = run_notebooks(&[path.as_path()]);
    assert!(out.status.success(), "runner failed:\n{}", stderr_of(&out));
    let nb = executed_copy("image_augmentation.ipynb");
    let text = printed(&nb);
    // The photo as read_image gives it, and torchvision's printout of a Compose.
    assert!(
        text.contains("[3, 300, 451] Uint8"),
        "read_image line:\n{text}"
    );
    assert!(
        text.contains("RandomResizedCrop(size=(180, 180), scale=(0.5, 1.0)"),
        "print(transform):\n{text}"
    );
    // The folder: the stand-in's classes (or the downloaded cats and dogs).
    assert!(
        text.contains(r#"classes ["faces", "non_faces"]"#)
            || text.contains(r#"classes ["cats", "dogs"]"#),
        "ImageFolder line:\n{text}"
    );
    // One picture per transform shown, the batch, the curves and the predictions.
    assert!(pngs(&nb).len() >= 20, "pictures: {:?}", pngs(&nb));
    // train acc, test acc, rotated+shifted test acc, seconds.
    let plain = row_figures(&text, "without augmentation:");
    let aug = row_figures(&text, "with augmentation:");
    assert!(
        plain.len() == 4 && aug.len() == 4,
        "comparison table:\n{text}"
    );
    assert!(
        plain[1] >= 0.8 && aug[1] >= 0.8,
        "test accuracy: plain {}, augmented {}",
        plain[1],
        aug[1]
    );
    assert!(
        aug[2] > plain[2],
        "on rotated and shifted photos the augmented model ({}) should beat the plain one ({})",
        aug[2],
        plain[2]
    );
}

/// The transfer-learning notebook: resnet18 with (in CI, stand-in random)
/// ImageNet weights, its summary, predictions named with ImageNet's classes,
/// a frozen body with a new head trained by `fit`, the checkpoint reloaded
/// into a fresh model, partial fine-tuning and predictions with the
/// dataset's classes. The weights are random where none are cached, so the
/// figures are checked for being printed and in range, not for accuracy.
#[test]
fn transfer_learning_notebook_predicts_freezes_trains_and_reloads() {
    let path = common::repo_root().join("notebooks/transfer_learning.ipynb");
    let out = run_notebooks(&[path.as_path()]);
    assert!(out.status.success(), "runner failed:\n{}", stderr_of(&out));
    let nb = executed_copy("transfer_learning.ipynb");
    let text = printed(&nb);
    assert!(
        text.contains("ResNet18_Weights.IMAGENET1K_V1: 11689512 parameters"),
        "weights line:\n{text}"
    );
    assert!(
        text.contains("Total params: 11,689,512"),
        "resnet18's summary:\n{text}"
    );
    // The new head: 512 × 2 + 2 trainable parameters under the frozen body.
    assert!(
        text.contains("Trainable params: 1,026"),
        "frozen summary:\n{text}"
    );
    // predict's list for the cat: five lines `  k. <ImageNet class>  <probability>`.
    let imagenet: Vec<&str> = cnn_lab::models::Categories::ImageNet1K.names().to_vec();
    let at = text
        .find("photos/chelsea.png\n")
        .expect("predict's list for chelsea.png");
    let lines: Vec<&str> = text[at..].lines().skip(1).take(5).collect();
    for (k, line) in lines.iter().enumerate() {
        let rest = line
            .strip_prefix(&format!("  {}. ", k + 1))
            .unwrap_or_else(|| panic!("prediction line {k}: {line:?}\n{text}"));
        let (name, prob) = rest.rsplit_once("  ").expect("name  probability");
        assert!(imagenet.contains(&name), "not an ImageNet class: {name:?}");
        let prob: f64 = prob.parse().expect("a probability");
        assert!((0.0..=1.0).contains(&prob), "{line}");
    }
    // The folder of photos: one top-1 line per photo.
    assert!(
        text.contains("chelsea.png: "),
        "predict_folder lines:\n{text}"
    );
    // fit's epoch line, then the reloaded model's test figures.
    assert!(text.contains("Epoch[1/"), "no epoch line:\n{text}");
    let reload = text
        .lines()
        .find(|l| l.starts_with("Loss: "))
        .expect("the reload's `Loss: …, Accuracy: …`");
    let acc = last_figure(reload, "Accuracy:").expect("the reload's accuracy");
    assert!((0.0..=1.0).contains(&acc), "reload accuracy {acc}");
    assert!(
        text.contains("fine-tuned  Loss:"),
        "partial fine-tuning's figures:\n{text}"
    );
    assert!(
        text.contains("learning rates: [0.0001, 0.001]"),
        "groups:\n{text}"
    );
    // ResNet's frozen body (BatchNorm in train mode) runs every pass, and
    // fit says why; the lecture's VGG16 keeps its features' output once.
    assert!(
        text.contains("bn1 (BatchNorm2d) normalises by the batch's statistics"),
        "resnet18's reason:\n{text}"
    );
    assert!(
        text.contains("computed once: features for "),
        "vgg16's frozen features:\n{text}"
    );
    // Pictures: the cat with its list, the photos' grid, three curves, the
    // new model's photo and grid.
    assert!(pngs(&nb).len() >= 7, "pictures: {:?}", pngs(&nb));
}

#[test]
fn last_figure_reads_the_number_after_a_label() {
    let text = "Validation Accuracy: 0.98410\nLoss: 0.04, Accuracy: 0.9857\n";
    assert_eq!(last_figure(text, "Validation Accuracy:"), Some(0.9841));
    assert_eq!(last_figure(text, "Accuracy:"), Some(0.9857));
    assert_eq!(last_figure(text, "Missing:"), None);
}
