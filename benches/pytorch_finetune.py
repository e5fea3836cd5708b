"""The transfer-learning lecture's fine-tune in PyTorch, timed (the other side of
scripts/bench_finetune.sh; crate/examples/bench_finetune.rs is cnn_lab's).

    python benches/pytorch_finetune.py weights OUT.safetensors --model resnet18|vgg16
    python benches/pytorch_finetune.py run FOLDER --model M --weights FILE [--photos 80]
        [--epochs 3] [--batch-size 16] [--threads 2] [--workers 0] [--augment]
    python benches/pytorch_finetune.py precision [--model resnet18] [--batch-size 16]
        [--threads 2] [--steps 3] [--bodies frozen,trainable]
    python benches/pytorch_finetune.py layouts [--model vgg16] [--batch-size 16]
        [--threads 2] [--rounds 5]
    python benches/pytorch_finetune.py adam [--model vgg16] [--threads 2] [--steps 3]

`weights` builds the lecture's model with random weights (torch.manual_seed(0)):
resnet18 with every parameter frozen and a new `fc = nn.Linear(512, 2)`, or vgg16
with every parameter frozen and a new classifier ending in `nn.Linear(4096, 2)`,
and saves its state_dict, so that both sides start from the same numbers.

`run` is the lecture's code: ImageFolder(FOLDER, transform=Compose([Resize((224,
224)), ToTensor(), Normalize(ImageNet)])), the first PHOTOS samples with the two
classes interleaved, every fifth to validation, DataLoader(batch_size,
shuffle=True) (num_workers=0, the course's default), Adam(lr=1e-3),
CrossEntropyLoss and the course's `fit`: per epoch a training pass, then
`test_multi_classification` over the training and the validation loader
(`--augment`: RandomHorizontalFlip after the resize, training set only). One
JSON line per epoch and one for the run, as bench_finetune.rs prints.

`precision` measures what the augmentation path could use on this CPU, where a
frozen body must run every epoch: a training step (forward in train mode,
backward, SGD step) on a batch of 224x224 images, whole network trainable and
with a frozen body, in float32, channels-last, bfloat16 autocast
(torch.autocast("cpu", dtype=torch.bfloat16)) and both; and how far bfloat16
moves the loss and the logits from float32 over a few steps from the same
weights. One JSON line per configuration.

`layouts` times the frozen body's forward pass alone, fp32 in the default
layout, fp32 channels-last and bfloat16 autocast channels-last, alternated
round by round (see its docstring).

`adam` times one Adam step over the model's trainable parameters (vgg16's new
classifier holds 119.6 M), PyTorch's default and `fused=True`.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, models, transforms

# The lecture's training pass and evaluation function, as the tests run them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "python"))
from frozen_features_reference import train  # noqa: E402
from interop_models import test_multi_classification  # noqa: E402


def lecture_model(name):
    """The lecture's frozen model with a new head."""
    if name == "resnet18":
        model = models.resnet18(weights=None)
        for p in model.parameters():
            p.requires_grad = False
        model.fc = nn.Linear(512, 2)
    elif name == "vgg16":
        model = models.vgg16(weights=None)
        for p in model.parameters():
            p.requires_grad = False
        model.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(4096, 2),
        )
    else:
        raise SystemExit(f"--model {name}: expected resnet18 or vgg16")
    return model


def weights(out, name):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = lecture_model(name)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out)


