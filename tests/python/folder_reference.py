"""Reference values from torchvision's ImageFolder and torch's random_split for
tests/data_folder.rs.

usage: folder_reference.py OUT_DIR

Writes, under OUT_DIR (which it creates):
  tree/    a folder of small photos (16x16, from scikit-image's samples) with odd
           class names (spaces, unicode, digits, dots), mixed and upper-case
           extensions, non-image files, nested sub-folders whose names sort
           around '/', a symbolic link to a class folder, and `.ipynb_checkpoints`
           folders (at the top, as Jupyter leaves them, and inside a class);
  clean/   the same tree without its hidden folders;
  no_class/, empty_class/   folders torchvision refuses;
  mixed/   one class with photos of two sizes;
  fit/     two classes (cat, coffee) of 16x16 crops to train on;
  ref.json torchvision's view of them: ImageFolder(clean) (classes, class_to_idx,
           samples as paths relative to clean/, targets), the errors it raises on
           tree/, no_class/ and empty_class/, and random_split cases;
  pixels.safetensors  every PNG sample of clean/ as pil_loader + PILToTensor gives it
           (uint8 [3, H, W]), keyed by its relative path.
"""
import json
import os
import shutil
import sys

import numpy as np
import skimage.data
import torch
from PIL import Image
from safetensors.torch import save_file
from torch.utils.data import random_split
from torchvision import datasets, transforms

out = sys.argv[1]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)

photos = {
    "chelsea": skimage.data.chelsea(),
    "coffee": skimage.data.coffee(),
    "astronaut": skimage.data.astronaut(),
    "rocket": skimage.data.rocket(),
    "camera": skimage.data.camera(),
}


def crop(name, k, size=(16, 16)):
    """A size[0] x size[1] (width x height) PIL image: a window of photo `name`
    that moves with k, shrunk."""
    a = photos[name]
    h, w = a.shape[:2]
    side = min(h, w) // 2
    y = (k * 37) % (h - side)
    x = (k * 53) % (w - side)
    return Image.fromarray(a[y : y + side, x : x + side]).resize(size, Image.BILINEAR)


def save(path, image):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ext = os.path.splitext(path)[1].lower()
    fmt = {
        ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF",
        ".tiff": "TIFF", ".ppm": "PPM", ".pgm": "PPM", ".webp": "WEBP",
    }[ext]
    if ext == ".pgm":
        image = image.convert("L")
    elif ext in (".ppm", ".jpg", ".jpeg", ".bmp"):
        image = image.convert("RGB")
    image.save(path, format=fmt)


