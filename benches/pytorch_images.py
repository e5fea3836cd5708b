"""The augmentation lecture's input pipeline in PyTorch, timed: ImageFolder +
Resize((224, 224)) + RandomHorizontalFlip + ToTensor + Normalize through
DataLoader(num_workers=N) with PIL, as the course writes it.

    python benches/pytorch_images.py make FOLDER [--count 400]
    python benches/pytorch_images.py run FOLDER [--workers 2] [--batch-size 32] [--epochs 2]
    python benches/pytorch_images.py stages FOLDER [--batch-size 32]

`make` writes a two-class folder of real photos (JPEG, quality 90, 240-640
pixels a side): random crops of scikit-image's bundled photos, so that
decoding costs what a learner's photos cost. `run` prints one JSON line per
epoch: images per second of a whole pass, the first epoch included.
`stages` times each step on every photo, one at a time in this process
(PIL open + convert, resize, hflip, to_tensor, normalize, then
default_collate of batch-size samples) and prints the mean milliseconds per
photo, one JSON line per stage (crate/examples/bench_images.rs `stages` is
cnn_lab's side).
"""
import argparse
import io
import json
import os
import time
from pathlib import Path

import numpy as np


def make(folder, count):
    import skimage
    from PIL import Image

    data = Path(skimage.__file__).parent / "data"
    sources = [Image.open(data / n).convert("RGB") for n in
               ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg")]
    rng = np.random.default_rng(0)
    for k in range(count):
        src = sources[k % len(sources)]
        w, h = src.size
        cw, ch = int(rng.integers(min(240, w), w + 1)), int(rng.integers(min(240, h), h + 1))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        crop = src.crop((x, y, x + cw, y + ch))
        label = "a" if k % 2 == 0 else "b"
        out = Path(folder) / label
        out.mkdir(parents=True, exist_ok=True)
        crop.save(out / f"{k:05d}.jpg", quality=90)


def run(folder, workers, batch_size, epochs, threads):
    import torch
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    torch.set_num_threads(threads)
    transform = transforms.Compose([
        transforms.Resize((224, 224)),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    dataset = datasets.ImageFolder(folder, transform=transform)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers)
    for epoch in range(epochs):
        start = time.perf_counter()
        n = 0
        for x, y in loader:
            n += x.shape[0]
        seconds = time.perf_counter() - start
        print(json.dumps({"who": f"pytorch DataLoader(num_workers={workers}) + PIL", "epoch": epoch + 1,
                          "images": n, "seconds": round(seconds, 3), "images_per_s": round(n / seconds, 1),
                          "shape": list(x.shape)}), flush=True)


def stages(folder, batch_size, threads):
    import torch
    from torch.utils.data import default_collate
    from torchvision import datasets
    from PIL import Image
    from torchvision.transforms import functional as F

    torch.set_num_threads(threads)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    paths = [p for p, _ in datasets.ImageFolder(folder).samples]
    names = ["file read", "decode (RGB uint8 [3, H, W])", "resize (224, 224)", "hflip", "to_tensor", "normalize"]
    total = [0.0] * 6
    outs = []
    t = time.perf_counter
    for path in paths:
        s = t(); data = open(path, "rb").read(); total[0] += t() - s
        # pil_loader's Image.open(f).convert("RGB"), from the bytes read.
        s = t(); img = Image.open(io.BytesIO(data)).convert("RGB"); total[1] += t() - s
        s = t(); img = F.resize(img, [224, 224]); total[2] += t() - s
        s = t(); img = F.hflip(img); total[3] += t() - s
        s = t(); img = F.to_tensor(img); total[4] += t() - s
        s = t(); img = F.normalize(img, mean, std); total[5] += t() - s
        outs.append((img, 0))
    n = max(len(paths), 1)
    for name, sec in zip(names, total):
        print(json.dumps({"who": "pytorch", "stage": name, "ms_per_image": round(1e3 * sec / n, 3)}))
    s = t()
    for i in range(0, len(outs), batch_size):
        default_collate(outs[i:i + batch_size])
    print(json.dumps({"who": "pytorch", "stage": f"collate (stack {batch_size})",
                      "ms_per_image": round(1e3 * (t() - s) / n, 3)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["make", "run", "stages"])
    p.add_argument("folder")
    p.add_argument("--count", type=int, default=400)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    if a.what == "make":
        make(a.folder, a.count)
    elif a.what == "stages":
        stages(a.folder, a.batch_size, a.threads)
    else:
        run(a.folder, a.workers, a.batch_size, a.epochs, a.threads)


if __name__ == "__main__":
    main()
