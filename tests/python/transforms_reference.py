"""torchvision's transforms on the cases tests/transforms.rs wrote, for it.

  transforms_reference.py CASES.pth

CASES.pth holds the input batch, cnn_lab's outputs and the per-image
parameters; for each case computes torchvision's result image by image
(F.hflip, F.crop(F.pad(...)), F.rotate, F.affine with NEAREST and fill 0,
transforms.Normalize) and prints JSON {case: {"max_diff", "mismatched"}}.
"""
import json
import sys

import torch
from torchvision import transforms as T
from torchvision.transforms import functional as F
from torchvision.transforms import InterpolationMode

c = torch.load(sys.argv[1], weights_only=True)
x = c["input"]
ref = {
    "flip": torch.stack([F.hflip(img) if w else img for img, w in zip(x, c["flip_which"])]),
    "crop": torch.stack([F.crop(F.pad(img, 4), t, l, 28, 28) for img, (t, l) in zip(x, c["crop_offsets"])]),
    "rotate": torch.stack(
        [F.rotate(img, a, interpolation=InterpolationMode.NEAREST, fill=[0.0]) for img, a in zip(x, c["rotate_angles"])]
    ),
    "affine": torch.stack(
        [
            F.affine(img, angle=p[0], translate=[p[1], p[2]], scale=p[3], shear=[p[4], p[5]],
                     interpolation=InterpolationMode.NEAREST, fill=[0.0])
            for img, p in zip(x, c["affine_params"])
        ]
    ),
    "normalize": T.Normalize((0.1307,), (0.3081,))(x),
}
out = {}
for name, want in ref.items():
    got = c[name]
    diff = (got - want).abs()
    out[name] = {"max_diff": float(diff.max()), "mismatched": int((diff > 0).sum())}
print(json.dumps(out))
