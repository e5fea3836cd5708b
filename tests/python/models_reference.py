"""Reference values for tests/models_torchvision.rs, from torchvision and torchinfo.

    python models_reference.py OUTDIR
    -> OUTDIR/models.json           {name: {repr, state_dict, summary, input, init, weights}}
                                    (init: {key: [mean, median |x|, numel]} or null where not checked)
    -> OUTDIR/models.safetensors    {name}.x, {name}.out (eval-mode logits);
                                    photo{i}: PHOTOS as torchvision.io.read_image reads them;
                                    {name}.photos.{member}: softmax probabilities of the
                                    first PREDICTED photos
                                    through that weights member's transforms(), for each
                                    member whose preset differs from an earlier one's
                                    (the entry's "photo_weights": {member: i});
                                    preset{i}: the photos through the i-th distinct preset
    -> OUTDIR/{name}.pth            torch.save(model.state_dict()) for the models whose
                                    outputs are compared (the big VGGs are not saved)
    -> OUTDIR/densenet_old.pth      densenet121's state_dict with the published files'
                                    old-style keys (norm.1, conv.2)

Every model is torchvision's own builder with its random initialisation.
"""

import json
import os
import re
import sys
import warnings

import torch
import torch.nn as nn
import torchvision
from torchinfo import summary

warnings.filterwarnings("ignore")

# name -> (input size, whether its weights and logits are saved)
MODELS = {
    "resnet18": ((1, 3, 64, 64), True),
    "resnet34": ((1, 3, 64, 64), True),
    "resnet50": ((1, 3, 64, 64), True),
    "resnet101": ((1, 3, 64, 64), True),
    "vgg11": ((1, 3, 32, 32), False),
    "vgg11_bn": ((1, 3, 32, 32), True),
    "vgg13": ((1, 3, 32, 32), False),
    "vgg13_bn": ((1, 3, 32, 32), False),
    "vgg16": ((1, 3, 32, 32), False),
    "vgg16_bn": ((1, 3, 32, 32), False),
    "vgg19": ((1, 3, 32, 32), False),
    "vgg19_bn": ((1, 3, 32, 32), False),
    "alexnet": ((1, 3, 64, 64), True),
    "squeezenet1_0": ((1, 3, 64, 64), True),
    "squeezenet1_1": ((1, 3, 64, 64), True),
    "densenet121": ((1, 3, 32, 32), True),
    "mobilenet_v2": ((1, 3, 32, 32), True),
    "mobilenet_v3_large": ((1, 3, 32, 32), True),
    "mobilenet_v3_small": ((1, 3, 32, 32), True),
    "efficientnet_b0": ((1, 3, 32, 32), True),
    "googlenet": ((1, 3, 64, 64), True),
    "convnext_tiny": ((1, 3, 32, 32), True),
    "regnet_y_400mf": ((1, 3, 32, 32), True),
}


# scikit-image's bundled photos (PNG and JPEG, three sizes); the first
# PREDICTED go through the models (each costs every model a 224 x 224
# forward, here and in the test), all of them are decoded by the test.
PHOTOS = ["chelsea.png", "rocket.jpg", "coffee.png"]
PREDICTED = 2


def photo_paths():
    import skimage

    data = os.path.join(os.path.dirname(skimage.__file__), "data")
    return [os.path.join(data, name) for name in PHOTOS]


def read_photos():
    from torchvision.io import read_image

    return [read_image(path) for path in photo_paths()]


def photo_probs(name, model, photos, tensors, presets):
    """Each distinct preset of the model's weights on the photos: the
    softmax of the logits, as {name}.photos.{member}, and the preset's
    output as preset{i} (i its index in `presets`, shared by the models);
    returns {member: i} for the members done."""
    done, seen = {}, set()
    for w in torchvision.models.get_model_weights(name):
        t = w.transforms()
        key = (repr(t), t.antialias)
        if key in seen:
            continue
        seen.add(key)
        if key not in presets:
            presets.append(key)
            tensors[f"preset{presets.index(key)}"] = torch.stack([t(p) for p in photos])
        batch = tensors[f"preset{presets.index(key)}"]
        with torch.no_grad():
            tensors[f"{name}.photos.{w.name}"] = model(batch).softmax(1).contiguous()
        done[w.name] = presets.index(key)
    return done


