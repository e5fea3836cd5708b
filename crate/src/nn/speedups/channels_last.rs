//! Channels-last convolutions on the CPU, in eval mode.

use tch::{Device, Kind, Tensor};

/// Whether a convolution runs channels-last (NHWC strides, same shape).
///
/// On the CPU, oneDNN's convolutions are faster channels-last, and their
/// output stays so: the batch norm, ReLU, dropout and max pooling after
/// them then run their vectorised channels-last kernels instead of one
/// plane at a time (the lecture's max pooling is 2×2 windows on 28×28
/// planes). `Flatten` copies back to PyTorch's element order, so the
/// results are the same numbers as in the default layout, up to float
/// rounding. Only in eval mode (`train == false`), and on unless
/// `CNN_LAB_CHANNELS_LAST=0`: see [`speedups`](super) for why training
/// keeps the default layout.
pub(crate) fn applies(xs: &Tensor, train: bool) -> bool {
    !train
        && xs.dim() == 4
        && xs.device() == Device::Cpu
        && xs.kind() == Kind::Float
        && super::enabled(super::CHANNELS_LAST)
}

/// `t.contiguous(memory_format=torch.channels_last)` for a 4-D tensor.
/// With one channel both layouts have the same strides but one: PyTorch
/// would then keep the default layout for the output, so the channel
/// stride is set to 1 explicitly (a view; the data is the same).
pub(crate) fn layout(t: &Tensor) -> Tensor {
    let size = t.size();
    let (c, h, w) = (size[1], size[2], size[3]);
    let strides = t.stride();
    if strides == [h * w * c, 1, w * c, c] {
        return t.shallow_clone();
    }
    if c == 1 {
        let t = t.contiguous();
        return t.as_strided(&size, [h * w, 1, w, 1], None);
    }
    t.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}
