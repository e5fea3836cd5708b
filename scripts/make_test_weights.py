"""Stand-in ImageNet weights for resnet18, for machines that cannot download.

torchvision's resnet18(weights=None) with torch.manual_seed(0) (random
initialisation, NOT trained), saved with torch.save(model.state_dict(), path)
under the hub's real file name (ResNet18_Weights.IMAGENET1K_V1.url's last
part), so that `models::resnet18(Some(ResNet18_Weights::IMAGENET1K_V1))`
finds it in $TORCH_HOME/hub/checkpoints without a download. Predictions
with it are meaningless; it proves the code path, not the accuracy.

    python scripts/make_test_weights.py TORCH_HOME   # writes TORCH_HOME/hub/checkpoints/<file>
    python scripts/make_test_weights.py --runner     # scripts/notebooks.py's hook (below)

--runner: when TORCH_HOME is not set and the real file is not in torch's
cache (torch.hub.get_dir()/checkpoints, normally ~/.cache/torch/hub),
writes the stand-in under target/torch_home and prints that folder for the
runner to set as TORCH_HOME; otherwise writes nothing and prints nothing
(a learner's real weights, or their own TORCH_HOME, are used as they are).
"""
import os
import sys
from pathlib import Path

import torch
import torchvision
from torchvision.models import ResNet18_Weights

ROOT = Path(__file__).resolve().parent.parent
FILE = ResNet18_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1]


def write(torch_home):
    path = Path(torch_home) / "hub" / "checkpoints" / FILE
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    tmp = path.with_suffix(".partial")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)
    print(f"wrote stand-in (random) weights {path}", file=sys.stderr)
    return path


def main(args):
    if args == ["--runner"]:
        if os.environ.get("TORCH_HOME") or (Path(torch.hub.get_dir()) / "checkpoints" / FILE).exists():
            return 0
        home = ROOT / "target" / "torch_home"
        write(home)
        print(home)
        return 0
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    write(args[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
