//! Looking at mistakes (fastai's `ClassificationInterpretation`):
//! [`top_losses`], [`plot_top_losses`], [`most_confused`].

use tch::{Kind, Tensor};

use super::device::pass_device;
use super::progress::{Progress, ProgressLine};
use crate::data::DataLoader;
use crate::display::DisplayHandle;
use crate::error::{catch_torch, Error, Result};
use crate::interrupt::InterruptGuard;
use crate::nn::ModuleExt;
use crate::utils::{show_images, ImageGrid};

/// Every sample's prediction, in the loader's stored order.
struct Predictions {
    loss: Vec<f64>,
    predicted: Vec<i64>,
    actual: Vec<i64>,
    probability: Vec<f64>,
}

/// One eval-mode pass over the loader's samples (in order, without its
/// shuffle or augmentation, as [`DataLoader::sample`] gives them):
/// cross-entropy loss per sample, argmax, its softmax probability. Shows
/// progress; stops cleanly on Stop.
fn predict_all<M: ModuleExt + ?Sized>(
    loader: &DataLoader,
    model: &M,
    what: &str,
) -> Result<Predictions> {
    let device = pass_device(model, loader, None)?;
    let n = loader.num_samples() as i64;
    let batches = loader.in_order();
    let count = batches.len();
    let _guard = tch::no_grad_guard();
    let interrupt = InterruptGuard::new();
    let mut handle = DisplayHandle::new();
    let mut line = ProgressLine::new(Progress::Auto, count, what, &mut handle);
    let mut out = Predictions {
        loss: Vec::new(),
        predicted: Vec::new(),
        actual: Vec::new(),
        probability: Vec::new(),
    };
    let mut loss_sum = 0.0;
    for (b, batch) in batches.enumerate() {
        let (x, y) = batch?;
        let x = x.to_device(device);
        let y = y.to_device(device).to_kind(Kind::Int64);
        let (loss, pred, prob) = catch_torch(what, || {
            let logp = model.forward_t(&x, false).log_softmax(-1, Kind::Float);
            let loss = -logp.gather(1, &y.unsqueeze(1), false).squeeze_dim(1);
            let (best, pred) = logp.max_dim(1, false);
            (loss, pred, best.exp())
        })?;
        let to_vec_f =
            |t: &Tensor| Vec::<f64>::try_from(&t.to_kind(Kind::Double).to_device(tch::Device::Cpu));
        let to_vec_i = |t: &Tensor| Vec::<i64>::try_from(&t.to_device(tch::Device::Cpu));
        let losses = to_vec_f(&loss)?;
        loss_sum += losses.iter().sum::<f64>();
        out.loss.extend(losses);
        out.predicted.extend(to_vec_i(&pred)?);
        out.actual.extend(to_vec_i(&y)?);
        out.probability.extend(to_vec_f(&prob)?);
        if interrupt.interrupted() {
            line.clear();
            return Err(Error::Interrupted(format!(
                "during {what}, after batch {}/{count}",
                b + 1
            )));
        }
        if line.due() {
            line.show(
                b + 1,
                loss_sum / out.loss.len() as f64,
                out.loss.len(),
                None,
            );
        }
    }
    line.finish(loss_sum / n.max(1) as f64, n as usize, None);
    Ok(out)
}

/// The `k` samples with the highest loss, highest first (fastai's
/// `interp.top_losses(k)`): where they are in the loader, their loss, the
/// predicted and the actual class, and the predicted class's probability.
#[derive(Clone, Debug, PartialEq)]
pub struct TopLosses {
    /// Index of each sample among the loader's stored samples.
    pub indices: Vec<usize>,
    /// Cross-entropy loss of each.
    pub losses: Vec<f64>,
    /// The model's class (argmax).
    pub predicted: Vec<i64>,
    /// The label.
    pub actual: Vec<i64>,
    /// The softmax probability of the predicted class.
    pub probability: Vec<f64>,
}

/// The `k` most confidently wrong (highest-loss) samples of `loader`
/// under `model` in eval mode, a classifier with one logit per class. Runs
/// on the model's device, shows progress, stops cleanly on Stop.
///
/// ```no_run
/// use cnn_lab::*;
/// # fn demo(model: &dyn Module, test_loader: &DataLoader) -> Result<()> {
/// let top = top_losses(test_loader, model, 9)?;
/// plot_top_losses(test_loader, &top).columns(3).render()?;
/// # Ok(()) }
/// ```
pub fn top_losses<M: ModuleExt + ?Sized>(
    loader: &DataLoader,
    model: &M,
    k: usize,
) -> Result<TopLosses> {
    let p = predict_all(loader, model, "top_losses")?;
    let mut order: Vec<usize> = (0..p.loss.len()).collect();
    order.sort_by(|&a, &b| p.loss[b].total_cmp(&p.loss[a]));
    order.truncate(k);
    Ok(TopLosses {
        losses: order.iter().map(|&i| p.loss[i]).collect(),
        predicted: order.iter().map(|&i| p.predicted[i]).collect(),
        actual: order.iter().map(|&i| p.actual[i]).collect(),
        probability: order.iter().map(|&i| p.probability[i]).collect(),
        indices: order,
    })
}

/// The images of [`top_losses`] titled by actual and predicted class
/// (fastai's `interp.plot_top_losses`): an [`ImageGrid`] to set class names
/// or columns on, shown as a cell's last expression. The images are the
/// loader's samples as [`DataLoader::sample`] gives them.
pub fn plot_top_losses(loader: &DataLoader, top: &TopLosses) -> ImageGrid {
    let images = match loader.samples(&top.indices) {
        Ok((images, _)) => images.to_device(tch::Device::Cpu),
        Err(e) => return ImageGrid::failed("plot_top_losses", e),
    };
    show_images(&images, &Tensor::from_slice(&top.actual))
        .predictions(&Tensor::from_slice(&top.predicted))
        .limit(top.indices.len().max(1))
}

/// The pairs of classes the model confuses most (fastai's
/// `interp.most_confused(min_val)`): `(actual, predicted, count)` for every
/// off-diagonal pair seen at least `min_val` times, most frequent first.
///
/// ```no_run
/// use cnn_lab::*;
/// # fn demo(model: &dyn Module, test_loader: &DataLoader) -> Result<()> {
/// for (actual, predicted, count) in most_confused(test_loader, model, 2)? {
///     println!("{actual} taken for {predicted}: {count} times");
/// }
/// # Ok(()) }
/// ```
pub fn most_confused<M: ModuleExt + ?Sized>(
    loader: &DataLoader,
    model: &M,
    min_val: usize,
) -> Result<Vec<(i64, i64, usize)>> {
    let p = predict_all(loader, model, "most_confused")?;
    let mut counts = std::collections::BTreeMap::new();
    for (&a, &q) in p.actual.iter().zip(&p.predicted) {
        if a != q {
            *counts.entry((a, q)).or_insert(0usize) += 1;
        }
    }
    let mut pairs: Vec<(i64, i64, usize)> = counts
        .into_iter()
        .filter(|&(_, c)| c >= min_val.max(1))
        .map(|((a, q), c)| (a, q, c))
        .collect();
    pairs.sort_by_key(|p| std::cmp::Reverse(p.2));
    Ok(pairs)
}
