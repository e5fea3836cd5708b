"""Reference values for tests/nn_*.rs, from torch and torchinfo themselves.

Usage:
  nn_reference.py repr             -> JSON {case: print(layer) text}
  nn_reference.py summary          -> JSON {case: torchinfo summary text + figures}
  nn_reference.py state_dict       -> JSON [[key, shape, dtype], ...] of MnistCNNModel
  nn_reference.py numerics OUTDIR  -> OUTDIR/nn_numerics.safetensors (inputs, weights, outputs)
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchinfo import summary


class MnistCNNModel(nn.Module):
    def __init__(self, dropout_rate):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(1, 32, kernel_size=3, stride=1, padding="same"), nn.BatchNorm2d(32), nn.ReLU(), nn.Dropout(p=dropout_rate), nn.MaxPool2d(kernel_size=2, stride=2))
        self.b2 = nn.Sequential(nn.Conv2d(32, 64, kernel_size=3, stride=1, padding="same"), nn.BatchNorm2d(64), nn.ReLU(), nn.Dropout(p=dropout_rate), nn.MaxPool2d(kernel_size=2, stride=2))
        self.b3 = nn.Sequential(nn.Conv2d(64, 128, kernel_size=3, stride=1, padding="same"), nn.BatchNorm2d(128), nn.ReLU(), nn.Dropout(p=dropout_rate), nn.MaxPool2d(kernel_size=2, stride=2, padding=1))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(in_features=128 * 4 * 4, out_features=256), nn.ReLU(), nn.Dropout(p=dropout_rate), nn.Linear(in_features=256, out_features=10))

    def forward(self, X):
        return self.classifier(self.b3(self.b2(self.b1(X))))


class TinyNet(nn.Module):
    """A model whose own parameter sits beside its children (Rust: tests/nn_summary.rs)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.features = nn.Sequential(nn.Conv2d(3, 8, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2), bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(8 * 8 * 16, 10))

    def forward(self, x):
        return self.head(self.features(x)) * self.scale


class ConvBlock(nn.Module):
    """A user-written block nested in a model (Rust: `record_forward`)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Nested(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = ConvBlock()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 8 * 8, 3))

    def forward(self, x):
        return self.head(self.block(x))


def layer_cases():
    return {
        "conv_same": nn.Conv2d(1, 32, kernel_size=3, stride=1, padding="same"),
        "conv_even_same": nn.Conv2d(1, 32, 4, padding="same"),
        "conv_tuple": nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), bias=False),
        "conv_valid": nn.Conv2d(1, 2, 3, padding="valid"),
        "conv_int_padding": nn.Conv2d(1, 2, 3, padding=1),
        "conv_dilation_groups": nn.Conv2d(4, 8, 3, padding=2, dilation=2, groups=2),
        "bn": nn.BatchNorm2d(32),
        "bn_custom": nn.BatchNorm2d(16, eps=1e-3, momentum=0.01, affine=False, track_running_stats=False),
        "relu": nn.ReLU(),
        "dropout": nn.Dropout(p=0.3),
        "dropout_default": nn.Dropout(),
        "pool": nn.MaxPool2d(kernel_size=2, stride=2, padding=1),
        "pool_default": nn.MaxPool2d(2),
        "pool_tuple": nn.MaxPool2d((2, 3), stride=(1, 2), ceil_mode=True),
        "flatten": nn.Flatten(),
        "flatten_custom": nn.Flatten(0, 2),
        "linear": nn.Linear(in_features=2048, out_features=256),
        "linear_no_bias": nn.Linear(256, 10, bias=False),
        "sequential_empty": nn.Sequential(),
        "model": MnistCNNModel(0.3),
        "tiny": TinyNet(),
        "nested": Nested(),
    }


def main():
    mode = sys.argv[1]
    if mode == "repr":
        print(json.dumps({k: repr(m) for k, m in layer_cases().items()}))
    elif mode == "summary":
        cases = {
            "model_256": (MnistCNNModel(0.3), (256, 1, 28, 28)),
            "model_1": (MnistCNNModel(0.3), (1, 1, 28, 28)),
            "tiny": (TinyNet(), (2, 3, 32, 32)),
            "block": (layer_cases()["model"].b1, (4, 1, 28, 28)),
            "linear": (nn.Linear(2048, 256), (3, 2048)),
            "nested": (Nested(), (2, 1, 8, 8)),
            # Depth 4 is hidden; the depth-3 row then shows its subtree's params.
            "deep": (nn.Sequential(nn.Sequential(nn.Sequential(nn.Sequential(nn.Linear(4, 4)), nn.ReLU())), nn.Linear(4, 2)), (2, 4)),
        }
        # Frozen tensors: a fully frozen layer shows "(n)"; all count as non-trainable.
        tiny_frozen = TinyNet()
        tiny_frozen.head[1].weight.requires_grad_(False)
        tiny_frozen.features[0].weight.requires_grad_(False)
        cases["tiny_frozen"] = (tiny_frozen, (2, 3, 32, 32))
        out = {}
        for name, (m, size) in cases.items():
            s = summary(m, size, verbose=0)
            out[name] = {
                "text": str(s),
                "total_params": s.total_params,
                "trainable_params": s.trainable_params,
                "total_mult_adds": s.total_mult_adds,
                "rows": [[l.class_name, l.depth, l.output_size] for l in s.summary_list],
            }
        print(json.dumps(out))
    elif mode == "state_dict":
        sd = MnistCNNModel(0.3).state_dict()
        print(json.dumps([[k, list(v.shape), str(v.dtype)] for k, v in sd.items()]))
    elif mode == "numerics":
        from safetensors.torch import save_file

        torch.manual_seed(0)
        t = {}
        x = torch.randn(2, 3, 9, 10)
        t["x"] = x
        # "same" padding, odd and even kernels (even: the extra zero goes after).
        for name, k, dil in [("odd", 3, 1), ("even", 4, 1), ("rect", (2, 5), 1), ("even_dilated", 4, 2)]:
            conv = nn.Conv2d(3, 5, k, padding="same", dilation=dil)
            t[f"conv_{name}.weight"] = conv.weight.detach().clone()
            t[f"conv_{name}.bias"] = conv.bias.detach().clone()
            t[f"conv_{name}.out"] = F.conv2d(x, conv.weight, conv.bias, padding="same", dilation=dil).detach()
        # BatchNorm2d: two training steps, then eval.
        bn = nn.BatchNorm2d(3)
        with torch.no_grad():
            bn.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
            bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
        t["bn.weight"] = bn.weight.detach().clone()
        t["bn.bias"] = bn.bias.detach().clone()
        x2 = torch.randn(2, 3, 9, 10) * 3 + 1
        t["x2"] = x2
        bn.train()
        t["bn.train_out1"] = bn(x).detach()
        t["bn.train_out2"] = bn(x2).detach()
        t["bn.running_mean"] = bn.running_mean.clone()
        t["bn.running_var"] = bn.running_var.clone()
        t["bn.num_batches_tracked"] = bn.num_batches_tracked.clone()
        bn.eval()
        t["bn.eval_out"] = bn(x).detach()
        save_file({k: v.contiguous() for k, v in t.items()}, f"{sys.argv[2]}/nn_numerics.safetensors")
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
