"""PyTorch twins of the models the Rust interop tests use, and MNIST reading.

`TinyCnn` mirrors tests/train_support/mod.rs::TinyCnn; `MnistCNNModel` is the
lecture's model (mirrors cnn_lab::models::MnistCNNModel).
"""
import gzip
from pathlib import Path

import numpy as np
import torch
from torch import nn


class TinyCnn(nn.Module):
    def __init__(self, outputs=10, dropout=0.0):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 14 * 14, outputs)
        self.dropout = dropout

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
        x = nn.functional.dropout(torch.flatten(x, 1), self.dropout, self.training)
        return self.fc(x)


class MnistCNNModel(nn.Module):
    """The lecture's model, as cnn_lab::models::MnistCNNModel builds it."""

    def __init__(self, dropout_rate=0.3):
        super().__init__()

        def block(cin, cout, pool_padding):
            return nn.Sequential(
                nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding="same"),
                nn.BatchNorm2d(cout),
                nn.ReLU(),
                nn.Dropout(p=dropout_rate),
                nn.MaxPool2d(kernel_size=2, stride=2, padding=pool_padding),
            )

        self.b1 = block(1, 32, 0)
        self.b2 = block(32, 64, 0)
        self.b3 = block(64, 128, 1)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_features=128 * 4 * 4, out_features=256),
            nn.ReLU(),
            nn.Dropout(p=dropout_rate),
            nn.Linear(in_features=256, out_features=10),
        )

    def forward(self, x):
        return self.classifier(self.b3(self.b2(self.b1(x))))


MODELS = {"tiny": TinyCnn, "mnist_cnn": MnistCNNModel}


def mnist(root, train, n):
    """First n images ([n,1,28,28] float in [0,1], as ToTensor()) and labels."""
    raw = Path(root) / "MNIST" / "raw"
    prefix = "train" if train else "t10k"
    with gzip.open(raw / f"{prefix}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)
    with gzip.open(raw / f"{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = torch.from_numpy(images[: n * 784].copy()).float().view(-1, 1, 28, 28) / 255.0
    y = torch.from_numpy(labels[:n].copy()).long()
    return x, y


def test_multi_classification(dataloader, model, loss_fn, device="cpu"):
    """The lecture's evaluation function, verbatim in behaviour."""
    model.eval()
    size = len(dataloader.dataset)
    num_steps = len(dataloader)
    test_loss, test_accuracy = 0.0, 0.0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            test_accuracy += torch.sum(pred.argmax(axis=-1) == y).item()
        test_loss /= num_steps
        test_accuracy /= size
    return test_loss, test_accuracy
