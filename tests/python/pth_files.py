"""PyTorch side of the .pth tests (tests/checkpoint_pth.rs).

  pth_files.py write OUT DATASETS
      train the lecture's MnistCNNModel (defined here, in __main__, as the
      seed's notebook defines it) two batches and write into OUT every kind
      of file torch.save makes of it, each with the logits PyTorch computes
      from exactly what the file holds (eval mode, first 1,000 test images):
        state_dict.pth     torch.save(model.state_dict())
        whole_model.pth    torch.save(model)            (the seed's way)
        checkpoint.pth     the "general checkpoint" recipe's dict
        cuda_tagged.pth    state dict whose storages say 'cuda:0'
        float16.pth        state dict in float16
        views.pth          every float tensor a view (offset, strides) of one storage
        dtypes.pth         a dict of float32/float64/float16/bfloat16/int64/bool tensors,
                           shared storages and non-tensor values; dtypes.safetensors the same
        os_system.pth      a pickle that calls os.system (payload: touch OUT/ran_os_system)
        builtins_eval.pth  a pickle that REDUCEs builtins.eval (payload creates OUT/ran_eval)
        legacy_*.pth       state_dict.pth / whole_model.pth in the pre-1.6 format
        torchscript.pt     torch.jit.save of a scripted Linear (not torch.save's format)
      and float32.logits.safetensors / float16.logits.safetensors: the logits of
      the float32 weights (all files but float16.pth hold exactly those values)
      and of the float16 ones.
  pth_files.py small OUT
      fuzz_model.pth: torch.save of a small whole module (Conv2d, BatchNorm2d,
      Linear in a Sequential), and fuzz_checkpoint.pth: a general checkpoint
      of it with its Adam state, and fuzz_legacy.pth: the module in the pre-1.6
      format: the seeds of tests/checkpoint_pth_fuzz.rs.
  pth_files.py check WEIGHTS DATASETS LOGITS_OUT
      torch.load(WEIGHTS, weights_only=True) + load_state_dict(strict=True);
      print loss/accuracy/keys of test_multi_classification on 1,000 test images.
  pth_files.py show FILE
      print torch.load(FILE, weights_only=True) as Python's repr, each tensor
      shown as 'T(dtype, shape, sum)' and each OrderedDict as ('OrderedDict', {…}).
  pth_files.py run-payload FILE
      unpickle FILE's data.pkl with Python's own pickle (which runs it), to
      show the payload is live.
"""
import io
import os
import pickle
import sys
import zipfile
from collections import OrderedDict

import torch
from safetensors.torch import save_file
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from interop_models import MnistCNNModel, mnist, test_multi_classification


# The seed's class, as its notebook defines it: in __main__, so that
# torch.save(model) names it `__main__.MnistCNNModel` exactly as the seed's
# file does (pickle finds it here, in this script's namespace).
MnistCNNModel.__module__ = "__main__"


def trained(root):
    torch.manual_seed(0)
    model = MnistCNNModel()
    x, y = mnist(root, True, 256)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for i in range(0, 256, 128):
        loss = nn.functional.cross_entropy(model(x[i : i + 128]), y[i : i + 128])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model, opt


def logits_of(state_dict, root, out):
    """Logits of a fresh float32 model loaded with exactly `state_dict`."""
    model = MnistCNNModel()
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    x, _ = mnist(root, False, 1000)
    with torch.no_grad():
        save_file({"logits": model(x).contiguous()}, out)


def views_of(sd):
    """The same values, every float tensor a view into one shared storage;
    Linear weights transposed views (strides (1, rows))."""
    floats = [k for k, v in sd.items() if v.is_floating_point()]
    parts = []
    for k in floats:
        v = sd[k]
        parts.append(v.t().contiguous().flatten() if v.dim() == 2 else v.flatten())
    flat = torch.cat([torch.zeros(7)] + parts)  # offset 7 before the first tensor
    out, at = {}, 7
    for k, v in sd.items():
        if k not in floats:
            out[k] = v.clone()
            continue
        n = v.numel()
        piece = flat[at : at + n]
        out[k] = piece.view(v.shape[1], v.shape[0]).t() if v.dim() == 2 else piece.view(v.shape)
        at += n
    assert all(torch.equal(out[k], sd[k]) for k in sd)
    return out


def evil(path, pickle_bytes):
    """A torch.save-shaped archive whose data.pkl is `pickle_bytes`."""
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(1)}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = pickle_bytes if info.filename.endswith("/data.pkl") else src.read(info)
            dst.writestr(info.filename, data)


def unicode_op(s):
    b = s.encode()
    return b"X" + len(b).to_bytes(4, "little") + b


