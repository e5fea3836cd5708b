//! `lr_find` on MNIST: the suggestion lies between 1e-4 and 1e-1, the
//! chart draws, and the model is put back as it was.

mod common;
mod train_support;

use cnn_lab::{lr_find, CrossEntropyLoss, LrFindOptions, ModuleExt, Progress};
use train_support::{mnist_loader, rng_lock, TinyCnn};

#[test]
fn lr_find_on_mnist_suggests_a_usable_rate_and_restores_the_model() {
    let _lock = rng_lock();
    cnn_lab::manual_seed(3);
    let loader = mnist_loader(true, 6400, 64).shuffle(true).seed(1);
    let model = TinyCnn::new(10, 0.25);
    let before: Vec<_> = model
        .state_dict()
        .into_iter()
        .map(|(k, t)| (k, t.copy()))
        .collect();
    let found = lr_find(
        &loader,
        &model,
        &CrossEntropyLoss::new(),
        LrFindOptions::default().progress(Progress::Off),
    )
    .unwrap();
    println!(
        "lr_find: {} steps, suggestion {:.3e}, steep {:.3e}, last lr {:.3e}",
        found.lrs.len(),
        found.suggestion,
        found.steep,
        found.lrs.last().unwrap()
    );
    assert!(
        (1e-4..=1e-1).contains(&found.suggestion),
        "suggested {:e}",
        found.suggestion
    );
    assert!(
        found.lrs.len() > 50,
        "stopped after {} steps",
        found.lrs.len()
    );
    assert!(found.lrs.windows(2).all(|w| w[1] > w[0]));
    assert_eq!(found.lrs[0], 1e-7);
    for ((name, a), (_, b)) in before.iter().zip(model.state_dict()) {
        assert!(a.equal(&b), "{name} was not restored");
    }
    let png = found.plot().unwrap();
    assert_eq!((png.width(), png.height()), (640, 420));
}
