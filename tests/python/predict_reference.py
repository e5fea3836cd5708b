"""Reference for tests/utils_predict.rs: the lecture's predict() in PyTorch.

Writes into OUT (argv[1]):
- torch_home/hub/checkpoints/<ResNet18_Weights.IMAGENET1K_V1's file>: a
  resnet18 state_dict (torch.manual_seed(0) init, fc scaled by 4 so the
  top classes stand apart), saved with torch.save;
- photos/: scikit-image's chelsea.png, coffee.png, rocket.jpg;
- reference.json: per photo, the top-5 indices, probabilities and names of
  softmax(model(weights.transforms()(read_image(p, ImageReadMode.RGB))[None])).

The photo is read with torchvision.io.read_image, as cnn_lab reads it: the
lecture's Image.open(p).convert("RGB") gives the preset a channels-last
tensor (pil_to_tensor's permute), whose uint8 antialiased resize rounds one
level differently in ~18% of chelsea's values (torchvision's own two paths
differ by 0.0175 after normalising, 4.5e-4 in a probability here).
"""

import json
import os
import shutil
import sys

import skimage
import torch
import torchvision
from torchvision.io import ImageReadMode, read_image
from torchvision.models import ResNet18_Weights

out = sys.argv[1]
weights = ResNet18_Weights.IMAGENET1K_V1
checkpoints = os.path.join(out, "torch_home", "hub", "checkpoints")
photos = os.path.join(out, "photos")
os.makedirs(checkpoints, exist_ok=True)
os.makedirs(photos, exist_ok=True)

torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None)
with torch.no_grad():
    model.fc.weight.mul_(4.0)
torch.save(model.state_dict(), os.path.join(checkpoints, weights.url.split("/")[-1]))
model.eval()

data = os.path.join(os.path.dirname(skimage.__file__), "data")
transform = weights.transforms()
names = weights.meta["categories"]
reference = {}
for name in ["chelsea.png", "coffee.png", "rocket.jpg"]:
    path = os.path.join(photos, name)
    shutil.copy(os.path.join(data, name), path)
    x = transform(read_image(path, ImageReadMode.RGB)).unsqueeze(0)
    with torch.no_grad():
        probs = torch.softmax(model(x), dim=1)[0]
    top = probs.topk(5)
    p = top.values.tolist()
    # The order is only meaningful where neighbours differ by more than the
    # comparison's tolerance.
    assert all(a - b > 1e-5 for a, b in zip(p, p[1:])), (name, p)
    reference[name] = {
        "indices": top.indices.tolist(),
        "probabilities": p,
        "names": [names[i] for i in top.indices.tolist()],
    }
with open(os.path.join(out, "reference.json"), "w") as f:
    json.dump(reference, f)
