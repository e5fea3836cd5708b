// The few libtorch operations cnn_lab needs that tch 0.24 does not bind
// (its generated API has neither `_fused_adam_` nor the `_foreach_` ops).
// Rust side: crate/src/ops.rs. Built by crate/build.rs against the headers
// of the libtorch torch-sys linked, and linked into cnn_lab like tch's own
// C++ wrapper.
//
// Errors follow guarded.h; the caller frees a message with
// cnn_lab_free_message.

#include <ATen/core/Tensor.h>
#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_fused_adam.h>
#include <c10/core/GradMode.h>
#include "guarded.h"

#include <cstdlib>
#include <vector>

using cnn_lab::guarded;

namespace {

// tch hands tensors over as `torch::Tensor *` (torch-sys's C_tensor).
std::vector<at::Tensor> tensors(at::Tensor *const *ts, size_t n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(*ts[i]);
  return out;
}

}  // namespace

extern "C" {

void cnn_lab_free_message(char *m) { std::free(m); }

// torch.optim.Adam(fused=True)'s step (torch/optim/adam.py, `_fused_adam`):
// every state step += 1, then one `_fused_adam_` over all the tensors.
// `max_exp_avg_sqs` is read only when `amsgrad`.
char *cnn_lab_fused_adam_(at::Tensor *const *params, at::Tensor *const *grads,
                          at::Tensor *const *exp_avgs, at::Tensor *const *exp_avg_sqs,
                          at::Tensor *const *max_exp_avg_sqs, at::Tensor *const *state_steps,
                          size_t n, double lr, double beta1, double beta2, double weight_decay,
                          double eps, bool amsgrad, bool maximize) {
  return guarded([&] {
    c10::NoGradGuard no_grad;
    auto steps = tensors(state_steps, n);
    at::_foreach_add_(steps, 1);
    std::vector<at::Tensor> max_sqs;
    if (amsgrad) max_sqs = tensors(max_exp_avg_sqs, n);
    at::_fused_adam_(tensors(params, n), tensors(grads, n), tensors(exp_avgs, n),
                     tensors(exp_avg_sqs, n), max_sqs, steps, lr, beta1, beta2, weight_decay,
                     eps, amsgrad, maximize);
  });
}

// `optimizer.zero_grad()` (set_to_none=True, PyTorch's default): every
// parameter's `.grad` becomes undefined, so no kernel runs for it.
char *cnn_lab_set_grads_to_none(at::Tensor *const *params, size_t n) {
  return guarded([&] {
    for (size_t i = 0; i < n; ++i) params[i]->mutable_grad().reset();
  });
}

}  // extern "C"
