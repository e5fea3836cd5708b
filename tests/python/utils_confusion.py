"""Reference confusion matrix: torch.bincount over true*C + pred.

Usage: utils_confusion.py C "p0,p1,..." "t0,t1,..."  -> JSON rows [true][pred]
"""
import json
import sys

import torch

c = int(sys.argv[1])
preds = torch.tensor([int(v) for v in sys.argv[2].split(",")])
labels = torch.tensor([int(v) for v in sys.argv[3].split(",")])
counts = torch.bincount(labels * c + preds, minlength=c * c).reshape(c, c)
print(json.dumps(counts.tolist()))
