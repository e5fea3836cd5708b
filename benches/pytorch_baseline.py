"""The lecture's PyTorch MNIST training, timed: the baseline cnn_lab is measured against.

  .venv/bin/python benches/pytorch_baseline.py --variant dataloader|preloaded
      [--threads N] [--epochs E] [--max-batches B] [--batch-size 256]
      [--data ROOT] [--scratch DIR] [--seed S] [--device cpu|cuda]
      [--adam default|fused] [--cudnn-benchmark on|off]

`dataloader` is the lecture's code as written: torchvision `MNIST(root,
transform=ToTensor())`, `DataLoader(batch_size=256, shuffle=True)` for
training and `shuffle=False` for the test split, `MnistCNNModel(0.3)`, Adam
1e-3, `CrossEntropyLoss`, and its `fit`: per epoch one training pass, then
`test_multi_classification` over the train and the validation (test) split
in eval mode under `no_grad` (loss = mean of the batch losses, accuracy =
correct / N). `preloaded` runs the same model, loop and evaluation with the
whole split in one float tensor, batches sliced from it (a shuffled copy
per epoch).

torchvision reads the unzipped IDX files from ROOT/MNIST/raw; the `.gz`
files of the datasets root (`--data`, else `$CNN_LAB_DATA`, else
../shared/datasets) are unzipped once into `--scratch` (default
target/bench-data), never beside the originals.

With `--max-batches B` the training pass and each re-evaluation stop after B
batches (the epoch figures are then partial epochs); the test-set
evaluation always covers all 10,000 images. With `--device cuda` the model
is on the GPU; `dataloader` moves each batch there as the lecture does,
`preloaded` keeps both splits on the GPU. Prints one JSON object per line:
one per epoch (`"kind": "epoch"`) and a summary (`"kind": "summary"`) with
train images/s, seconds per pass, test-set evaluation seconds and the
process's peak RSS (getrusage).
"""
import argparse
import gzip
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.transforms import ToTensor

# The lecture's model and evaluation function, shared with the interop tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "python"))
from interop_models import MnistCNNModel, test_multi_classification  # noqa: E402

RAW_FILES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


def default_data_root():
    if os.environ.get("CNN_LAB_DATA"):
        return Path(os.environ["CNN_LAB_DATA"])
    return Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


def unzipped_copy(data_root, scratch):
    """ROOT for torchvision: scratch/MNIST/raw with the unzipped IDX files."""
    raw = scratch / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in RAW_FILES:
        dst = raw / name
        if dst.exists():
            continue
        tmp = raw / f"{name}.{os.getpid()}.part"  # two runs at once must not share it
        with gzip.open(data_root / "MNIST" / "raw" / (name + ".gz")) as src, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out)
        tmp.rename(dst)
    return scratch


class Limited:
    """The first `limit` batches of a loader (all of them when limit is None)."""

    def __init__(self, loader, limit):
        self.loader, self.limit = loader, limit
        n = len(loader.dataset)
        if limit is not None:
            n = min(n, limit * loader.batch_size)
        # What the lecture's test function divides the correct count by.
        self.dataset = range(n)

    def __iter__(self):
        for i, batch in enumerate(self.loader):
            if self.limit is not None and i >= self.limit:
                return
            yield batch

    def __len__(self):
        n = len(self.loader)
        return n if self.limit is None else min(n, self.limit)


class Preloaded:
    """The split as one float tensor [N, 1, 28, 28] in [0, 1] and labels [N];
    batches are slices (of a shuffled copy when `shuffle`)."""

    def __init__(self, dataset, batch_size, shuffle, device="cpu"):
        self.x = dataset.data.unsqueeze(1).float().div_(255).to(device)
        self.y = dataset.targets.clone().to(device)
        self.dataset = self.y
        self.batch_size, self.shuffle = batch_size, shuffle

    def __iter__(self):
        x, y = self.x, self.y
        if self.shuffle:
            perm = torch.randperm(len(y), device=y.device)
            x, y = x[perm], y[perm]
        for i in range(0, len(y), self.batch_size):
            yield x[i : i + self.batch_size], y[i : i + self.batch_size]

    def __len__(self):
        return (len(self.y) + self.batch_size - 1) // self.batch_size


