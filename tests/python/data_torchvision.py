"""Reference values from torchvision itself for tests/data_torchvision.rs.

usage: data_torchvision.py DATASETS_ROOT SCRATCH_ROOT NAME(MNIST|FashionMNIST) train|test OUT.safetensors I1,I2,...

Gunzips the shared .gz files into SCRATCH_ROOT (torchvision wants the raw files and
must not write into the shared folder), loads the split with
torchvision.datasets.<NAME>(root, train=..., download=False), and writes:
  data     uint8 [N,28,28]  dataset.data
  targets  int64 [N]        dataset.targets
  images   float32 [k,1,28,28]  dataset[i][0] with ToTensor() for the given indices
  labels   int64 [k]        dataset[i][1]
  normalized float32 [k,1,28,28]  Normalize((0.1307,), (0.3081,))(ToTensor()(img))
and prints the class names as JSON.
"""
import gzip
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from torchvision import datasets, transforms

src_root, scratch, name, split, out, idx = sys.argv[1:7]
indices = [int(i) for i in idx.split(",")]
raw = os.path.join(scratch, name, "raw")
os.makedirs(raw, exist_ok=True)
# torchvision checks that all four files of both splits exist.
for stem in [f"{p}-{k}" for p in ("train", "t10k") for k in ("images-idx3-ubyte", "labels-idx1-ubyte")]:
    dst = os.path.join(raw, stem)
    if not os.path.exists(dst):
        with gzip.open(os.path.join(src_root, name, "raw", stem + ".gz"), "rb") as f, open(dst, "wb") as g:
            shutil.copyfileobj(f, g)

cls = getattr(datasets, name)
ds = cls(scratch, train=(split == "train"), download=False, transform=transforms.ToTensor())
norm = transforms.Normalize((0.1307,), (0.3081,))
images = torch.stack([ds[i][0] for i in indices])
labels = torch.tensor([ds[i][1] for i in indices], dtype=torch.int64)
save_file(
    {
        "data": ds.data.contiguous(),
        "targets": ds.targets.contiguous(),
        "images": images.contiguous(),
        "labels": labels,
        "normalized": torch.stack([norm(x) for x in images]).contiguous(),
    },
    out,
)
print(json.dumps({"classes": ds.classes, "len": len(ds)}))