def split(targets, photos):
    """The first `photos` samples, classes interleaved; every fifth to validation."""
    classes = max(targets) + 1
    by_class = [[i for i, t in enumerate(targets) if t == c] for c in range(classes)]
    longest = max(len(v) for v in by_class)
    picked = [by_class[k % classes][k // classes] for k in range(longest * classes)
              if k // classes < len(by_class[k % classes])][:photos]
    train_idx = [i for k, i in enumerate(picked) if k % 5 != 0]
    val_idx = [i for k, i in enumerate(picked) if k % 5 == 0]
    return train_idx, val_idx


def fit(train_loader, val_loader, model, loss_fn, optimizer, epochs, device="cpu"):
    """The lecture's fit (without saving): per epoch a training pass, then both
    sets re-evaluated; returns the histories and the timings."""
    train_loss_list, train_accuracy_list, val_loss_list, val_accuracy_list = [], [], [], []
    epoch_s, train_pass_s = [], []
    s_time = time.time()
    for epoch in range(epochs):
        start = time.perf_counter()
        train(train_loader, model, loss_fn, optimizer, device=device)
        train_pass_s.append(time.perf_counter() - start)
        train_loss, train_accuracy = test_multi_classification(train_loader, model, loss_fn, device=device)
        val_loss, val_accuracy = test_multi_classification(val_loader, model, loss_fn, device=device)
        epoch_s.append(time.perf_counter() - start)
        train_loss_list.append(train_loss)
        train_accuracy_list.append(train_accuracy)
        val_loss_list.append(val_loss)
        val_accuracy_list.append(val_accuracy)
        print(f"Epoch[{epoch+1}/{epochs}] - Train loss: {train_loss:.5f} Train Accucracy: {train_accuracy:.5f} "
              f"|| Validation Loss: {val_loss:.5f} Validation Accuracy: {val_accuracy:.5f}", file=sys.stderr)
    elapsed = time.time() - s_time
    return (train_loss_list, train_accuracy_list, val_loss_list, val_accuracy_list), epoch_s, train_pass_s, elapsed


def run(a):
    from safetensors.torch import load_file

    torch.set_num_threads(a.threads)
    model = lecture_model(a.model)
    model.load_state_dict(load_file(a.weights))
    def transform(augment):
        flip = [transforms.RandomHorizontalFlip()] if augment else []
        return transforms.Compose([
            transforms.Resize((224, 224)), *flip,
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ])
    train_set = datasets.ImageFolder(a.folder, transform=transform(a.augment))
    val_set = datasets.ImageFolder(a.folder, transform=transform(False))
    train_idx, val_idx = split(train_set.targets, a.photos)
    train_loader = DataLoader(Subset(train_set, train_idx), batch_size=a.batch_size, shuffle=True,
                              num_workers=a.workers)
    val_loader = DataLoader(Subset(val_set, val_idx), batch_size=a.batch_size, num_workers=a.workers)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history, epoch_s, train_pass_s, elapsed = fit(
        train_loader, val_loader, model, nn.CrossEntropyLoss(), optimizer, a.epochs)
    who = f"pytorch fit (DataLoader num_workers={a.workers})" + (" RandomHorizontalFlip" if a.augment else "")
    for e in range(a.epochs):
        print(json.dumps({"who": who, "model": a.model, "epoch": e + 1, "seconds": round(epoch_s[e], 3),
                          "train_pass_s": round(train_pass_s[e], 3),
                          "train_loss": round(history[0][e], 5), "train_accuracy": round(history[1][e], 5),
                          "val_loss": round(history[2][e], 5), "val_accuracy": round(history[3][e], 5)}),
              flush=True)
    print(json.dumps({"who": who, "model": a.model, "total_s": round(elapsed, 3),
                      "train": len(train_idx), "val": len(val_idx)}), flush=True)


def precision(a):
    """Training-step time and bfloat16's drift, per configuration."""
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = torch.rand(a.batch_size, 3, 224, 224)
    y = torch.randint(0, 2, (a.batch_size,))
    base = lecture_model(a.model)
    state = {k: v.clone() for k, v in base.state_dict().items()}
    results = {}
    for frozen in [b == "frozen" for b in a.bodies.split(",")]:
        for channels_last in (False, True):
            for bf16 in (False, True):
                torch.manual_seed(1)
                model = lecture_model(a.model)
                model.load_state_dict(state)
                if not frozen:
                    model.requires_grad_(True)
                fmt = torch.channels_last if channels_last else torch.contiguous_format
                model = model.to(memory_format=fmt)
                xs = x.contiguous(memory_format=fmt)
                opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
                model.train()
                losses, times = [], []
                for step in range(a.steps + 1):
                    start = time.perf_counter()
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                        out = model(xs)
                        loss = nn.functional.cross_entropy(out.float(), y)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    if step > 0:  # the first step warms oneDNN up
                        times.append(time.perf_counter() - start)
                    losses.append(loss.item())
                model.eval()
                with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    logits = model(xs).float()
                key = (frozen, channels_last, bf16)
                results[key] = (losses, logits)
                ref_losses, ref_logits = results[(frozen, False, False)]
                print(json.dumps({
                    "who": "pytorch precision", "model": a.model, "batch": a.batch_size,
                    "body": "frozen" if frozen else "trainable",
                    "channels_last": channels_last, "bf16_autocast": bf16,
                    "step_s": round(sorted(times)[len(times) // 2], 3),
                    "losses": [round(l, 5) for l in losses],
                    "max_loss_diff_vs_fp32": round(max(abs(p - q) for p, q in zip(losses, ref_losses)), 6),
                    "max_logit_diff_vs_fp32": round((logits - ref_logits).abs().max().item(), 5),
                    "same_argmax_vs_fp32": float((logits.argmax(1) == ref_logits.argmax(1)).float().mean()),
                }), flush=True)


def layouts(a):
    """The frozen body's forward pass on a batch of 224x224 images, no
    gradients, the configurations alternated round by round (the load moves):
    fp32 in PyTorch's default layout, fp32 channels-last, bfloat16 autocast
    channels-last. vgg16: `features` (the same in either mode); resnet18:
    everything before `fc`, in train mode (its BatchNorm, as the lecture's fit
    runs it). Median seconds per batch and the output's largest difference
    from fp32, relative to the output's largest magnitude."""
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = lecture_model(a.model)
    if a.model == "vgg16":
        body = model.features.eval()
    else:
        body = nn.Sequential(*list(model.children())[:-1]).train()
    x = torch.rand(a.batch_size, 3, 224, 224)
    state = {k: v.clone() for k, v in body.state_dict().items()}
    configs = [("fp32", False, False), ("fp32 channels-last", True, False),
               ("bf16 autocast channels-last", True, True)]
    times = {c[0]: [] for c in configs}
    outs = {}
    for _ in range(a.rounds):
        for name, channels_last, bf16 in configs:
            body.load_state_dict(state)  # BatchNorm's running statistics as at the start
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            body.to(memory_format=fmt)
            xs = x.contiguous(memory_format=fmt)
            start = time.perf_counter()
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                out = body(xs).float()
            times[name].append(time.perf_counter() - start)
            outs[name] = out
    ref = outs["fp32"]
    for name, _, _ in configs:
        t = sorted(times[name])
        print(json.dumps({"who": "pytorch layouts", "model": a.model, "batch": a.batch_size,
                          "config": name, "median_s": round(t[len(t) // 2], 3),
                          "times_s": [round(v, 3) for v in times[name]],
                          "max_rel_diff_vs_fp32": float(f"{((outs[name] - ref).abs().max() / ref.abs().max()).item():.3g}")}),
              flush=True)


def adam(a):
    """Seconds of one Adam step over the trainable parameters of the lecture's
    model (vgg16's new classifier: 119.6 M), PyTorch's default (foreach) and fused."""
    torch.set_num_threads(a.threads)
    model = lecture_model(a.model)
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    for fused in (False, True):
        opt = torch.optim.Adam(params, lr=1e-3, fused=fused)
        times = []
        for _ in range(a.steps + 1):
            start = time.perf_counter()
            opt.step()
            times.append(time.perf_counter() - start)
        print(json.dumps({"who": "pytorch adam", "model": a.model, "fused": fused,
                          "parameters": sum(p.numel() for p in params),
                          "step_s": round(sorted(times[1:])[len(times[1:]) // 2], 3),
                          "first_step_s": round(times[0], 3)}), flush=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)

    def command(name, model, batch_size=True):
        """A subcommand with --model (default `model`), --threads and, if
        `batch_size`, --batch-size."""
        c = sub.add_parser(name)
        c.add_argument("--model", default=model)
        c.add_argument("--threads", type=int, default=2)
        if batch_size:
            c.add_argument("--batch-size", type=int, default=16)
        return c

    w = sub.add_parser("weights")
    w.add_argument("out")
    w.add_argument("--model", default="resnet18")
    r = command("run", "resnet18")
    r.add_argument("folder")
    r.add_argument("--weights", required=True)
    r.add_argument("--photos", type=int, default=80)
    r.add_argument("--epochs", type=int, default=3)
    r.add_argument("--workers", type=int, default=0)
    r.add_argument("--augment", action="store_true")
    q = command("precision", "resnet18")
    q.add_argument("--steps", type=int, default=3)
    q.add_argument("--bodies", default="frozen,trainable")
    command("layouts", "vgg16").add_argument("--rounds", type=int, default=5)
    command("adam", "vgg16", batch_size=False).add_argument("--steps", type=int, default=3)
    a = p.parse_args()
    {"weights": lambda: weights(a.out, a.model), "run": lambda: run(a), "layouts": lambda: layouts(a),
     "adam": lambda: adam(a), "precision": lambda: precision(a)}[a.what]()


if __name__ == "__main__":
    main()
