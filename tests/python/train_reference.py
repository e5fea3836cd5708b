"""The lecture's fit loop in PyTorch, for comparison with cnn_lab's `fit`.

  train_reference.py DATASETS INIT_WEIGHTS EPOCHS

Loads TinyCnn from INIT_WEIGHTS (safetensors), then per epoch: one training
pass (SGD lr 0.05, the first 1,024 MNIST train images in order, batch 256),
then the lecture's test_multi_classification over the train set and over the
first 600 test images (batch 256: the last batch has 88). Prints one line per
epoch: `train_loss train_acc val_loss val_acc` as Python reprs.
"""
import sys

import torch
from safetensors.torch import load_file
from torch.utils.data import DataLoader, TensorDataset

from interop_models import TinyCnn, mnist, test_multi_classification


def main():
    root, init, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    model = TinyCnn()
    model.load_state_dict(load_file(init), strict=True)
    train_loader = DataLoader(TensorDataset(*mnist(root, True, 1024)), batch_size=256)
    val_loader = DataLoader(TensorDataset(*mnist(root, False, 600)), batch_size=256)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(epochs):
        model.train()
        for X, y in train_loader:
            pred = model(X)
            loss = loss_fn(pred, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        tl, ta = test_multi_classification(train_loader, model, loss_fn)
        vl, va = test_multi_classification(val_loader, model, loss_fn)
        print(repr(tl), repr(ta), repr(vl), repr(va))


if __name__ == "__main__":
    main()