def train(dataloader, model, loss_fn, optimizer, device="cpu"):
    """The lecture's training pass; returns (mean batch loss, images seen)."""
    model.train()
    total, seen = 0.0, 0
    for X, y in dataloader:
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
        seen += len(y)
    return total / len(dataloader), seen


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", choices=["dataloader", "preloaded"], default="dataloader")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--max-batches", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--data", type=Path, default=default_data_root())
    ap.add_argument("--scratch", type=Path,
                    default=Path(__file__).resolve().parent.parent / "target" / "bench-data")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--adam", choices=["default", "fused"], default="default",
                    help="torch.optim.Adam's implementation: its default (foreach on a GPU, "
                         "a for-loop on the CPU) or fused=True")
    ap.add_argument("--cudnn-benchmark", choices=["on", "off"], default="on",
                    help="torch.backends.cudnn.benchmark on a GPU (libtorch's own default is off)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = args.device
    if device == "cuda":
        if not torch.cuda.is_available():
            sys.exit("--device cuda: torch.cuda.is_available() is False")
        torch.backends.cudnn.benchmark = args.cudnn_benchmark == "on"
    root = unzipped_copy(args.data, args.scratch)

    t0 = time.perf_counter()
    train_set = datasets.MNIST(root, train=True, download=False, transform=ToTensor())
    test_set = datasets.MNIST(root, train=False, download=False, transform=ToTensor())
    if args.variant == "dataloader":
        train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
        test_loader = DataLoader(test_set, batch_size=args.batch_size, shuffle=False)
    else:
        train_loader = Preloaded(train_set, args.batch_size, shuffle=True, device=device)
        test_loader = Preloaded(test_set, args.batch_size, shuffle=False, device=device)
    train_limited = Limited(train_loader, args.max_batches)
    val_limited = Limited(test_loader, args.max_batches)
    test_full = Limited(test_loader, None)
    load_s = time.perf_counter() - t0

    model = MnistCNNModel(0.3).to(device)
    loss_fn = nn.CrossEntropyLoss()
    fused = {"fused": True} if args.adam == "fused" else {}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **fused)

    name = f"pytorch-{args.variant}"
    common = {"impl": name, "device": device, "threads": torch.get_num_threads(),
              "batch_size": args.batch_size, "max_batches": args.max_batches,
              "adam": args.adam, "cuda_graph": False,
              "cudnn_benchmark": device == "cuda" and args.cudnn_benchmark == "on"}
    rates, train_s, reeval_s, epoch_s = [], [], [], []
    for epoch in range(1, args.epochs + 1):
        t = time.perf_counter()
        _, seen = train(train_limited, model, loss_fn, optimizer, device)
        t_train = time.perf_counter() - t
        train_loss, train_acc = test_multi_classification(train_limited, model, loss_fn, device)
        val_loss, val_acc = test_multi_classification(val_limited, model, loss_fn, device)
        t_epoch = time.perf_counter() - t
        rates.append(seen / t_train)
        train_s.append(t_train)
        reeval_s.append(t_epoch - t_train)
        epoch_s.append(t_epoch)
        print(json.dumps({**common, "kind": "epoch", "epoch": epoch, "train_images": seen,
                          "train_pass_s": t_train, "reeval_s": t_epoch - t_train,
                          "epoch_s": t_epoch, "train_loss": train_loss, "train_acc": train_acc,
                          "val_loss": val_loss, "val_acc": val_acc}), flush=True)

    t = time.perf_counter()
    test_loss, test_acc = test_multi_classification(test_full, model, loss_fn, device)
    test_s = time.perf_counter() - t
    print(json.dumps({**common, "kind": "summary", "load_s": load_s,
                      "train_images_per_s": sum(rates) / len(rates),
                      "train_pass_s": sum(train_s) / len(train_s),
                      "reeval_s": sum(reeval_s) / len(reeval_s),
                      "epoch_s": sum(epoch_s) / len(epoch_s),
                      "test_eval_s": test_s, "test_loss": test_loss, "test_acc": test_acc,
                      "val_acc": val_acc, "peak_rss_mb": peak_rss_mb()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
