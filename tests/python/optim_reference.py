"""torch.optim.Adam, plain and fused, on a fixed problem, for tests/optim_adam.rs.

  optim_reference.py STEPS

Three parameter tensors p_k = sin(0.37·arange(n_k) + k), loss
sum((p - cos(0.11·arange(n)))²) + 0.1·sum(p⁴) summed over them. For each
setting below and each of fused=False/True, runs STEPS steps and prints one
line: `<setting> <fused> <values>`, the parameters' final values flattened,
as Python reprs.
"""
import sys

import torch

SHAPES = [(4, 3), (7,), (2, 2, 2)]
SETTINGS = {
    "default": dict(lr=0.01),
    "decay_amsgrad": dict(lr=0.05, weight_decay=0.01, amsgrad=True),
    "betas_eps": dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6),
}


def params():
    out = []
    for k, shape in enumerate(SHAPES):
        n = 1
        for s in shape:
            n *= s
        p = (torch.arange(n, dtype=torch.float32) * 0.37 + k).sin().reshape(shape)
        out.append(p.requires_grad_(True))
    return out


def loss(ps):
    total = 0
    for p in ps:
        n = p.numel()
        t = (torch.arange(n, dtype=torch.float32) * 0.11).cos().reshape(p.shape)
        total = total + ((p - t) ** 2).sum() + 0.1 * (p**4).sum()
    return total


def main():
    steps = int(sys.argv[1])
    for name, kw in SETTINGS.items():
        for fused in (False, True):
            ps = params()
            opt = torch.optim.Adam(ps, fused=fused, **kw)
            for _ in range(steps):
                opt.zero_grad()
                loss(ps).backward()
                opt.step()
            values = torch.cat([p.detach().flatten() for p in ps]).tolist()
            print(name, fused, " ".join(repr(v) for v in values))


if __name__ == "__main__":
    main()
