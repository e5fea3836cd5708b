"""Frozen parameters in torchinfo and in a checkpoint, for tests/train_freeze.rs.

  freeze_reference.py summary          -> JSON {case: torchinfo summary text + figures}
  freeze_reference.py checkpoint PATH  -> `key value` lines about a cnn_lab training
                                          checkpoint loaded into torch.optim.SGD

summary: the lecture's MnistCNNModel with b1 and b2 frozen (requires_grad_(False))
and only b3[0].weight frozen in b3 ("lecture_frozen"), and with everything but
the classifier frozen ("body_frozen"), at (256, 1, 28, 28).

checkpoint: torch.load(PATH, weights_only=True); TinyCnn (tests/python/
interop_models.py) loads model_state_dict; an SGD with the test's two groups
([conv, bn] and [fc], lr 0.01/0.05, momentum 0.5/0.9, nesterov) loads
optimizer_state_dict; prints the groups' lr and momentum, which parameters
have a momentum buffer, and whether each buffer has its parameter's shape.
"""
import json
import sys

import torch
from torch import nn
from torchinfo import summary

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from interop_models import MnistCNNModel, TinyCnn  # noqa: E402

if sys.argv[1] == "summary":
    out = {}
    m = MnistCNNModel(0.3)
    m.b1.requires_grad_(False)
    m.b2.requires_grad_(False)
    m.b3[0].weight.requires_grad_(False)
    body = MnistCNNModel(0.3)
    body.requires_grad_(False)
    body.classifier.requires_grad_(True)
    for name, model in {"lecture_frozen": m, "body_frozen": body}.items():
        s = summary(model, (256, 1, 28, 28), verbose=0)
        out[name] = {
            "text": str(s),
            "total_params": s.total_params,
            "trainable_params": s.trainable_params,
            "total_mult_adds": s.total_mult_adds,
            "rows": [[l.class_name, l.depth, l.output_size] for l in s.summary_list],
        }
    print(json.dumps(out))
elif sys.argv[1] == "checkpoint":
    ck = torch.load(sys.argv[2], weights_only=True)
    model = TinyCnn()
    model.load_state_dict(ck["model_state_dict"])
    body = list(model.conv.parameters()) + list(model.bn.parameters())
    opt = torch.optim.SGD(
        [{"params": body, "lr": 0.01, "momentum": 0.5}, {"params": list(model.fc.parameters())}],
        lr=0.05, momentum=0.9, nesterov=True,
    )
    opt.load_state_dict(ck["optimizer_state_dict"])
    params = [p for g in opt.param_groups for p in g["params"]]
    print("lrs", json.dumps([g["lr"] for g in opt.param_groups]))
    print("momentums", json.dumps([g["momentum"] for g in opt.param_groups]))
    with_buffer = [i for i, p in enumerate(params) if "momentum_buffer" in opt.state[p]]
    print("buffers", json.dumps(with_buffer))
    print("shapes_match", all(opt.state[params[i]]["momentum_buffer"].shape == params[i].shape for i in with_buffer))
    print("epoch", ck["epoch"])