def summary_of(module, size):
    s = summary(module, size, verbose=0)
    return {
        "text": str(s),
        "total_params": s.total_params,
        "trainable_params": s.trainable_params,
        "total_mult_adds": s.total_mult_adds,
        "rows": [[l.class_name, l.depth, l.output_size] for l in s.summary_list],
    }


def init_stats(model):
    """(mean, spread, numel) of each parameter as torchvision initialises it;
    the spread is the median of |x| (robust: trunc_normal_ can put a rare
    value at its far bounds), 0 for a constant tensor."""
    out = {}
    for k, p in model.named_parameters():
        p = p.detach()
        constant = p.numel() == 1 or bool((p == p.flatten()[0]).all())
        spread = 0.0 if constant else p.abs().median().item()
        out[k] = [p.mean().item(), spread, p.numel()]
    return out


def describe(model, size):
    return {
        "repr": repr(model),
        "state_dict": [[k, list(v.shape), str(v.dtype)] for k, v in model.state_dict().items()],
        "summary": summary_of(model, size),
        "input": list(size),
    }


def main():
    out_dir = sys.argv[1]
    from safetensors.torch import save_file

    torch.manual_seed(0)
    meta, tensors = {}, {}
    photos, presets = read_photos(), []
    for i, p in enumerate(photos):
        tensors[f"photo{i}"] = p.contiguous()
    photos = photos[:PREDICTED]
    for name, (size, save) in MODELS.items():
        # The VGGs share one initialisation, checked on vgg11 and vgg11_bn:
        # the others skip its 0.1 G normal draws (their structure is the same).
        skip_init = name.startswith("vgg") and not name.startswith("vgg11")
        kwargs = {"init_weights": False} if skip_init else {}
        model = torchvision.models.get_model(name, **kwargs)
        model.eval()
        entry = describe(model, size)
        entry["init"] = None if skip_init else init_stats(model)
        entry["weights"] = save
        if save:
            # Running statistics away from 0/1, so eval-mode BatchNorm matters:
            # one training-mode pass with momentum 1 sets them to a batch's
            # statistics (which also keeps the logits near 1 for a 1e-4 check).
            bns = [(m, m.momentum) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
            for m, _ in bns:
                m.momentum = 1.0
            model.train()
            with torch.no_grad():
                model(torch.randn((8,) + tuple(size[1:])))
            model.eval()
            for m, momentum in bns:
                m.momentum = momentum
            x = torch.randn(size)
            with torch.no_grad():
                out = model(x)
            tensors[f"{name}.x"] = x
            tensors[f"{name}.out"] = out.contiguous()
            # PyTorch's own output in the channels-last layout (which
            # cnn_lab's eval-mode convolutions use): how far float32 rounding
            # in another layout moves this model's logits.
            with torch.no_grad():
                model.to(memory_format=torch.channels_last)
                out_cl = model(x.to(memory_format=torch.channels_last))
                model.to(memory_format=torch.contiguous_format)
            tensors[f"{name}.out_channels_last"] = out_cl.contiguous()
            entry["photo_weights"] = photo_probs(name, model, photos, tensors, presets)
            torch.save(model.state_dict(), f"{out_dir}/{name}.pth")
            if name == "densenet121":
                pattern = re.compile(r"^(.*denselayer\d+\.)(norm|relu|conv)([12])\.(weight|bias|running_mean|running_var)$")
                old = {}
                for k, v in model.state_dict().items():
                    m = pattern.match(k)
                    old[f"{m.group(1)}{m.group(2)}.{m.group(3)}.{m.group(4)}" if m else k] = v
                torch.save(old, f"{out_dir}/densenet_old.pth")
        meta[name] = entry
        del model

    # Head replacement and named Sequential children, as a notebook does them.
    resnet = torchvision.models.resnet18()
    resnet.fc = nn.Linear(512, 2)
    meta["resnet18_fc2"] = describe(resnet, (1, 3, 64, 64))
    alex = torchvision.models.alexnet()
    alex.classifier[6] = nn.Linear(4096, 2)
    meta["alexnet_head2"] = describe(alex, (1, 3, 64, 64))
    mnv3 = torchvision.models.mobilenet_v3_small(num_classes=10, dropout=0.5)
    meta["mobilenet_v3_small_10"] = describe(mnv3, (1, 3, 32, 32))

    meta["_list_models"] = torchvision.models.list_models()
    meta["_photos"] = photo_paths()
    meta["_photos_predicted"] = PREDICTED
    save_file(tensors, f"{out_dir}/models.safetensors")
    with open(f"{out_dir}/models.json", "w") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    main()
