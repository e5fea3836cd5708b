"""Writes the photos the image notebooks use when a learner has none of their own.

    python scripts/make_photos.py [DIR]      # default: notebooks/photos

- DIR/chelsea.png, coffee.png, astronaut.png, rocket.jpg: real photos bundled
  with scikit-image (a cat, a cup of coffee, an astronaut, a rocket launch),
  copied byte for byte from its wheel;
- DIR/faces_vs_nonfaces/{train,validation,test}/{faces,non_faces}/*.png: the
  real two-class set scikit-image bundles as lfw_subset.npy (100 faces from
  Labeled Faces in the Wild, 100 non-face patches, 25x25 gray), split with a
  fixed seed (30 / 20 / 50 of each class) and written as PNG files in the
  layout of the course's cats_and_dogs_filtered folder.

The augmentation and transfer-learning notebooks use a downloaded
cats_and_dogs_filtered folder when there is one (see docs/photos.md) and this
stand-in otherwise. Idempotent: existing files are left as they are.
"""
import shutil
import sys
from pathlib import Path

import numpy as np
import skimage
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SPLITS = (("train", 30), ("validation", 20), ("test", 50))


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "notebooks" / "photos"
    data = Path(skimage.__file__).parent / "data"
    out.mkdir(parents=True, exist_ok=True)
    for name in ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"):
        if not (out / name).exists():
            shutil.copyfile(data / name, out / name)
    folder = out / "faces_vs_nonfaces"
    stamp = folder / ".complete"
    if stamp.exists():
        return
    faces = np.load(data / "lfw_subset.npy")  # (200, 25, 25) in [0, 1]: 100 faces, then 100 non-faces
    rng = np.random.default_rng(0)
    for label, offset in (("faces", 0), ("non_faces", 100)):
        order = offset + rng.permutation(100)
        start = 0
        for split, count in SPLITS:
            target = folder / split / label
            target.mkdir(parents=True, exist_ok=True)
            for k in order[start : start + count]:
                pixels = np.round(faces[k] * 255).astype(np.uint8)
                Image.fromarray(pixels, mode="L").convert("RGB").save(target / f"{label}.{k:03d}.png")
            start += count
    stamp.write_text("written by scripts/make_photos.py\n")
    print(f"make_photos: wrote {folder}")


if __name__ == "__main__":
    main()
