"""Image files made with PIL from scikit-image's real photos, and what
torchvision.io and PIL read from them, for tests/image_io.rs.

  image_reference.py OUT_DIR

Writes OUT_DIR/files/<name> (PNG: RGB, RGBA, gray, gray+alpha, palette,
palette with tRNS, 1-bit, 16-bit gray; GIF: one frame, animated; WebP:
lossless, lossless with alpha, lossy; BMP; JPEG at quality 90: chelsea,
astronaut, coffee, rocket.jpg as shipped, a grayscale and a CMYK one),
OUT_DIR/ref.safetensors with the reference tensors, and OUT_DIR/cases.json:

  {"files": {name: {
      "format": ..., "torchvision": {MODE: key | {"error": text}},
      "pil": {"mode": ..., "size": [w, h], "convert": {"RGB": key, "L": key, "RGBA": key},
              "pil_to_tensor": key}}},
   "versions": {...}}

uint16 tensors (16-bit PNGs) are stored as int32 with "dtype": "uint16"
noted, since safetensors' U16 has no tch kind.
"""
import json
import os
import sys
import warnings

import numpy as np
import PIL
import skimage
import skimage.data
import torch
import torchvision
from PIL import Image
from safetensors.torch import save_file
from torchvision.io import ImageReadMode, read_image
from torchvision.transforms.functional import pil_to_tensor

warnings.filterwarnings("ignore")

out = sys.argv[1]
files = os.path.join(out, "files")
os.makedirs(files, exist_ok=True)
data_dir = os.path.dirname(skimage.__file__) + "/data"


def small(a, size=(96, 72)):
    """A PIL image of array `a` resized (LANCZOS) to `size`, so tests stay fast."""
    return Image.fromarray(a).resize(size, Image.LANCZOS)


chelsea = small(skimage.data.chelsea())
astronaut = small(skimage.data.astronaut(), (80, 80))
coffee = small(skimage.data.coffee(), (100, 75))
camera = small(skimage.data.camera(), (64, 64))

made = {}


def save(name, im, **kw):
    im.save(os.path.join(files, name), **kw)
    made[name] = True


# PNG
save("rgb.png", chelsea)
rgba = chelsea.convert("RGBA")
alpha = np.tile(np.linspace(0, 255, chelsea.size[0]).astype(np.uint8), (chelsea.size[1], 1))
rgba.putalpha(Image.fromarray(alpha))
save("rgba.png", rgba)
save("gray.png", camera)
la = camera.convert("LA")
la.putalpha(Image.fromarray(np.tile(np.linspace(255, 0, 64).astype(np.uint8), (64, 1))))
save("gray_alpha.png", la)
save("palette.png", coffee.convert("P", palette=Image.ADAPTIVE, colors=200))
pt = coffee.convert("P", palette=Image.ADAPTIVE, colors=64)
save("palette_trns.png", pt, transparency=3)
save("palette16.png", coffee.convert("P", palette=Image.ADAPTIVE, colors=16), bits=4)
save("bilevel.png", camera.convert("1"))
g16 = (np.asarray(camera).astype(np.uint16) * 257 + np.arange(64, dtype=np.uint16)[None, :] * 3)
save("gray16.png", Image.fromarray(g16))
# GIF
save("one.gif", astronaut)
frames = [small(skimage.data.chelsea(), (48, 40)).rotate(a) for a in (0, 15, 30)]
frames[0].save(os.path.join(files, "anim.gif"), save_all=True, append_images=frames[1:],
               optimize=False, disposal=1)