def touch(path, text="not an image\n"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


tree = os.path.join(out, "tree")
files = {
    "cat": ["img 1.PNG", "IMG_2.jpg", "3.JpEg", "10.png", "2.png", ".hidden.png", "a.BMP",
            "b.tiff", "c.TIF", "d.ppm", "e.pgm", "f.webp", "gray.png"],
    "cat/sub": ["inner.png"],
    "cat/sub/deeper": ["v.png"],
    "cat/sub b": ["x.png"],
    "cat/sub-b": ["y.png"],
    "cat/sub.b": ["z.png"],
    "cat/sub0": ["w.png"],
    "cat/Sub": ["upper.png"],
    "Dog": ["dog.png", "Dog.PNG", "_dog.png"],
    "10 apples": ["1.png"],
    "2.5 pears": ["pear.jpeg"],
    "émigré": ["é.png", "e.png", "z.png"],
    "ünïcode 猫": ["猫.png", "neko.png"],
    "a b": ["1.png"],
    "a-b": ["1.png"],
    "a.b": ["1.png"],
    "a_b": ["1.png"],
    "Zebra": ["stripes.png"],
}
names = list(photos)
k = 0
for folder, fs in files.items():
    for f in fs:
        k += 1
        image = crop("camera" if f.startswith("gray") else names[k % 4], k)
        save(os.path.join(tree, folder, f), image)
# Files that are not images, by torchvision's extension list.
for f in ["cat/notes.txt", "cat/photo.png.bak", "cat/anim.gif", "Dog/Thumbs.db", "Dog/png",
          "a b/.DS_Store", "README.md"]:
    touch(os.path.join(tree, f))
# A link to a class folder is a class (scandir's is_dir follows links).
os.symlink("Zebra", os.path.join(tree, "zebra link"))
# Jupyter's checkpoints: a top-level one holds no image (torchvision refuses
# the folder for it), one inside a class holds an image torchvision would take.
touch(os.path.join(tree, ".ipynb_checkpoints", "notes-checkpoint.ipynb"), "{}")
save(os.path.join(tree, "Dog", ".ipynb_checkpoints", "dog-checkpoint.png"), crop("chelsea", 99))
save(os.path.join(tree, ".git", "objects", "blob.png"), crop("chelsea", 98))

ref = {}
try:
    datasets.ImageFolder(tree)
    ref["tree_error"] = None
except FileNotFoundError as e:
    ref["tree_error"] = str(e)

clean = os.path.join(out, "clean")
shutil.copytree(
    tree,
    clean,
    symlinks=True,
    ignore=lambda d, entries: [e for e in entries if e.startswith(".") and os.path.isdir(os.path.join(d, e))],
)
ds = datasets.ImageFolder(clean)
ref["classes"] = ds.classes
ref["class_to_idx"] = ds.class_to_idx
ref["samples"] = [[os.path.relpath(p, clean), c] for p, c in ds.samples]
ref["targets"] = ds.targets
ref["repr"] = repr(ds)
ref["clean"] = clean
# The same samples with the checkpoint inside Dog (what torchvision would add).
os.makedirs(os.path.join(out, "with_nested"))
shutil.copytree(os.path.join(tree, "Dog"), os.path.join(out, "with_nested", "Dog"))
ref["with_nested"] = [os.path.relpath(p, os.path.join(out, "with_nested"))
                      for p, _ in datasets.ImageFolder(os.path.join(out, "with_nested")).samples]

pixels = {}
to_tensor = transforms.PILToTensor()
for rel, _ in ref["samples"]:
    if rel.lower().endswith(".png"):
        pixels[rel] = to_tensor(datasets.folder.pil_loader(os.path.join(clean, rel))).contiguous()
save_file(pixels, os.path.join(out, "pixels.safetensors"))

# Errors.
no_class = os.path.join(out, "no_class")
touch(os.path.join(no_class, "photo.txt"))
save(os.path.join(no_class, "loose.png"), crop("coffee", 1))
empty_class = os.path.join(out, "empty_class")
save(os.path.join(empty_class, "ok", "1.png"), crop("coffee", 2))
touch(os.path.join(empty_class, "zz empty", "notes.txt"))
os.makedirs(os.path.join(empty_class, "b empty"))
ref["errors"] = {}
for name, root in [("no_class", no_class), ("empty_class", empty_class)]:
    try:
        datasets.ImageFolder(root)
        ref["errors"][name] = None
    except FileNotFoundError as e:
        ref["errors"][name] = str(e)
ref["no_class"], ref["empty_class"] = no_class, empty_class

# Photos of two sizes in one class.
mixed = os.path.join(out, "mixed")
for i in range(4):
    save(os.path.join(mixed, "a", f"{i}.png"), crop("astronaut", i, (16, 16) if i != 2 else (20, 12)))
ref["mixed"] = mixed

# Two classes to train on.
fit = os.path.join(out, "fit")
for i in range(24):
    save(os.path.join(fit, "cat", f"{i:02}.png"), crop("chelsea", i))
    save(os.path.join(fit, "coffee", f"{i:02}.png"), crop("coffee", i))
ref["fit"] = fit

# random_split: lengths and the indices of each subset.
ref["splits"] = []
for n, lengths, seed in [
    (10, [0.7, 0.3], 42),
    (11, [0.3, 0.3, 0.4], 0),
    (101, [0.5, 0.25, 0.25], 7),
    (7, [3, 4], 1),
    (1000, [0.8, 0.2], 2**40 + 3),
    (5, [0.2, 0.2, 0.2, 0.2, 0.2], 5),
]:
    parts = random_split(range(n), lengths, generator=torch.Generator().manual_seed(seed))
    ref["splits"].append(
        {"n": n, "lengths": lengths, "seed": seed, "indices": [list(p.indices) for p in parts]}
    )

with open(os.path.join(out, "ref.json"), "w") as f:
    json.dump(ref, f, ensure_ascii=False, indent=1)
