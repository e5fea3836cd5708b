"""The course's fine-tune of a frozen body in PyTorch, for tests/train_frozen_features.rs.

    python frozen_features_reference.py DIR

Reads DIR/input.safetensors (the model's initial weights under their
state_dict names, and the data: train_x, train_y, val_x, val_y), trains a
VGG-shaped model (a frozen `features` body, `avgpool`, flatten, and a
trainable `classifier` with a Dropout of 0) with the lecture's `fit`: per
epoch one training pass, then `test_multi_classification` over the training
and the validation loader. Adam(lr=1e-3), CrossEntropyLoss, batch 8, no
shuffling, 3 epochs, one torch thread. Writes DIR/reference.json (the four
histories) and DIR/trained.safetensors (the final state_dict).
"""
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

# The lecture's evaluation function, shared with the interop tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from interop_models import test_multi_classification  # noqa: E402


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(32, 16), nn.ReLU(inplace=True), nn.Dropout(0.0), nn.Linear(16, 3),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def train(dataloader, model, loss_fn, optimizer, device="cpu"):
    """The lecture's training pass."""
    model.train()
    for X, y in dataloader:
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def fit(train_loader, val_loader, model, loss_fn, optimizer, epochs):
    """The lecture's fit, without saving: train, then re-evaluate both sets."""
    history = {"train_loss": [], "train_accuracy": [], "val_loss": [], "val_accuracy": []}
    for _ in range(epochs):
        train(train_loader, model, loss_fn, optimizer)
        tl, ta = test_multi_classification(train_loader, model, loss_fn)
        vl, va = test_multi_classification(val_loader, model, loss_fn)
        for k, v in zip(history, (tl, ta, vl, va)):
            history[k].append(v)
    return history


def main():
    out = Path(sys.argv[1])
    torch.set_num_threads(1)
    tensors = load_file(out / "input.safetensors")
    model = Net()
    state = {k: tensors[k] for k in model.state_dict()}
    model.load_state_dict(state)
    model.features.requires_grad_(False)
    train_loader = DataLoader(TensorDataset(tensors["train_x"], tensors["train_y"]), batch_size=8)
    val_loader = DataLoader(TensorDataset(tensors["val_x"], tensors["val_y"]), batch_size=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = fit(train_loader, val_loader, model, nn.CrossEntropyLoss(), optimizer, 3)
    (out / "reference.json").write_text(json.dumps(history))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out / "trained.safetensors")


if __name__ == "__main__":
    main()
