"""Writes DIR/mnist_cnn_model.pth the way the lecture's PyTorch notebook saves
its model: torch.save(model, path) of the lecture's MnistCNNModel class,
defined in __main__ as the notebook defines it (a pickle of the whole module).

    python scripts/make_seed_pth.py [DIR]      # default: notebooks/saved_models

The weights are the ones mnist_cnn.ipynb saved (DIR/mnist_cnn_model.safetensors,
loaded into the PyTorch class with strict=True) when that file exists; without
it, PyTorch trains the model itself for BATCHES batches (CNN_LAB_SEED_BATCHES,
default 300) of 64 MNIST training images. Run by scripts/notebooks.py before
notebooks/mnist_cnn_inference.ipynb, whose .pth cells read the file.
"""
import gzip
import os
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent


class MnistCNNModel(nn.Module):
    """The lecture's model, as its notebook writes it."""

    def __init__(self, dropout_rate=0.3):
        super().__init__()
        self.b1 = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, stride=1, padding="same"),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Dropout(p=dropout_rate),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.b2 = nn.Sequential(
            nn.Conv2d(32, 64, kernel_size=3, stride=1, padding="same"),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.Dropout(p=dropout_rate),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.b3 = nn.Sequential(
            nn.Conv2d(64, 128, kernel_size=3, stride=1, padding="same"),
            nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.Dropout(p=dropout_rate),
            nn.MaxPool2d(kernel_size=2, stride=2, padding=1),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_features=128 * 4 * 4, out_features=256),
            nn.ReLU(),
            nn.Dropout(p=dropout_rate),
            nn.Linear(in_features=256, out_features=10),
        )

    def forward(self, x):
        return self.classifier(self.b3(self.b2(self.b1(x))))


def train_images(n):
    root = Path(os.environ.get("CNN_LAB_DATA", ROOT / "data")) / "MNIST" / "raw"
    with gzip.open(root / "train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)
    with gzip.open(root / "train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = torch.from_numpy(images[: n * 784].copy()).float().view(-1, 1, 28, 28) / 255.0
    return x, torch.from_numpy(labels[:n].copy()).long()


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "notebooks" / "saved_models"
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = MnistCNNModel(dropout_rate=0.3)
    trained = out / "mnist_cnn_model.safetensors"
    if trained.exists():
        from safetensors.torch import load_file

        model.load_state_dict(load_file(trained), strict=True)
        source = f"weights from {trained.name}"
    else:
        batches = int(os.environ.get("CNN_LAB_SEED_BATCHES", "300"))
        x, y = train_images(batches * 64)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        for i in range(0, len(x), 64):
            loss = nn.functional.cross_entropy(model(x[i : i + 64]), y[i : i + 64])
            opt.zero_grad()
            loss.backward()
            opt.step()
        source = f"trained by PyTorch for {batches} batches"
    model.eval()
    path = out / "mnist_cnn_model.pth"
    torch.save(model, path)  # the lecture's own line
    print(f"{path} ({source})")


if __name__ == "__main__":
    main()