made["anim.gif"] = True
# WebP
save("lossless.webp", chelsea, lossless=True)
save("lossless_alpha.webp", rgba, lossless=True)
save("lossy.webp", coffee, quality=80)
save("lossy_alpha.webp", rgba, quality=80)
# BMP
save("rgb.bmp", astronaut)
save("gray.bmp", camera)
save("palette.bmp", coffee.convert("P", palette=Image.ADAPTIVE, colors=100))
# JPEG
save("chelsea.jpg", small(skimage.data.chelsea(), (240, 200)), quality=90)
save("astronaut.jpg", small(skimage.data.astronaut(), (256, 256)), quality=90)
save("coffee.jpg", small(skimage.data.coffee(), (300, 200)), quality=90)
save("gray.jpg", small(skimage.data.camera(), (200, 200)), quality=90)
save("cmyk.jpg", small(skimage.data.chelsea(), (120, 100)).convert("CMYK"), quality=90)
with open(os.path.join(data_dir, "rocket.jpg"), "rb") as f:
    rocket = f.read()
with open(os.path.join(files, "rocket.jpg"), "wb") as f:
    f.write(rocket)
made["rocket.jpg"] = True

tensors = {}
cases = {}


def put(key, t):
    t = t.contiguous()
    if t.dtype == torch.uint16:
        t = t.to(torch.int32)
    tensors[key] = t.clone()
    return key


for name in sorted(made):
    path = os.path.join(files, name)
    case = {"format": name.rsplit(".", 1)[1], "torchvision": {}, "pil": {}}
    for mode in ["UNCHANGED", "GRAY", "GRAY_ALPHA", "RGB", "RGB_ALPHA"]:
        try:
            t = read_image(path, getattr(ImageReadMode, mode))
            case["torchvision"][mode] = {"key": put(f"{name}/tv/{mode}", t), "dtype": str(t.dtype)}
        except Exception as e:  # noqa: BLE001 - the message is the reference
            case["torchvision"][mode] = {"error": str(e).splitlines()[0][:200]}
    im = Image.open(path)
    case["pil"]["mode"] = im.mode
    case["pil"]["size"] = list(im.size)
    case["pil"]["n_frames"] = getattr(im, "n_frames", 1)
    conv = {}
    for target in ["RGB", "L", "RGBA"]:
        c = Image.open(path).convert(target)
        conv[target] = put(f"{name}/pil/{target}", pil_to_tensor(c))
    case["pil"]["convert"] = conv
    try:
        case["pil"]["pil_to_tensor"] = put(f"{name}/pil/tensor", pil_to_tensor(Image.open(path)))
    except Exception as e:  # noqa: BLE001
        case["pil"]["pil_to_tensor"] = {"error": str(e)[:200]}
    cases[name] = case

# A real photo cut in half: PIL and torchvision refuse it as truncated.
half = os.path.join(files, "rocket_half.jpg")
with open(half, "wb") as f:
    f.write(rocket[: len(rocket) // 2])
refused = {}
try:
    Image.open(half).load()
    refused["PIL"] = None
except Exception as e:  # noqa: BLE001
    refused["PIL"] = str(e)
try:
    read_image(half)
    refused["torchvision"] = None
except Exception as e:  # noqa: BLE001
    refused["torchvision"] = str(e).splitlines()[0]

# to_pil_image of a float and a uint8 tensor, back through pil_to_tensor.
from torchvision.transforms.functional import to_pil_image  # noqa: E402

g = torch.Generator().manual_seed(0)
x = torch.rand(3, 5, 7, generator=g)
put("to_pil/float", x)
put("to_pil/float/back", pil_to_tensor(to_pil_image(x)))
x1 = torch.rand(1, 4, 6, generator=g)
put("to_pil/float1", x1)
put("to_pil/float1/back", pil_to_tensor(to_pil_image(x1)))

save_file(tensors, os.path.join(out, "ref.safetensors"))
with open(os.path.join(out, "cases.json"), "w") as f:
    json.dump({
        "files": cases,
        "refused": {"rocket_half.jpg": refused},
        "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                     "PIL": PIL.__version__, "skimage": skimage.__version__},
    }, f, indent=1)
print(json.dumps({"files": len(cases), "tensors": len(tensors)}))
