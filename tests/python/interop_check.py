"""PyTorch side of the weight-interop tests.

Output lines: `loss <float>`, `accuracy <float>`, `keys <k1>,<k2>,…`.

  interop_check.py load  MODEL DATASETS WEIGHTS LOGITS_OUT
      load WEIGHTS (safetensors from cnn_lab) into MODEL with strict=True and
      write its eval-mode logits on the first 1,000 MNIST test images, plus the
      lecture's test_multi_classification (batch 256) on them.
  interop_check.py train MODEL DATASETS WEIGHTS_OUT LOGITS_OUT
      train MODEL a few batches (seed 0, Adam 1e-3), save its state_dict with
      safetensors.torch.save_file, and write the same logits / figures.
"""
import sys

import torch
from safetensors.torch import load_file, save_file
from torch.utils.data import DataLoader, TensorDataset

from interop_models import MODELS, mnist, test_multi_classification


def report(model, root, logits_out):
    model.eval()
    x, y = mnist(root, False, 1000)
    with torch.no_grad():
        logits = model(x)
    save_file({"logits": logits.contiguous()}, logits_out)
    loader = DataLoader(TensorDataset(x, y), batch_size=256)
    loss, acc = test_multi_classification(loader, model, torch.nn.CrossEntropyLoss())
    return {"loss": loss, "accuracy": acc}


def main():
    cmd, name, root, weights, logits_out = sys.argv[1:6]
    torch.manual_seed(0)
    model = MODELS[name]()
    if cmd == "load":
        model.load_state_dict(load_file(weights), strict=True)
    else:
        x, y = mnist(root, True, 1024)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        for i in range(0, 1024, 256):
            loss = torch.nn.functional.cross_entropy(model(x[i : i + 256]), y[i : i + 256])
            opt.zero_grad()
            loss.backward()
            opt.step()
        save_file(model.state_dict(), weights)
    out = report(model, root, logits_out)
    print(f"loss {out['loss']!r}")
    print(f"accuracy {out['accuracy']!r}")
    print("keys " + ",".join(model.state_dict().keys()))


if __name__ == "__main__":
    main()
