"""Reference values for tests/weights_table.rs and tests/hub_download.rs.

    python weights_reference.py table OUT_DIR
        OUT_DIR/weights.json: every weights enum of the builders cnn_lab lists
        (scripts/gen_weights_table.py's MODELS), as torchvision gives them:
        names, DEFAULT, URLs, meta, transforms() (fields, repr, describe()).

    python weights_reference.py files TORCH_HOME OUT_DIR
        Weights files as torchvision and torch.save write them, under the hub's
        file names in TORCH_HOME/hub/checkpoints (hash prefixes in the names are
        not these files' hashes: a cached file is used without a check):
        - squeezenet1_1-b8a52dc0.pth: torch.save(squeezenet1_1(weights=None).state_dict());
        - densenet121-a639ec97.pth: a small torchvision DenseNet's state_dict as the
          published file has it: old key names (denselayer1.norm.1.weight), which
          torchvision's densenet._load_state_dict's regex undoes, and no
          num_batches_tracked (written before PyTorch 0.4.1; BatchNorm's
          _load_from_state_dict keeps the model's own for such files);
        and OUT_DIR/squeezenet1_1.safetensors, OUT_DIR/densenet.safetensors: the same
        tensors under the model's own keys, to compare with what cnn_lab loads.

    python weights_reference.py preset OUT_DIR
        OUT_DIR/preset.safetensors: a real photo (scikit-image's chelsea, read by
        torchvision.io.read_image, and an odd-sized crop of it) and what
        ResNet18_Weights.DEFAULT.transforms() (bilinear) and
        EfficientNet_B0_Weights.DEFAULT.transforms() (bicubic, 256 -> 224) make of it.

    python weights_reference.py hash_prefix NAMES_JSON
        Prints, as a JSON list, torch.hub.HASH_REGEX.search(name).group(1) for each
        file name (null where it does not match).

    python weights_reference.py get_dir CASES_JSON
        Prints, as a JSON list, torch.hub.get_dir() under each case's environment
        (a JSON list of {"TORCH_HOME": …, "XDG_CACHE_HOME": …, "HOME": …}; null unsets).
"""

import importlib.util
import json
import math
import os
import re
import sys

import torch
import torchvision
import torchvision.models as M
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "..", "scripts", "gen_weights_table.py")


def models_listed():
    spec = importlib.util.spec_from_file_location("gen_weights_table", GEN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.MODELS


def num(x):
    return None if isinstance(x, float) and math.isnan(x) else x


def table(out):
    enums = []
    for model in models_listed():
        W = M.get_model_weights(model)
        members = []
        for w in W:
            t = w.transforms()
            metrics = w.meta["_metrics"]["ImageNet-1K"]
            members.append(
                {
                    "repr": repr(w),
                    "name": w.name,
                    "url": w.url,
                    "num_params": w.meta["num_params"],
                    "min_size": list(w.meta["min_size"]),
                    "categories": w.meta["categories"],
                    "acc1": num(metrics["acc@1"]),
                    "acc5": num(metrics["acc@5"]),
                    "recipe": w.meta["recipe"],
                    "ops": w.meta["_ops"],
                    "file_size": w.meta["_file_size"],
                    "transforms": {
                        "type": type(t).__name__,
                        "crop_size": t.crop_size,
                        "resize_size": t.resize_size,
                        "mean": t.mean,
                        "std": t.std,
                        "interpolation": str(t.interpolation),
                        "antialias": t.antialias,
                        "repr": repr(t),
                        "describe": t.describe(),
                    },
                }
            )
        enums.append(
            {
                "model": model,
                "enum": W.__name__,
                "default": repr(W.DEFAULT),
                "members": members,
            }
        )
    with open(os.path.join(out, "weights.json"), "w") as f:
        json.dump({"torchvision": torchvision.__version__, "enums": enums}, f)


# torchvision's densenet._load_state_dict pattern (new key = group 1 + group 2).
DENSENET = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)


def files(torch_home, out):
    ckpt = os.path.join(torch_home, "hub", "checkpoints")
    os.makedirs(ckpt, exist_ok=True)
    torch.manual_seed(0)

    sd = M.squeezenet1_1(weights=None).state_dict()
    torch.save(sd, os.path.join(ckpt, "squeezenet1_1-b8a52dc0.pth"))
    save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(out, "squeezenet1_1.safetensors"))

    net = M.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2, num_classes=10)
    new = net.state_dict()
    # The published files' names: denselayerN.norm1 -> denselayerN.norm.1
    old = {
        re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", k): v
        for k, v in new.items()
        if not k.endswith("num_batches_tracked")
    }
    renamed = {}
    for key, value in old.items():
        m = DENSENET.match(key)
        renamed[m.group(1) + m.group(2) if m else key] = value
    assert list(renamed) == [k for k in new if not k.endswith("num_batches_tracked")], "the regex undoes the renaming"
    # What torchvision's own loading gives: the regex, then BatchNorm's rule.
    fresh = M.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2, num_classes=10)
    fresh.load_state_dict(renamed)  # strict: the missing num_batches_tracked are the module's
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), new.values()))
    assert any(k != n for k, n in zip(old, new)), "some keys were renamed"
    torch.save(old, os.path.join(ckpt, "densenet121-a639ec97.pth"))
    save_file({k: v.contiguous() for k, v in new.items()}, os.path.join(out, "densenet.safetensors"))


def get_dir(cases):
    import torch.hub

    out = []
    for case in json.loads(cases):
        for k, v in case.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        out.append(torch.hub.get_dir())
    print(json.dumps(out))


def hash_prefix(names):
    import torch.hub

    out = []
    for name in json.loads(names):
        m = torch.hub.HASH_REGEX.search(name)
        out.append(m.group(1) if m else None)
    print(json.dumps(out))


def preset(out_dir):
    import skimage
    from torchvision.io import read_image

    photo = read_image(os.path.join(os.path.dirname(skimage.__file__), "data", "chelsea.png")).contiguous()
    odd = photo[:, 13:250, 7:398].contiguous()
    out = {"photo": photo, "odd": odd}
    for name, w in (("resnet18", M.ResNet18_Weights.DEFAULT), ("efficientnet_b0", M.EfficientNet_B0_Weights.DEFAULT)):
        t = w.transforms()
        out[f"{name}.photo"] = t(photo).contiguous()
        out[f"{name}.odd"] = t(odd).contiguous()
    save_file(out, os.path.join(out_dir, "preset.safetensors"))


if __name__ == "__main__":
    if sys.argv[1] == "preset":
        preset(sys.argv[2])
    elif sys.argv[1] == "table":
        table(sys.argv[2])
    elif sys.argv[1] == "files":
        files(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "hash_prefix":
        hash_prefix(sys.argv[2])
    elif sys.argv[1] == "get_dir":
        get_dir(sys.argv[2])
    else:
        sys.exit(f"unknown mode {sys.argv[1]!r}")
