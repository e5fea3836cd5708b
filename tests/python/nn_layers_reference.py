"""Reference values for tests/nn_layers_reference.rs, from torch and torchinfo.

One run for every case (a torch import costs seconds):
  nn_layers_reference.py OUTDIR
    -> OUTDIR/layers.json         {case: {repr, state_dict, summary, input, random}}
    -> OUTDIR/layers.safetensors  per case: x, the weights copied into the Rust layer,
                                  the training-mode output, the gradients of
                                  sum(out * g) for the input and every parameter,
                                  the buffers after that pass, the eval-mode output.
"""
import json
import sys

import torch
import torch.nn as nn
from torchinfo import summary


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )


def gap_net():
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.LeakyReLU(0.1)),
        nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.GroupNorm(2, 8), nn.GELU(), nn.Dropout2d(0.1)),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4), nn.Softmax(dim=1),
    )


def decoder():
    return nn.Sequential(
        nn.Linear(6, 4 * 3 * 3), nn.Unflatten(1, (4, 3, 3)), nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
        nn.BatchNorm2d(2), nn.SiLU(), nn.Upsample(scale_factor=2, mode="bilinear"), nn.ZeroPad2d(1), nn.Sigmoid(),
    )


# name: (module, input shape, random in training mode)
CASES = {
    "relu": (nn.ReLU(), (2, 3, 4, 5)),
    "sigmoid": (nn.Sigmoid(), (2, 3, 4, 5)),
    "tanh": (nn.Tanh(), (2, 3, 4, 5)),
    "silu": (nn.SiLU(), (2, 3, 4, 5)),
    "relu6": (nn.ReLU6(), (2, 3, 4, 5)),
    "hardswish": (nn.Hardswish(), (2, 3, 4, 5)),
    "hardsigmoid": (nn.Hardsigmoid(), (2, 3, 4, 5)),
    "mish": (nn.Mish(), (2, 3, 4, 5)),
    "softsign": (nn.Softsign(), (2, 3, 4, 5)),
    "selu": (nn.SELU(), (2, 3, 4, 5)),
    "celu": (nn.CELU(), (2, 3, 4, 5)),
    "celu_2": (nn.CELU(alpha=2.0), (2, 3, 4, 5)),
    "hardtanh": (nn.Hardtanh(), (2, 3, 4, 5)),
    "hardtanh_custom": (nn.Hardtanh(min_val=-0.5, max_val=2.0), (2, 3, 4, 5)),
    "softmax2d": (nn.Softmax2d(), (2, 3, 4, 5)),
    "softmin": (nn.Softmin(dim=2), (2, 3, 4, 5)),
    "logsigmoid": (nn.LogSigmoid(), (2, 3, 4, 5)),
    "tanhshrink": (nn.Tanhshrink(), (2, 3, 4, 5)),
    "leaky_relu": (nn.LeakyReLU(), (2, 3, 4, 5)),
    "leaky_relu_02": (nn.LeakyReLU(negative_slope=0.2), (2, 3, 4, 5)),
    "leaky_relu_negative": (nn.LeakyReLU(-0.1), (2, 3, 4, 5)),
    "elu": (nn.ELU(), (2, 3, 4, 5)),
    "elu_half": (nn.ELU(alpha=0.5), (2, 3, 4, 5)),
    "gelu": (nn.GELU(), (2, 3, 4, 5)),
    "gelu_tanh": (nn.GELU(approximate="tanh"), (2, 3, 4, 5)),
    "softplus": (nn.Softplus(), (2, 3, 4, 5)),
    "softplus_custom": (nn.Softplus(beta=2.0, threshold=5.0), (2, 3, 4, 5)),
    "softmax": (nn.Softmax(dim=1), (2, 3, 4, 5)),
    "softmax_last": (nn.Softmax(dim=-1), (2, 3, 4, 5)),
    "log_softmax": (nn.LogSoftmax(dim=1), (2, 3, 4, 5)),
    "prelu": (nn.PReLU(), (2, 3, 4, 5)),
    "prelu_channels": (nn.PReLU(num_parameters=3, init=0.1), (2, 3, 4, 5)),
    "identity": (nn.Identity(), (2, 3, 4, 5)),
    "avgpool": (nn.AvgPool2d(2), (2, 3, 9, 10)),
    "avgpool_custom": (nn.AvgPool2d((2, 3), stride=1, padding=1, ceil_mode=True, count_include_pad=False), (2, 3, 9, 10)),
    "avgpool_divisor": (nn.AvgPool2d(3, stride=2, padding=1, divisor_override=5), (2, 3, 9, 10)),
    "adaptive_avg": (nn.AdaptiveAvgPool2d(1), (2, 3, 9, 10)),
    "adaptive_avg_rect": (nn.AdaptiveAvgPool2d((4, 3)), (2, 3, 9, 10)),
    "adaptive_avg_none": (nn.AdaptiveAvgPool2d((None, 2)), (2, 3, 9, 10)),
    "adaptive_max": (nn.AdaptiveMaxPool2d(2), (2, 3, 9, 10)),
    "adaptive_max_none": (nn.AdaptiveMaxPool2d((3, None)), (2, 3, 9, 10)),
    "adaptive_max_rect": (nn.AdaptiveMaxPool2d((3, 4)), (2, 3, 9, 10)),
    "maxpool1d": (nn.MaxPool1d(2), (2, 3, 11)),
    "maxpool1d_custom": (nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True), (2, 3, 11)),
    "avgpool1d": (nn.AvgPool1d(3, stride=2, padding=1), (2, 3, 11)),
    "avgpool1d_custom": (nn.AvgPool1d(2, ceil_mode=True, count_include_pad=False), (2, 3, 11)),
    "conv_reflect": (nn.Conv2d(4, 6, 3, padding=1, padding_mode="reflect"), (2, 4, 9, 10)),
    "conv_replicate": (nn.Conv2d(4, 6, (3, 5), stride=2, padding=(1, 2), padding_mode="replicate"), (2, 4, 9, 10)),
    "conv_circular": (nn.Conv2d(4, 6, 3, padding=2, dilation=2, padding_mode="circular"), (2, 4, 9, 10)),
    "conv_same_reflect": (nn.Conv2d(4, 6, 4, padding="same", padding_mode="reflect"), (2, 4, 9, 10)),
    "conv_depthwise": (nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False), (2, 4, 9, 10)),
    "conv_grouped_dilated": (nn.Conv2d(4, 8, 3, groups=2, dilation=2), (2, 4, 9, 10)),
    "conv1d": (nn.Conv1d(3, 8, 3), (2, 3, 11)),
    "conv1d_custom": (nn.Conv1d(4, 8, 5, stride=2, padding=1, groups=2, bias=False), (2, 4, 11)),
    "conv1d_same_circular": (nn.Conv1d(3, 8, 3, padding="same", dilation=2, padding_mode="circular"), (2, 3, 11)),
    "conv1d_valid": (nn.Conv1d(3, 2, 4, padding="valid"), (2, 3, 11)),
    "conv_transpose": (nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), (2, 4, 5, 6)),
    "conv_transpose_groups": (nn.ConvTranspose2d(4, 8, 3, groups=2, dilation=2, bias=False), (2, 4, 5, 6)),
    "conv_transpose_rect": (nn.ConvTranspose2d(4, 2, (2, 3), stride=(2, 1), padding=(0, 1)), (2, 4, 5, 6)),
    "bn1d": (nn.BatchNorm1d(5), (6, 5)),
    "bn1d_3d": (nn.BatchNorm1d(3, momentum=0.3), (2, 3, 11)),
    "bn1d_no_bias": (nn.BatchNorm1d(5, bias=False), (6, 5)),
    "bn1d_untracked": (nn.BatchNorm1d(5, eps=1e-3, affine=False, track_running_stats=False), (6, 5)),
    "bn2d_no_bias": (nn.BatchNorm2d(3, bias=False), (2, 3, 9, 10)),
    "instancenorm": (nn.InstanceNorm2d(3), (2, 3, 9, 10)),
    "instancenorm_tracked": (nn.InstanceNorm2d(3, momentum=0.2, affine=True, track_running_stats=True), (2, 3, 9, 10)),
    "instancenorm_unbatched": (nn.InstanceNorm2d(3, affine=True, bias=False), (3, 9, 10)),
    "layernorm": (nn.LayerNorm(10), (2, 3, 9, 10)),
    "layernorm_2d": (nn.LayerNorm([9, 10], eps=1e-3), (2, 3, 9, 10)),
    "layernorm_no_affine": (nn.LayerNorm(10, elementwise_affine=False), (2, 3, 9, 10)),
    "layernorm_no_bias": (nn.LayerNorm(10, bias=False), (2, 3, 9, 10)),
    "groupnorm": (nn.GroupNorm(2, 4), (2, 4, 9, 10)),
    "groupnorm_no_affine": (nn.GroupNorm(4, 4, eps=1e-3, affine=False), (2, 4, 9, 10)),
    "groupnorm_no_bias": (nn.GroupNorm(1, 4, bias=False), (2, 4, 9, 10)),
    "dropout2d": (nn.Dropout2d(0.2), (2, 3, 9, 10), True),
    "dropout2d_default": (nn.Dropout2d(), (2, 3, 9, 10), True),
    "dropout1d": (nn.Dropout1d(0.3), (2, 3, 11), True),
    "upsample_nearest": (nn.Upsample(scale_factor=2), (2, 3, 4, 5)),
    "upsample_bilinear": (nn.Upsample(size=(7, 9), mode="bilinear"), (2, 3, 4, 5)),
    "upsample_bilinear_corners": (nn.Upsample(scale_factor=(2, 1.5), mode="bilinear", align_corners=True), (2, 3, 4, 5)),
    "upsample_bicubic": (nn.Upsample(scale_factor=1.5, mode="bicubic"), (2, 3, 4, 5)),
    "upsample_size_int": (nn.Upsample(size=6), (2, 3, 4, 5)),
    "upsample_nearest_exact": (nn.Upsample(scale_factor=1.7, mode="nearest-exact"), (2, 3, 4, 5)),
    "unflatten": (nn.Unflatten(1, (2, 5)), (3, 10)),
    "zeropad": (nn.ZeroPad2d(1), (2, 3, 4, 5)),
    "zeropad_sides": (nn.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
    "reflectionpad": (nn.ReflectionPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
    "replicationpad": (nn.ReplicationPad2d(2), (2, 3, 4, 5)),
    "constantpad": (nn.ConstantPad2d((1, 0, 2, 1), -1.5), (2, 3, 4, 5)),
    "pixelshuffle": (nn.PixelShuffle(2), (2, 8, 3, 4)),
    "pixelunshuffle": (nn.PixelUnshuffle(3), (2, 2, 6, 9)),
    "lenet5": (lenet5(), (2, 1, 28, 28)),
    "gap_net": (gap_net(), (2, 3, 12, 12), True),
    "decoder": (decoder(), (3, 6)),
}


def summary_of(module, size):
    s = summary(module, size, verbose=0)
    return {
        "text": str(s),
        "total_params": s.total_params,
        "trainable_params": s.trainable_params,
        "total_mult_adds": s.total_mult_adds,
        "rows": [[l.class_name, l.depth, l.output_size] for l in s.summary_list],
    }


def main():
    out_dir = sys.argv[1]
    from safetensors.torch import save_file

    torch.manual_seed(0)
    meta, tensors = {}, {}
    for name, (module, size, *random) in CASES.items():
        random = bool(random and random[0])
        # A model is summarised as it is; a layer inside a one-layer Sequential.
        is_model = isinstance(module, nn.Sequential)
        wrapped = module if is_model else nn.Sequential(module)
        meta[name] = {
            "repr": repr(module),
            "state_dict": [[k, list(v.shape), str(v.dtype)] for k, v in module.state_dict().items()],
            "summary": summary_of(wrapped, size),
            "input": list(size),
            "random": random,
        }
        # Weights away from their initial ones/zeros so every element matters.
        with torch.no_grad():
            for p in module.parameters():
                p.add_(torch.randn_like(p) * 0.3)
        t = {f"{name}.sd.{k}": v.detach().clone() for k, v in module.state_dict().items()}
        x = (torch.randn(size) * 2).requires_grad_(True)
        t[f"{name}.x"] = x.detach().clone()
        module.train()
        if not random:
            out = module(x)
            g = torch.randn_like(out)
            (out * g).sum().backward()
            t[f"{name}.g"] = g
            t[f"{name}.out_train"] = out.detach()
            t[f"{name}.grad.x"] = x.grad.detach().clone()
            for k, p in module.named_parameters():
                t[f"{name}.grad.{k}"] = p.grad.detach().clone()
            for k, b in module.named_buffers():
                t[f"{name}.after.{k}"] = b.detach().clone()
        module.eval()
        with torch.no_grad():
            t[f"{name}.out_eval"] = module(x).detach()
        tensors.update(t)
    save_file({k: v.contiguous().clone() for k, v in tensors.items()}, f"{out_dir}/layers.safetensors")
    with open(f"{out_dir}/layers.json", "w") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    main()
