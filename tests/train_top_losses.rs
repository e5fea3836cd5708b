//! `top_losses`, `plot_top_losses`, `most_confused` against the same
//! figures computed by hand with tensor code (what the inference notebook
//! did inline).

mod common;
mod train_support;

use cnn_lab::{most_confused, plot_top_losses, top_losses, Kind, Module};
use train_support::{mnist_loader, rng_lock, TinyCnn};

#[test]
fn top_losses_are_the_highest_per_sample_losses_and_most_confused_counts_pairs() {
    let _lock = rng_lock();
    cnn_lab::manual_seed(5);
    // An untrained model: plenty of mistakes.
    let model = TinyCnn::new(10, 0.0);
    let loader = mnist_loader(false, 300, 64).shuffle(true);
    let top = top_losses(&loader, &model, 5).unwrap();
    assert_eq!(top.indices.len(), 5);
    assert!(top.losses.windows(2).all(|w| w[0] >= w[1]));
    // By hand: cross-entropy per sample over the stored images, in order.
    let _guard = cnn_lab::tch::no_grad_guard();
    let logp = model
        .forward_t(loader.images(), false)
        .log_softmax(-1, Kind::Float);
    let y = loader.labels().unsqueeze(1);
    let losses = -logp.gather(1, &y, false).squeeze_dim(1);
    let (worst, idx) = losses.topk(5, 0, true, true);
    let idx: Vec<i64> = Vec::try_from(&idx).unwrap();
    let worst: Vec<f64> = Vec::try_from(&worst.to_kind(Kind::Double)).unwrap();
    assert_eq!(
        top.indices.iter().map(|&i| i as i64).collect::<Vec<_>>(),
        idx
    );
    for (a, b) in top.losses.iter().zip(&worst) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    let preds = logp.argmax(1, false);
    for (k, &i) in top.indices.iter().enumerate() {
        assert_eq!(top.predicted[k], preds.int64_value(&[i as i64]));
        assert_eq!(top.actual[k], loader.labels().int64_value(&[i as i64]));
    }
    let png = plot_top_losses(&loader, &top).columns(5).render().unwrap();
    assert!(png.width() > 0);

    let pairs = most_confused(&loader, &model, 1).unwrap();
    let wrong = preds
        .ne_tensor(loader.labels())
        .sum(Kind::Int64)
        .int64_value(&[]) as usize;
    assert_eq!(pairs.iter().map(|p| p.2).sum::<usize>(), wrong);
    assert!(pairs.windows(2).all(|w| w[0].2 >= w[1].2));
    assert!(pairs.iter().all(|&(a, p, _)| a != p));
}
