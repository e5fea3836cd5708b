"""torchvision's transforms, the references of two tests.

  transforms_reference.py CASES.pth     (tests/transforms.rs)
  transforms_reference.py photos DIR    (tests/transforms_photos.rs)

CASES.pth: the input batch, cnn_lab's outputs and the per-image
parameters; for each case computes torchvision's result image by image
(F.hflip, F.crop(F.pad(...)), F.rotate, F.affine with NEAREST and fill 0,
transforms.Normalize) and prints JSON {case: {"max_diff", "mismatched"}}.

photos DIR: writes real photos from scikit-image (inputs.safetensors),
the cases (cases.json: name, input, op, args), torchvision's outputs on
its tensor path (outputs.safetensors), the printout of a Compose of every
transform (repr.txt) and statistics of many get_params draws (stats.json).
"""
import json
import math
import sys

import torch
from torchvision import transforms as T
from torchvision.transforms import functional as F
from torchvision.transforms import InterpolationMode


def loader_cases(path):
    c = torch.load(path, weights_only=True)
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


def photo_inputs():
    import skimage.data

    chw = lambda a: torch.from_numpy(a).permute(2, 0, 1).contiguous()
    chelsea = chw(skimage.data.chelsea())  # 3 x 300 x 451
    return {
        "chelsea": chelsea,
        "chelsea_odd": chelsea[:, 50:151, 100:233].contiguous(),  # 101 x 133
        "astronaut": chw(skimage.data.astronaut())[:, ::4, ::4].contiguous(),  # 128 x 128
        "camera": torch.from_numpy(skimage.data.camera())[None, ::4, 3:404:4].contiguous(),  # 1 x 128 x 101
    }


MODES = {"nearest": InterpolationMode.NEAREST, "bilinear": InterpolationMode.BILINEAR,
         "bicubic": InterpolationMode.BICUBIC}


def run(op, img, a):
    """torchvision's function `op` on the tensor `img` with the JSON args `a`."""
    mode = MODES.get(a.get("interpolation", "nearest"))
    if op == "resize":
        return F.resize(img, a["size"], interpolation=MODES[a["interpolation"]], max_size=a["max_size"],
                        antialias=a["antialias"])
    if op == "resized_crop":
        return F.resized_crop(img, a["top"], a["left"], a["height"], a["width"], a["size"],
                              interpolation=MODES[a["interpolation"]])
    if op == "center_crop":
        return F.center_crop(img, a["size"])
    if op == "crop":
        return F.crop(img, a["top"], a["left"], a["height"], a["width"])
    if op == "pad":
        return F.pad(img, a["padding"], fill=a["fill"], padding_mode=a["mode"])
    if op == "hflip":
        return F.hflip(img)
    if op == "vflip":
        return F.vflip(img)
    if op == "rotate":
        return F.rotate(img, a["angle"], interpolation=mode, expand=a["expand"], center=a["center"], fill=a["fill"])
    if op == "affine":
        return F.affine(img, a["angle"], a["translate"], a["scale"], a["shear"], interpolation=mode,
                        fill=a["fill"], center=a["center"])
    if op == "gaussian_blur":
        return F.gaussian_blur(img, a["kernel_size"], a["sigma"])
    if op == "rgb_to_grayscale":
        return F.rgb_to_grayscale(img, a["num_output_channels"])
    if op == "invert":
        return F.invert(img)
    if op == "erase":
        return F.erase(img, a["i"], a["j"], a["h"], a["w"], torch.tensor(a["v"])[:, None, None])
    if op == "normalize":
        return F.normalize(img, a["mean"], a["std"])
    if op == "to_tensor":  # the ndarray (HWC uint8) a PIL image becomes
        return F.to_tensor(img.permute(1, 2, 0).numpy())
    if op == "convert_image_dtype":
        return F.convert_image_dtype(img, getattr(torch, a["dtype"]))
    if op.startswith("adjust_"):
        return getattr(F, op)(img, a["factor"])
    raise ValueError(op)


