//! Evaluation: the lecture's `test_*` functions, over the one batch loop
//! that every eval-mode pass uses.

use tch::{Device, Kind, Tensor};

use super::device::pass_device;
use super::frozen::FeatureCache;
use super::options::Mode;
use crate::data::DataLoader;
use crate::error::{catch_torch, Error, Result};
use crate::interrupt::InterruptGuard;
use crate::loss::{binary_pair, Loss};
use crate::nn::{Module, ModuleExt};

/// Loss and accuracy of `model` over `loader` in eval mode, without
/// gradients: `(sum of per-batch mean losses / batches, correct / samples)`.
/// `device` is `None` for the model's own device, or a device to say so
/// explicitly (see [`FitOptions::device`](super::FitOptions::device)).
pub fn evaluate<M, L>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    mode: Mode,
    device: impl Into<Option<Device>>,
) -> Result<(f64, f64)>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
{
    let batches = non_empty(loader, "evaluation")?;
    let device = pass_device(model, loader, device.into())?;
    let tally = Tally::new(device);
    eval_batches(loader, model, device, "evaluation pass", |output, y| {
        tally.add(output, y, loss_fn, mode);
        Ok(())
    })?;
    Ok(tally.result(batches, loader))
}

/// The running loss sum and correct count of an evaluation, on the device.
struct Tally {
    loss_sum: Tensor,
    correct: Tensor,
}

impl Tally {
    fn new(device: Device) -> Tally {
        Tally {
            loss_sum: Tensor::zeros([], (Kind::Double, device)),
            correct: Tensor::zeros([], (Kind::Int64, device)),
        }
    }

    fn add<L: Loss + ?Sized>(&self, output: &Tensor, y: &Tensor, loss_fn: &L, mode: Mode) {
        let loss = loss_fn.forward(output, y);
        let _ = self
            .loss_sum
            .shallow_clone()
            .g_add_(&loss.to_kind(Kind::Double));
        let _ = self
            .correct
            .shallow_clone()
            .g_add_(&count_correct(output, y, mode));
    }

    /// `(sum of batch losses / batches, correct / samples)`.
    fn result(&self, batches: usize, loader: &DataLoader) -> (f64, f64) {
        let loss = self.loss_sum.double_value(&[]) / batches as f64;
        let accuracy = self.correct.int64_value(&[]) as f64 / loader.num_samples() as f64;
        (loss, accuracy)
    }
}

/// [`evaluate`] over `fit`'s kept frozen features: one pass over `loader`
/// (drawing its order as `evaluate` would) whose batches are the frozen
/// part's output, run through the rest of the model in eval mode.
pub(super) fn evaluate_features<L: Loss + ?Sized>(
    loader: &DataLoader,
    cache: &mut FeatureCache<'_>,
    loss_fn: &L,
    mode: Mode,
    device: Device,
) -> Result<(f64, f64)> {
    let batches = non_empty(loader, "evaluation")?;
    let tally = Tally::new(device);
    let _guard = tch::no_grad_guard();
    let interrupt = InterruptGuard::new();
    let mut pass = cache.pass(loader);
    let mut i = 0;
    while let Some(batch) = pass.next_batch() {
        let (features, y) = batch?;
        if interrupt.interrupted() {
            return Err(Error::Interrupted(format!(
                "during the evaluation pass, after batch {i}/{batches}"
            )));
        }
        let rest = pass.rest();
        catch_torch("evaluation pass", || {
            tally.add(&rest.forward_t(&features, false), &y, loss_fn, mode)
        })?;
        i += 1;
    }
    Ok(tally.result(batches, loader))
}

/// The lecture's `test_multi_classification(dataloader, model, loss_fn,
/// device)`: `(loss, accuracy)` with argmax predictions. `device` as for
/// [`evaluate`]: `Device::Cpu` as in the lecture, or `None` for the model's.
pub fn test_multi_classification<M, L>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    device: impl Into<Option<Device>>,
) -> Result<(f64, f64)>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
{
    evaluate(loader, model, loss_fn, Mode::Multi, device)
}

/// The lecture's `test_binary_classification(dataloader, model, loss_fn,
/// device)`: `(loss, accuracy)` with `sigmoid(logit) >= 0.5` predictions.
/// `device` as for [`evaluate`].
pub fn test_binary_classification<M, L>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    device: impl Into<Option<Device>>,
) -> Result<(f64, f64)>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
{
    evaluate(loader, model, loss_fn, Mode::Binary, device)
}

fn count_correct(output: &Tensor, target: &Tensor, mode: Mode) -> Tensor {
    match mode {
        Mode::Multi => output.argmax(-1, false).eq_tensor(target).sum(Kind::Int64),
        Mode::Binary => {
            let (output, target) = binary_pair(output, target);
            output
                .sigmoid()
                .ge(0.5)
                .eq_tensor(&target.ge(0.5))
                .sum(Kind::Int64)
        }
    }
}

