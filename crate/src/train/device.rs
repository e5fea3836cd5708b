//! Where a pass runs: the device is the model's, said once.

use tch::Device;

use crate::data::DataLoader;
use crate::error::{Error, Result};
use crate::nn::ModuleExt;

/// The device a pass over `loader` runs on. With `requested` (an explicit
/// `device` argument or [`FitOptions::device`](super::FitOptions::device))
/// that device, on which the model must already be; batches are moved there.
/// Without it, the device of the model's tensors (as d2l's `train_ch6` asks
/// the net), on which the loader must hold its batches too.
pub(crate) fn pass_device<M: ModuleExt + ?Sized>(
    model: &M,
    loader: &DataLoader,
    requested: Option<Device>,
) -> Result<Device> {
    if let Some(device) = requested {
        check_model_device(model, device)?;
        return Ok(device);
    }
    let loader_device = loader.batch_device();
    let Some(first) = model.named_tensors().into_iter().next() else {
        // A model without tensors runs wherever its input is.
        return Ok(loader_device);
    };
    let device = first.tensor.device();
    check_model_device(model, device)?;
    same_device(device, loader_device)
}

/// The model's device, when the loader's batches are there too.
fn same_device(model: Device, loader: Device) -> Result<Device> {
    if model != loader {
        return Err(Error::InvalidArgument(format!(
            "the model is on {model:?} but the loader's batches are on {loader:?}: \
             build the loader with .device({model:?}), or name the device explicitly \
             (FitOptions::device, or the device argument) to move each batch there"
        )));
    }
    Ok(model)
}

/// A model on another device than the batches would fail inside libtorch
/// with a less readable message; moving it here would leave an optimizer
/// built over it with state on the old device, so ask the user to move it.
fn check_model_device<M: ModuleExt + ?Sized>(model: &M, device: Device) -> Result<()> {
    match model
        .named_tensors()
        .into_iter()
        .find(|t| t.tensor.device() != device)
    {
        None => Ok(()),
        Some(t) => Err(Error::InvalidArgument(format!(
            "the model's tensor {} is on {:?} but the device asked for is {device:?}: \
             call model.to_device(device) before creating the optimizer",
            t.name,
            t.tensor.device()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_and_loader_on_different_devices_is_an_error_naming_both() {
        assert_eq!(same_device(Device::Cpu, Device::Cpu).unwrap(), Device::Cpu);
        let err = same_device(Device::Cuda(0), Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("the model is on Cuda(0) but the loader's batches are on Cpu"),
            "{err}"
        );
    }
}
