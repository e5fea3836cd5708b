"""Prints PyTorch's own strict load_state_dict error for TinyCnn given a
state_dict with one key missing, one unexpected and one of the wrong shape."""
import torch

from interop_models import TinyCnn

model = TinyCnn()
sd = dict(model.state_dict())
del sd["fc.bias"]
sd["extra.weight"] = torch.zeros(2)
sd["conv.weight"] = torch.zeros(8, 1, 3, 3)
try:
    model.load_state_dict(sd, strict=True)
except RuntimeError as e:
    print(str(e), end="")