pub(super) fn non_empty(loader: &DataLoader, what: &str) -> Result<usize> {
    match loader.len() {
        0 => Err(Error::InvalidArgument(format!(
            "{what}: the loader has no batch ({} samples)",
            loader.num_samples()
        ))),
        n => Ok(n),
    }
}

/// How many of the loader's batches one forward pass takes in eval mode on
/// `device`: 1 on the CPU, where a bigger batch gains nothing; 8 on a GPU,
/// where a batch of 256 MNIST images is too small to keep it busy and the
/// pass waits for kernel launches instead.
fn eval_chunk(device: Device) -> usize {
    if device.is_cuda() {
        8
    } else {
        1
    }
}

/// The one loop over `loader` in eval mode without gradients, behind
/// [`evaluate`], the `test_*` functions and
/// [`confusion_matrix_of`](crate::confusion_matrix_of): each batch is moved
/// to `device`, run through `model`, and handed to `each` with its labels.
/// A panic in the forward pass or in `each` (a shape mismatch) becomes an
/// [`Error::Shape`] starting with `what`; an interrupt stops the loop before
/// the next batch with [`Error::Interrupted`].
///
/// On a GPU several batches go through the model as one
/// ([`eval_chunk`]); `each` still sees the loader's batches one by one, so
/// per-batch figures (the lecture's mean of batch losses) are unchanged.
pub(crate) fn eval_batches<M: Module + ?Sized>(
    loader: &DataLoader,
    model: &M,
    device: Device,
    what: &str,
    each: impl FnMut(&Tensor, &Tensor) -> Result<()>,
) -> Result<()> {
    eval_batches_chunked(loader, model, device, what, eval_chunk(device), each)
}

fn eval_batches_chunked<M: Module + ?Sized>(
    loader: &DataLoader,
    model: &M,
    device: Device,
    what: &str,
    chunk: usize,
    mut each: impl FnMut(&Tensor, &Tensor) -> Result<()>,
) -> Result<()> {
    let _guard = tch::no_grad_guard();
    let interrupt = InterruptGuard::new();
    let mut pending: Vec<(Tensor, Tensor)> = Vec::with_capacity(chunk);
    let batches = loader.len();
    for (i, batch) in loader.try_iter().enumerate() {
        let (x, y) = batch?;
        if interrupt.interrupted() {
            return Err(Error::Interrupted(format!(
                "during the {what}, after batch {i}/{batches}"
            )));
        }
        pending.push((x.to_device(device), y.to_device(device)));
        if pending.len() < chunk && i + 1 < batches {
            continue;
        }
        catch_torch(what, || {
            if let [(x, y)] = pending.as_slice() {
                return each(&model.forward_t(x, false), y);
            }
            let xs: Vec<&Tensor> = pending.iter().map(|(x, _)| x).collect();
            let sizes: Vec<i64> = xs.iter().map(|x| x.size()[0]).collect();
            let outputs = model.forward_t(&Tensor::cat(&xs, 0), false);
            for (output, (_, y)) in outputs.split_with_sizes(&sizes, 0).iter().zip(&pending) {
                each(output, y)?;
            }
            Ok(())
        })??;
        pending.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::CrossEntropyLoss;

    /// A model with fixed weights: no draw from the generator that seeded
    /// tests elsewhere in this binary rely on.
    struct Fixed(Tensor);

    impl Module for Fixed {
        fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
            xs.flatten(1, -1).matmul(&self.0).relu()
        }
    }

    fn values(n: i64, scale: f64) -> Tensor {
        (Tensor::arange(n, (Kind::Float, Device::Cpu)) * scale).sin()
    }

    #[test]
    fn chunked_evaluation_hands_each_batch_over_as_the_plain_loop_does() {
        let model = Fixed(values(64 * 3, 0.61).view([64, 3]));
        // 70 samples in batches of 16: four full batches and one of 6.
        let images = values(70 * 64, 0.37).view([70, 1, 8, 8]);
        let labels = Tensor::arange(70, (Kind::Int64, Device::Cpu)).remainder(3);
        let loader = DataLoader::new(images, labels, 16).unwrap();
        let loss_fn = CrossEntropyLoss::new();
        let run = |chunk| {
            let mut seen = vec![];
            eval_batches_chunked(&loader, &model, Device::Cpu, "test", chunk, |out, y| {
                seen.push((out.size(), loss_fn.forward(out, y).double_value(&[])));
                Ok(())
            })
            .unwrap();
            seen
        };
        let plain = run(1);
        assert_eq!(plain.len(), 5);
        assert_eq!(plain[4].0, vec![6, 3]);
        for chunk in [2, 3, 8] {
            let chunked = run(chunk);
            assert_eq!(chunked.len(), plain.len(), "chunk {chunk}");
            for ((s1, l1), (s2, l2)) in plain.iter().zip(&chunked) {
                assert_eq!(s1, s2, "chunk {chunk}");
                assert!((l1 - l2).abs() < 1e-6, "chunk {chunk}: {l1} vs {l2}");
            }
        }
        // The batches differ, so a mixed-up order would show.
        assert!(plain.windows(2).any(|w| (w[0].1 - w[1].1).abs() > 1e-3));
    }
}
