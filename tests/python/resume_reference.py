"""Reads a cnn_lab training checkpoint with torch, for tests/train_resume.rs.

  resume_reference.py PATH

torch.load(PATH, weights_only=True); loads its model_state_dict into
tests/train_support's TinyCnn (rebuilt here), its optimizer_state_dict into
a torch.optim.Adam over those parameters and its scheduler_state_dict into a
StepLR, then prints `key value` lines: epoch, val_loss (the history's last),
optimizer_loaded, scheduler_last_lr.
"""
import sys

import torch
from torch import nn

ck = torch.load(sys.argv[1], weights_only=True)


class TinyCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 14 * 14, 10)


model = TinyCnn()
model.load_state_dict(ck["model_state_dict"])
opt = torch.optim.Adam(model.parameters(), lr=1.0)
opt.load_state_dict(ck["optimizer_state_dict"])
state = opt.state[opt.param_groups[0]["params"][0]]
assert state["exp_avg"].shape == model.conv.weight.shape
assert float(state["step"]) > 0
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
sched.load_state_dict(ck["scheduler_state_dict"])
print("epoch", ck["epoch"])
print("val_loss", repr(ck["history"]["val_loss"][-1]))
print("optimizer_loaded", opt.param_groups[0]["lr"] == ck["optimizer_state_dict"]["param_groups"][0]["lr"])
print("scheduler_last_lr", sched.get_last_lr()[0])
