"""Stand-in ImageNet weights for the transfer-learning notebook's models, for
machines that cannot download.

For each of WEIGHTS (resnet18's and vgg16's IMAGENET1K_V1): torchvision's
model with weights=None and torch.manual_seed(0) (random initialisation, NOT
trained), saved with torch.save(model.state_dict(), path) under the hub's real
file name (the weight's url's last part), so that
`models::resnet18(Some(ResNet18_Weights::IMAGENET1K_V1))` finds it in
$TORCH_HOME/hub/checkpoints without a download. Predictions with it are
meaningless; it proves the code path, not the accuracy.

    python scripts/make_test_weights.py TORCH_HOME   # writes TORCH_HOME/hub/checkpoints/<files>
    python scripts/make_test_weights.py --runner     # scripts/notebooks.py's hook (below)

--runner: when TORCH_HOME is not set and every real file is in torch's cache
(torch.hub.get_dir()/checkpoints, normally ~/.cache/torch/hub), writes
nothing and prints nothing (a learner's real weights are used as they are).
Otherwise, without TORCH_HOME, it makes target/torch_home: a link to each real
file torch's cache has, a stand-in for each it lacks, and prints that folder
for the runner to set as TORCH_HOME. A TORCH_HOME already set is left alone.
"""
import os
import sys
from pathlib import Path

import torch
import torchvision
from torchvision.models import ResNet18_Weights, VGG16_Weights

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = [
    (torchvision.models.resnet18, ResNet18_Weights.IMAGENET1K_V1),
    (torchvision.models.vgg16, VGG16_Weights.IMAGENET1K_V1),
]


def file_name(weights):
    return weights.url.rsplit("/", 1)[-1]


def write(checkpoints, builder, weights):
    path = Path(checkpoints) / file_name(weights)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = builder(weights=None)
    tmp = path.with_suffix(".partial")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)
    print(f"wrote stand-in (random) weights {path}", file=sys.stderr)
    return path


def main(args):
    if args == ["--runner"]:
        if os.environ.get("TORCH_HOME"):
            return 0
        real = Path(torch.hub.get_dir()) / "checkpoints"
        if all((real / file_name(w)).exists() for _, w in WEIGHTS):
            return 0
        home = ROOT / "target" / "torch_home"
        checkpoints = home / "hub" / "checkpoints"
        checkpoints.mkdir(parents=True, exist_ok=True)
        for builder, weights in WEIGHTS:
            source = real / file_name(weights)
            target = checkpoints / file_name(weights)
            if source.exists() and not target.exists():
                target.symlink_to(source)
            else:
                write(checkpoints, builder, weights)
        print(home)
        return 0
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    for builder, weights in WEIGHTS:
        write(Path(args[0]) / "hub" / "checkpoints", builder, weights)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