def write(out, root):
    os.makedirs(out, exist_ok=True)
    model, opt = trained(root)
    sd = model.state_dict()

    torch.save(sd, f"{out}/state_dict.pth")
    logits_of(sd, root, f"{out}/float32.logits.safetensors")

    torch.save(model, f"{out}/whole_model.pth")

    torch.save(
        {
            "epoch": 2,
            "model_state_dict": sd,
            "optimizer_state_dict": opt.state_dict(),
            "loss": 0.5,
            "history": {"train_loss": [2.3, 1.1], "note": "two batches"},
        },
        f"{out}/checkpoint.pth",
    )

    real_tag = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: "cuda:0"
    try:
        torch.save(sd, f"{out}/cuda_tagged.pth")
    finally:
        torch.serialization.location_tag = real_tag
    assert b"cuda:0" in zipfile.ZipFile(f"{out}/cuda_tagged.pth").read("cuda_tagged/data.pkl")

    half = {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}
    torch.save(half, f"{out}/float16.pth")
    logits_of(half, root, f"{out}/float16.logits.safetensors")

    views = views_of(sd)
    torch.save(views, f"{out}/views.pth")

    base = torch.arange(12, dtype=torch.float32)
    dtypes = {
        "f32": torch.randn(3, 4),
        "f64": torch.randn(5, dtype=torch.float64),
        "f16": torch.randn(2, 3).half(),
        "bf16": torch.randn(4).bfloat16(),
        "i64": torch.tensor([-(2**40), 0, 7]),
        "bool": torch.tensor([True, False, True]),
        "shared_a": base,
        "shared_b": base,
        "shared_tail": base[5:].view(7),
        "shared_cols": base.view(3, 4)[:, 1],
        "scalar": torch.tensor(2.5),
    }
    torch.save(dtypes, f"{out}/dtypes.pth")
    save_file({k: v.contiguous().clone() for k, v in dtypes.items()}, f"{out}/dtypes.safetensors")

    torch.save(sd, f"{out}/legacy_state_dict.pth", _use_new_zipfile_serialization=False)
    torch.save(model, f"{out}/legacy_whole_model.pth", _use_new_zipfile_serialization=False)

    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), f"{out}/torchscript.pt")

    os_system = (
        b"\x80\x02cos\nsystem\n"
        + unicode_op(f"touch {out}/ran_os_system")
        + b"\x85R."
    )
    evil(f"{out}/os_system.pth", os_system)
    builtins_eval = (
        b"\x80\x02c__builtin__\neval\n"
        + unicode_op(f"open({out + '/ran_eval'!r}, 'w').close()")
        + b"\x85R."
    )
    evil(f"{out}/builtins_eval.pth", builtins_eval)
    print("written")


def small(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 1, 4, 4)).sum().backward()
    opt.step()
    torch.save(model, f"{out}/fuzz_model.pth")
    torch.save(
        {"epoch": 1, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict()},
        f"{out}/fuzz_checkpoint.pth",
    )
    torch.save(model, f"{out}/fuzz_legacy.pth", _use_new_zipfile_serialization=False)
    print("written")


def check(weights, root, logits_out):
    torch.manual_seed(0)
    model = MnistCNNModel()
    model.load_state_dict(torch.load(weights, weights_only=True), strict=True)
    model.eval()
    x, y = mnist(root, False, 1000)
    with torch.no_grad():
        save_file({"logits": model(x).contiguous()}, logits_out)
    loader = DataLoader(TensorDataset(x, y), batch_size=256)
    loss, acc = test_multi_classification(loader, model, nn.CrossEntropyLoss())
    print(f"loss {loss!r}")
    print(f"accuracy {acc!r}")
    print("keys " + ",".join(model.state_dict().keys()))


def show(path):
    def plain(v):
        if isinstance(v, torch.Tensor):
            return f"T({v.dtype}, {list(v.shape)}, {v.double().sum().item()})"
        if isinstance(v, OrderedDict):  # its repr differs between Python versions
            return ("OrderedDict", {plain(k): plain(x) for k, x in v.items()})
        if isinstance(v, dict):
            return {plain(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(plain(x) for x in v)
        return v

    print(repr(plain(torch.load(path, weights_only=True))).replace('"', "'"))


def run_payload(path):
    z = zipfile.ZipFile(path)
    name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
    pickle.loads(z.read(name))  # runs the payload: this is the point
    print("ran")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "write":
        write(sys.argv[2], sys.argv[3])
    elif cmd == "small":
        small(sys.argv[2])
    elif cmd == "show":
        show(sys.argv[2])
    elif cmd == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        run_payload(sys.argv[2])
