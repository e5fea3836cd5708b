//! The libtorch operations tch 0.24 does not bind, over `csrc/ops.cpp`
//! (compiled by `build.rs`): the fused Adam step and `zero_grad` with
//! `set_to_none`. libtorch's errors come back as [`Error::Torch`].

use std::ffi::{c_char, CStr};

use tch::{TchError, Tensor};
use torch_sys::C_tensor;

use crate::error::{Error, Result};

extern "C" {
    fn cnn_lab_free_message(message: *mut c_char);
    #[allow(clippy::too_many_arguments)]
    fn cnn_lab_fused_adam_(
        params: *const *const C_tensor,
        grads: *const *const C_tensor,
        exp_avgs: *const *const C_tensor,
        exp_avg_sqs: *const *const C_tensor,
        max_exp_avg_sqs: *const *const C_tensor,
        state_steps: *const *const C_tensor,
        n: usize,
        lr: f64,
        beta1: f64,
        beta2: f64,
        weight_decay: f64,
        eps: f64,
        amsgrad: bool,
        maximize: bool,
    ) -> *mut c_char;
    fn cnn_lab_set_grads_to_none(params: *const *const C_tensor, n: usize) -> *mut c_char;
}

/// The text of a C++ shim's answer (`csrc/guarded.h`): `None` for null
/// (success), else the message, which this frees. Both shims allocate
/// with the process's `malloc`, so `cnn_lab_free_message` frees either's.
pub(crate) fn take_message(message: *mut c_char) -> Option<String> {
    if message.is_null() {
        return None;
    }
    // SAFETY: a non-null answer is a NUL-terminated string from malloc that
    // nothing else owns; it is freed exactly once, here.
    let text = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned();
    unsafe { cnn_lab_free_message(message) };
    Some(text)
}

/// The shim's answer as a `Result`, naming the operation.
fn check(what: &str, message: *mut c_char) -> Result<()> {
    match take_message(message) {
        None => Ok(()),
        Some(text) => Err(Error::Torch(TchError::Torch(format!("{what}: {text}")))),
    }
}

fn pointers(tensors: &[Tensor]) -> Vec<*const C_tensor> {
    tensors.iter().map(Tensor::as_ptr).collect()
}

/// Adam's hyper-parameters, as `torch.optim.Adam` names them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamHyper {
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
}

/// The tensors of one fused Adam step, index for index: parameters, their
/// gradients, and the optimizer's state.
pub(crate) struct AdamTensors<'a> {
    pub params: &'a [Tensor],
    pub grads: &'a [Tensor],
    pub exp_avgs: &'a [Tensor],
    pub exp_avg_sqs: &'a [Tensor],
    /// Read only with `amsgrad`; may be empty otherwise.
    pub max_exp_avg_sqs: &'a [Tensor],
    /// One float32 scalar per parameter, on its device.
    pub state_steps: &'a [Tensor],
}

/// `torch.optim.Adam(fused=True)`'s step: every state step += 1, then
/// libtorch's `_fused_adam_` over all the tensors at once (a few kernels in
/// all on a GPU, instead of several per parameter).
pub(crate) fn fused_adam_(t: &AdamTensors<'_>, h: AdamHyper) -> Result<()> {
    let n = t.params.len();
    let max_needed = if h.amsgrad { n } else { 0 };
    let lengths = [
        t.grads.len(),
        t.exp_avgs.len(),
        t.exp_avg_sqs.len(),
        t.state_steps.len(),
    ];
    if lengths.iter().any(|&l| l != n) || t.max_exp_avg_sqs.len() < max_needed {
        return Err(Error::InvalidArgument(format!(
            "fused Adam: {n} parameters but {lengths:?} gradients/exp_avgs/exp_avg_sqs/steps \
             and {} max_exp_avg_sqs",
            t.max_exp_avg_sqs.len()
        )));
    }
    let (params, grads) = (pointers(t.params), pointers(t.grads));
    let (avgs, sqs) = (pointers(t.exp_avgs), pointers(t.exp_avg_sqs));
    let (max_sqs, steps) = (pointers(t.max_exp_avg_sqs), pointers(t.state_steps));
    // SAFETY: every pointer is a live tch tensor borrowed for the call, and
    // each list holds n of them (max_exp_avg_sqs only when read).
    let message = unsafe {
        cnn_lab_fused_adam_(
            params.as_ptr(),
            grads.as_ptr(),
            avgs.as_ptr(),
            sqs.as_ptr(),
            max_sqs.as_ptr(),
            steps.as_ptr(),
            n,
            h.lr,
            h.betas.0,
            h.betas.1,
            h.weight_decay,
            h.eps,
            h.amsgrad,
            false,
        )
    };
    check("fused Adam step", message)
}

/// `zero_grad(set_to_none=True)`: every parameter's `.grad` becomes
/// undefined.
pub(crate) fn set_grads_to_none(params: &[Tensor]) -> Result<()> {
    let ptrs = pointers(params);
    // SAFETY: live tch tensors, borrowed for the call.
    check("zero_grad", unsafe {
        cnn_lab_set_grads_to_none(ptrs.as_ptr(), ptrs.len())
    })
}
