"""Reference values for tests/nn_derive.rs: the same structures as the Rust
test's #[derive(Module)] structs, written as PyTorch classes.

Usage: nn_derive_reference.py OUTDIR -> JSON on stdout {case: {repr, summary,
state_dict}}, and OUTDIR/derive.safetensors (state dicts, an input, outputs).
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file
from torchinfo import summary


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class DerivedNet(nn.Module):
    """Nested blocks, a ModuleList, a skipped setting, a raw parameter and a buffer."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.full((1,), 0.5))
        self.register_buffer("offset", torch.zeros(3))
        self.stem = ConvBlock(1, 4)
        self.blocks = nn.ModuleList([ConvBlock(4, 4), ConvBlock(4, 4), ConvBlock(4, 6)])
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(6 * 8 * 8, 3))
        self.dropout_rate = 0.25

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x) * self.scale + self.offset


class Outer(nn.Module):
    """A derived block inside a derived block inside a model."""

    def __init__(self):
        super().__init__()
        self.inner = DerivedNet()
        self.post = nn.ReLU()

    def forward(self, x):
        return self.post(self.inner(x))


def main():
    out_dir = sys.argv[1]
    torch.manual_seed(0)
    cases = {"derived": DerivedNet(), "outer": Outer()}
    tensors = {"x": torch.randn(2, 1, 8, 8)}
    out = {}
    for name, model in cases.items():
        model.eval()
        with torch.no_grad():
            for k, v in model.state_dict().items():
                if v.is_floating_point():
                    v.copy_(torch.randn_like(v).abs() + 0.1 if "running_var" in k else torch.randn_like(v) * 0.3)
        for k, v in model.state_dict().items():
            tensors[f"{name}.{k}"] = v.detach().clone()
        tensors[f"{name}.out"] = model(tensors["x"]).detach()
        out[name] = {
            "repr": repr(model),
            "summary": str(summary(model, (2, 1, 8, 8), verbose=0)),
            "state_dict": [[k, list(v.shape)] for k, v in model.state_dict().items()],
            "parameters": [k for k, _ in model.named_parameters()],
        }
    save_file(tensors, f"{out_dir}/derive.safetensors")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