def photo_cases():
    """(name, input, op, args); each runs on the uint8 and the float image."""
    cases = []
    add = lambda inp, op, **a: cases.append((inp, op, a))
    for inp in ["chelsea_odd", "camera", "astronaut"]:
        for interp in ["bilinear", "bicubic", "nearest"]:
            add(inp, "resize", size=64, interpolation=interp, max_size=None, antialias=True)
        add(inp, "resize", size=[150, 97], interpolation="bilinear", max_size=None, antialias=False)
        add(inp, "resize", size=[150, 97], interpolation="bicubic", max_size=None, antialias=False)
        add(inp, "resize", size=57, interpolation="bilinear", max_size=80, antialias=True)
        add(inp, "center_crop", size=[63, 80])
        add(inp, "center_crop", size=[140, 160])
        add(inp, "crop", top=-5, left=7, height=40, width=61)
        for mode, fill in [("constant", 0), ("constant", 7), ("edge", 0), ("reflect", 0), ("symmetric", 0)]:
            add(inp, "pad", padding=[3, 5, 2, 7], fill=fill, mode=mode)
        add(inp, "hflip")
        add(inp, "vflip")
        for interp in ["nearest", "bilinear"]:
            add(inp, "rotate", angle=33.0, interpolation=interp, expand=False, center=None, fill=None)
            add(inp, "rotate", angle=-71.5, interpolation=interp, expand=True, center=None, fill=[0.5])
            add(inp, "rotate", angle=90.0, interpolation=interp, expand=False, center=[10, 20], fill=None)
            add(inp, "affine", angle=12.0, translate=[5, -3], scale=0.8, shear=[7.0, -4.0], interpolation=interp,
                fill=None, center=None)
        add(inp, "gaussian_blur", kernel_size=[5, 5], sigma=[1.2, 1.2])
        add(inp, "gaussian_blur", kernel_size=[3, 7], sigma=[0.4, 2.5])
        add(inp, "adjust_brightness", factor=1.37)
        add(inp, "adjust_brightness", factor=0.41)
        add(inp, "adjust_contrast", factor=1.6)
        add(inp, "adjust_contrast", factor=0.3)
        add(inp, "adjust_saturation", factor=1.8)
        add(inp, "adjust_saturation", factor=0.2)
        add(inp, "adjust_hue", factor=0.23)
        add(inp, "adjust_hue", factor=-0.4)
        add(inp, "adjust_sharpness", factor=2.5)
        add(inp, "adjust_sharpness", factor=0.2)
        add(inp, "rgb_to_grayscale", num_output_channels=1)
        add(inp, "rgb_to_grayscale", num_output_channels=3)
        add(inp, "invert")
        add(inp, "erase", i=10, j=20, h=30, w=17, v=[0.0])
        add(inp, "resized_crop", top=11, left=20, height=71, width=55, size=[48, 64], interpolation="bilinear")
        add(inp, "resize", size=[260, 311], interpolation="bilinear", max_size=None, antialias=True)  # up
    # The whole 300 x 451 photo: down- and upscaling, rotation, colour.
    add("chelsea", "resize", size=224, interpolation="bilinear", max_size=None, antialias=True)
    add("chelsea", "resize", size=[97, 150], interpolation="bicubic", max_size=None, antialias=True)
    add("chelsea", "resize", size=[311, 460], interpolation="bilinear", max_size=None, antialias=True)
    add("chelsea", "center_crop", size=224)
    add("chelsea", "rotate", angle=17.0, interpolation="bilinear", expand=True, center=None, fill=[0.0])
    add("chelsea", "adjust_hue", factor=0.1)
    add("astronaut", "normalize", mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    add("astronaut", "to_tensor")
    add("astronaut", "convert_image_dtype", dtype="float32")
    add("astronaut", "convert_image_dtype", dtype="uint8")
    return cases


def compose_of_all():
    return T.Compose([
        T.Resize(224), T.Resize((100, 150), interpolation=InterpolationMode.BICUBIC, antialias=False),
        T.Resize(64, max_size=100), T.CenterCrop(224), T.CenterCrop((20, 30)),
        T.RandomCrop(32, padding=4), T.RandomCrop((20, 30), padding=(1, 2), pad_if_needed=True, fill=3,
                                                  padding_mode="reflect"),
        T.RandomResizedCrop(224), T.RandomResizedCrop((64, 48), scale=(0.5, 1.0), ratio=(0.5, 2.0),
                                                      interpolation=InterpolationMode.BICUBIC),
        T.RandomHorizontalFlip(), T.RandomVerticalFlip(0.3),
        T.RandomRotation(30), T.RandomRotation((0, 90), interpolation=InterpolationMode.BILINEAR, expand=True,
                                               center=(3, 4), fill=(1, 2, 3)),
        T.RandomAffine(10), T.RandomAffine(10, translate=(0.1, 0.2), scale=(0.9, 1.1), shear=5,
                                           interpolation=InterpolationMode.BILINEAR, fill=1, center=(1, 2)),
        T.RandomAffine(0, shear=(1, 2, 3, 4)),
        T.GaussianBlur(3), T.GaussianBlur((3, 5), sigma=1.0), T.RandomAdjustSharpness(2.0, p=0.25),
        T.ColorJitter(), T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.ColorJitter((0.5, 1.5), hue=(-0.2, 0.3)),
        T.RandomGrayscale(), T.Grayscale(), T.Grayscale(3), T.RandomInvert(),
        T.RandomErasing(), T.RandomErasing(0.3, scale=(0.1, 0.2), ratio=(0.5, 2.0), value="random"),
        T.RandomErasing(value=(1, 2, 3)),
        T.RandomApply([T.ColorJitter(0.1), T.Compose([T.RandomInvert(), T.Grayscale()])], p=0.8),
        T.RandomChoice([T.RandomInvert(), T.Grayscale()]), T.RandomChoice([T.RandomInvert()], p=[0.3]),
        T.Pad(4), T.Pad((1, 2), fill=1, padding_mode="edge"), T.Pad((1, 2, 3, 4), padding_mode="symmetric"),
        T.ToTensor(), T.ConvertImageDtype(torch.float),
        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])


def moments(xs):
    xs = torch.tensor(xs, dtype=torch.float64)
    return [float(xs.mean()), float(xs.std())]


def param_stats(n=4000):
    """Mean and std of each get_params output over n draws (torch's generator)."""
    torch.manual_seed(0)
    stats = {}
    for (h, w) in [(300, 451), (40, 400)]:
        ps = [T.RandomResizedCrop.get_params(torch.empty(1, h, w), [0.08, 1.0], [3 / 4, 4 / 3]) for _ in range(n)]
        stats[f"rrc_{h}x{w}"] = {k: moments([p[i] for p in ps]) for i, k in enumerate("ijhw")}
    ps = [T.RandomErasing.get_params(torch.empty(3, 64, 48), (0.02, 0.33), (0.3, 3.3), [0.0]) for _ in range(n)]
    stats["erasing_64x48"] = {k: moments([p[i] for p in ps]) for i, k in enumerate("ijhw")}
    ps = [T.RandomAffine.get_params([-10.0, 10.0], [0.1, 0.2], [0.8, 1.2], [-5.0, 5.0, -3.0, 3.0], [451, 300])
          for _ in range(n)]
    stats["affine_451x300"] = {
        "angle": moments([p[0] for p in ps]), "tx": moments([p[1][0] for p in ps]),
        "ty": moments([p[1][1] for p in ps]), "abs_tx": moments([abs(p[1][0]) for p in ps]),
        "scale": moments([p[2] for p in ps]), "shear_x": moments([p[3][0] for p in ps]),
        "shear_y": moments([p[3][1] for p in ps]),
    }
    ps = [T.RandomCrop.get_params(torch.empty(1, 40, 36), (32, 32)) for _ in range(n)]
    stats["crop_40x36"] = {k: moments([p[i] for p in ps]) for i, k in enumerate("ij")}
    stats["n"] = n
    return stats


def photos(out):
    from safetensors.torch import save_file

    inputs = photo_inputs()
    save_file(inputs, f"{out}/inputs.safetensors")
    cases, outputs = [], {}
    for inp, op, a in photo_cases():
        kinds = ["u8", "f32"]
        if op in ("normalize",):
            kinds = ["f32"]
        if op in ("to_tensor",):
            kinds = ["u8"]
        if op == "convert_image_dtype":
            kinds = ["u8"] if a["dtype"] == "float32" else ["f32"]
        for kind in kinds:
            img = inputs[inp]
            if kind == "f32":
                img = img.float() / 255
            name = f"{len(cases):03d}_{op}_{inp}_{kind}"
            outputs[name] = run(op, img, a).clone().contiguous()
            cases.append({"name": name, "input": inp, "kind": kind, "op": op, "args": a})
    save_file(outputs, f"{out}/outputs.safetensors")
    with open(f"{out}/cases.json", "w") as f:
        json.dump(cases, f)
    with open(f"{out}/repr.txt", "w") as f:
        f.write(repr(compose_of_all()))
    with open(f"{out}/stats.json", "w") as f:
        json.dump(param_stats(), f)
    print(len(cases))


if __name__ == "__main__":
    if sys.argv[1] == "photos":
        photos(sys.argv[2])
    else:
        loader_cases(sys.argv[1])
