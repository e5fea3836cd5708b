"""torch.optim with parameter groups and frozen parameters, for tests/optim_groups.rs.

  optim_groups_reference.py OUT_DIR STEPS

A two-layer net (Linear(4, 3) -> ReLU -> Linear(3, 2)), seeded weights and a
batch of 8 samples, trained STEPS steps with cross-entropy by each case's
optimizer. Writes OUT_DIR/optim_groups.safetensors: the data ("x", "y"), the
initial weights ("init.<name>") and each case's weights after the steps
("<case>.<name>"), names as state_dict() names them ("0.weight", ...). Prints
one JSON object: each scheduler case's param_groups[i]["lr"] after
construction and after each of STEPS*6 scheduler steps, for two groups.
"""
import json
import sys

import torch
from safetensors.torch import save_file
from torch import nn
from torch.optim import lr_scheduler as S

OUT, STEPS = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
net0 = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
x = torch.randn(8, 4)
y = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
init = {k: v.detach().clone() for k, v in net0.state_dict().items()}
out = {"x": x, "y": y}
out.update({f"init.{k}": v for k, v in init.items()})


def fresh():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    net.load_state_dict(init)
    return net


# case -> (freeze the first layer?, optimizer from (body params, head params))
CASES = {
    "sgd_plain": (False, lambda b, h: torch.optim.SGD(b + h, lr=0.1)),
    "sgd_momentum": (False, lambda b, h: torch.optim.SGD(b + h, lr=0.1, momentum=0.9)),
    "sgd_dampening": (
        False,
        lambda b, h: torch.optim.SGD(b + h, lr=0.1, momentum=0.9, dampening=0.3),
    ),
    "sgd_nesterov_wd": (
        False,
        lambda b, h: torch.optim.SGD(b + h, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    ),
    "sgd_groups": (
        False,
        lambda b, h: torch.optim.SGD(
            [{"params": b, "lr": 0.01, "momentum": 0.5}, {"params": h}],
            lr=0.1, momentum=0.9, weight_decay=1e-3,
        ),
    ),
    "sgd_frozen": (
        True,
        lambda b, h: torch.optim.SGD(b + h, lr=0.1, momentum=0.9, weight_decay=0.01),
    ),
    "adam_groups": (
        False,
        lambda b, h: torch.optim.Adam(
            [{"params": b, "lr": 1e-3}, {"params": h, "weight_decay": 0.01}], lr=1e-2
        ),
    ),
    "adam_frozen": (
        True,
        lambda b, h: torch.optim.Adam(
            [{"params": b, "lr": 1e-3}, {"params": h}], lr=1e-2, weight_decay=0.01
        ),
    ),
}

for name, (freeze, make) in CASES.items():
    net = fresh()
    body, head = list(net[0].parameters()), list(net[2].parameters())
    if freeze:
        net[0].requires_grad_(False)
    opt = make(body, head)
    for _ in range(STEPS):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    out.update({f"{name}.{k}": v.detach().clone() for k, v in net.state_dict().items()})
save_file(out, f"{OUT}/optim_groups.safetensors")

SCHEDULERS = {
    "StepLR": lambda o: S.StepLR(o, step_size=4, gamma=0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, milestones=[3, 8, 8, 20], gamma=0.3),
    "ExponentialLR": lambda o: S.ExponentialLR(o, gamma=0.87),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, T_max=12, eta_min=0.001),
    "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=[0.005, 0.05], total_steps=30),
    "OneCycleLR_one_max": lambda o: S.OneCycleLR(o, max_lr=0.05, total_steps=30, three_phase=True),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, patience=1, factor=0.5, min_lr=[0.004, 0.0]),
}
# Validation losses that improve, then stall.
METRICS = [1.0 / (1 + i) if i < 6 else 0.2 for i in range(30)]
rates = {}
for name, make in SCHEDULERS.items():
    p, q = nn.Parameter(torch.zeros(1)), nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{"params": [p], "lr": 0.01}, {"params": [q]}], lr=0.1, momentum=0.9)
    sched = make(opt)
    lrs = [[g["lr"] for g in opt.param_groups]]
    moms = [opt.param_groups[0]["momentum"]]
    for i in range(30 if name.startswith("OneCycle") else 30):
        opt.step()
        if isinstance(sched, S.ReduceLROnPlateau):
            sched.step(METRICS[i])
        else:
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append(opt.param_groups[0]["momentum"])
    rates[name] = {"lrs": lrs, "momentum": moms}
rates["metrics"] = METRICS
print(json.dumps(rates))
