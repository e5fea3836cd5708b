"""torch.optim.lr_scheduler's learning rates, for tests/optim_lr_scheduler.rs.

  sched_reference.py STEPS

For each case below: an SGD (or Adam, for OneCycleLR's beta1) optimizer with
lr=0.1 on one parameter, the scheduler built with the case's arguments,
then STEPS times optimizer.step(); scheduler.step() (ReduceLROnPlateau:
step(metric) with the metrics listed). Prints one JSON object:
{case: {"lr": [lr after construction, after each step...], "momentum": [...]}}.
"""
import json
import sys

import torch
from torch.optim import lr_scheduler as S

STEPS = int(sys.argv[1])
# Validation losses that improve, stall, improve a little, stall.
METRICS = [1.0 / (1 + i) if i < 8 else 0.125 + (0.0001 if i % 5 else -0.00001 * i) for i in range(STEPS)]

CASES = {
    "StepLR": lambda o: S.StepLR(o, step_size=4, gamma=0.5),
    "StepLR_default": lambda o: S.StepLR(o, 7),
    "MultiStepLR": lambda o: S.MultiStepLR(o, milestones=[3, 8, 8, 20], gamma=0.3),
    "ExponentialLR": lambda o: S.ExponentialLR(o, gamma=0.87),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, T_max=12, eta_min=0.001),
    "CosineAnnealingLR_default": lambda o: S.CosineAnnealingLR(o, T_max=30),
    "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=0.05, total_steps=30),
    "OneCycleLR_linear_3phase": lambda o: S.OneCycleLR(
        o, max_lr=0.2, total_steps=40, anneal_strategy="linear", three_phase=True,
        pct_start=0.25, div_factor=10.0, final_div_factor=100.0,
    ),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1),
    "ReduceLROnPlateau_abs_min": lambda o: S.ReduceLROnPlateau(
        o, patience=0, threshold=0.01, threshold_mode="abs", min_lr=0.02
    ),
}

out = {}
for name, make in CASES.items():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=0.1) if name.startswith("OneCycle") else torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    group = opt.param_groups[0]
    beta = lambda: group["betas"][0] if "betas" in group else group["momentum"]
    lrs, moms = [group["lr"]], [beta()]
    for i in range(STEPS):
        opt.step()
        if isinstance(sched, S.ReduceLROnPlateau):
            sched.step(METRICS[i])
        else:
            sched.step()
        lrs.append(group["lr"])
        moms.append(beta())
    out[name] = {"lr": lrs, "momentum": moms}
out["metrics"] = METRICS
print(json.dumps(out))
