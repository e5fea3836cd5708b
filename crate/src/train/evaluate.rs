//! Evaluation: the lecture's `test_*` functions, over the one batch loop
//! that every eval-mode pass uses.

use tch::{Device, Kind, Tensor};

use super::device::pass_device;
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
    let loss_sum = Tensor::zeros([], (Kind::Double, device));
    let correct = Tensor::zeros([], (Kind::Int64, device));
    eval_batches(loader, model, device, "evaluation pass", |output, y| {
        let loss = loss_fn.forward(output, y);
        let _ = loss_sum.shallow_clone().g_add_(&loss.to_kind(Kind::Double));
        let _ = correct
            .shallow_clone()
            .g_add_(&count_correct(output, y, mode));
        Ok(())
    })?;
    let loss = loss_sum.double_value(&[]) / batches as f64;
    let accuracy = correct.int64_value(&[]) as f64 / loader.num_samples() as f64;
    Ok((loss, accuracy))
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

/// The one loop over `loader` in eval mode without gradients, behind
/// [`evaluate`], the `test_*` functions and
/// [`confusion_matrix_of`](crate::confusion_matrix_of): each batch is moved
/// to `device`, run through `model`, and handed to `each` with its labels.
/// A panic in the forward pass or in `each` (a shape mismatch) becomes an
/// [`Error::Shape`] starting with `what`; an interrupt stops the loop before
/// the next batch with [`Error::Interrupted`].
pub(crate) fn eval_batches<M: Module + ?Sized>(
    loader: &DataLoader,
    model: &M,
    device: Device,
    what: &str,
    mut each: impl FnMut(&Tensor, &Tensor) -> Result<()>,
) -> Result<()> {
    let _guard = tch::no_grad_guard();
    let interrupt = InterruptGuard::new();
    for (i, (x, y)) in loader.iter().enumerate() {
        if interrupt.interrupted() {
            return Err(Error::Interrupted(format!(
                "during the {what}, after batch {i}/{}",
                loader.len()
            )));
        }
        let (x, y) = (x.to_device(device), y.to_device(device));
        catch_torch(what, || {
            let output = model.forward_t(&x, false);
            each(&output, &y)
        })??;
    }
    Ok(())
}
