#!/usr/bin/env python3
"""Writes cnn_lab's table of torchvision's pretrained weights from the venv's torchvision.

    python scripts/gen_weights_table.py            # rewrites the committed files
    python scripts/gen_weights_table.py --out DIR  # writes them under DIR instead

Two files, paths relative to the repository root (or to DIR):

- crate/src/models/weights/table.rs: one Rust type per torchvision weights enum
  (`ResNet18_Weights`), one `Weights` constant per member (`IMAGENET1K_V1`) and
  `DEFAULT`, with the member's URL, meta (num_params, min_size, categories,
  metrics, recipe, _ops, _file_size) and its `transforms()` preset;
- crate/assets/imagenet_classes.txt: `torchvision.models._meta._IMAGENET_CATEGORIES`,
  one name a line (the weights' `meta["categories"]`).

tests/weights_table.rs runs this with --out and checks the committed files are
what torchvision gives today.
"""

import argparse
import math
import os
import sys

import torchvision
import torchvision.models as M
from torchvision.models._meta import _IMAGENET_CATEGORIES
from torchvision.transforms._presets import ImageClassification

# The builders whose weights cnn_lab lists, in the order the table keeps.
MODELS = [
    "alexnet",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "resnet18", "resnet34", "resnet50", "resnet101",
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
    "efficientnet_b0",
    "densenet121",
    "squeezenet1_0", "squeezenet1_1",
    "googlenet",
    "convnext_tiny",
    "regnet_y_400mf",
]

TABLE = "crate/src/models/weights/table.rs"
CLASSES = "crate/assets/imagenet_classes.txt"


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rust_f64(x):
    if math.isnan(x):
        return "f64::NAN"
    r = repr(float(x))  # shortest round-trip digits; Rust parses them to the same f64
    return r


def doc_f64(x):
    return "nan" if math.isnan(x) else repr(float(x))


def group(n):
    return f"{n:,}"


def preset_of(w):
    t = w.transforms()
    if type(t) is not ImageClassification:
        sys.exit(f"{w!r}: transforms() is {type(t).__name__}, not ImageClassification")
    assert len(t.crop_size) == 1 and len(t.resize_size) == 1, t
    return {
        "crop_size": t.crop_size[0],
        "resize_size": t.resize_size[0],
        "mean": list(t.mean),
        "std": list(t.std),
        "interpolation": t.interpolation.name,
        "antialias": t.antialias,
        "repr": repr(t),
    }


def categories_of(w):
    c = w.meta.get("categories")
    if c is None:
        return None
    if list(c) != list(_IMAGENET_CATEGORIES):
        sys.exit(f"{w!r}: categories are not ImageNet-1K's")
    return "ImageNet1K"


def member_rust(enum_name, w):
    m = w.meta
    metrics = m["_metrics"]["ImageNet-1K"]
    p = preset_of(w)
    cats = categories_of(w)
    num_classes = len(m["categories"]) if m["categories"] is not None else 1000
    mean = ", ".join(rust_f64(x) for x in p["mean"])
    std = ", ".join(rust_f64(x) for x in p["std"])
    antialias = "None" if p["antialias"] is None else f"Some({str(p['antialias']).lower()})"
    cats_rust = "None" if cats is None else f"Some(Categories::{cats})"
    interp = p["interpolation"].lower()
    doc = (
        f"    /// `{enum_name}.{w.name}`: acc@1 {doc_f64(metrics['acc@1'])}, "
        f"acc@5 {doc_f64(metrics['acc@5'])} on ImageNet-1K;\n"
        f"    /// {group(m['num_params'])} parameters, {m['_file_size']} MB "
        f"(`{w.url.rsplit('/', 1)[-1]}`);\n"
        f"    /// resize {p['resize_size']} ({interp}), crop {p['crop_size']}"
        + ("" if cats else "; no categories (a feature extractor)")
        + ".\n"
    )
    return doc + (
        f"    pub const {w.name}: Weights = Weights {{\n"
        f"        name: {rust_str(enum_name + '.' + w.name)},\n"
        f"        url: {rust_str(w.url)},\n"
        f"        num_classes: {num_classes},\n"
        f"        meta: WeightsMeta {{\n"
        f"            num_params: {m['num_params']},\n"
        f"            min_size: ({m['min_size'][0]}, {m['min_size'][1]}),\n"
        f"            categories: {cats_rust},\n"
        f"            metrics: Metrics {{\n"
        f"                acc1: {rust_f64(metrics['acc@1'])},\n"
        f"                acc5: {rust_f64(metrics['acc@5'])},\n"
        f"            }},\n"
        f"            recipe: {rust_str(m['recipe'])},\n"
        f"            ops: {rust_f64(m['_ops'])},\n"
        f"            file_size: {rust_f64(m['_file_size'])},\n"
        f"        }},\n"
        f"        preset: ImageClassification {{\n"
        f"            crop_size: {p['crop_size']},\n"
        f"            resize_size: {p['resize_size']},\n"
        f"            mean: [{mean}],\n"
        f"            std: [{std}],\n"
        f"            interpolation: InterpolationMode::{p['interpolation'].capitalize()},\n"
        f"            antialias: {antialias},\n"
        f"        }},\n"
        f"    }};\n"
    )


def enum_rust(model):
    W = M.get_model_weights(model)
    enum_name = W.__name__
    members = list(W)
    default = W.DEFAULT
    first = members[0].name
    out = [
        f"/// torchvision's `{enum_name}`: the published weights of "
        f"`torchvision.models.{model}`.\n",
        "///\n",
        "/// ```\n",
        f"/// use cnn_lab::models::{enum_name};\n",
        f"/// let weights = {enum_name}::DEFAULT;\n",
        f'/// assert_eq!(weights.to_string(), "{enum_name}.{default.name}");\n',
        f'/// assert_eq!({enum_name}::{first}.file_name(), "{members[0].url.rsplit("/", 1)[-1]}");\n',
        "/// ```\n",
        "#[allow(non_camel_case_types)]\n",
        "#[derive(Clone, Copy, Debug, PartialEq, Eq)]\n",
        f"pub struct {enum_name};\n",
        "\n",
        f"impl {enum_name} {{\n",
    ]
    for w in members:
        out.append(member_rust(enum_name, w))
        out.append("\n")
    out.append(
        f"    /// `{enum_name}.DEFAULT`: the best of them, "
        f"[`{default.name}`]({enum_name}::{default.name}).\n"
        f"    pub const DEFAULT: Weights = Self::{default.name};\n"
        "\n"
        f"    /// Every member in torchvision's order (`list({enum_name})`).\n"
        f"    pub const MEMBERS: &'static [Weights] = &["
        + ", ".join(f"Self::{w.name}" for w in members)
        + "];\n"
        "}\n"
    )
    return enum_name, "".join(out)


def table_rust():
    parts = [
        "// @generated by scripts/gen_weights_table.py from torchvision "
        f"{torchvision.__version__.split('+')[0]}; do not edit by hand.\n",
        "// tests/weights_table.rs checks it against the venv's torchvision.\n",
        "\n",
        "//! torchvision's weights enums, one type per builder "
        "(generated by `scripts/gen_weights_table.py`).\n",
        "\n",
        "use super::{\n",
        "    Categories, ImageClassification, InterpolationMode, Metrics, Weights, WeightsEnum, WeightsMeta,\n",
        "};\n",
        "\n",
    ]
    registry = []
    for model in MODELS:
        enum_name, text = enum_rust(model)
        parts.append(text)
        parts.append("\n")
        registry.append((model, enum_name))
    parts.append(
        "/// Each builder's weights enum, in the order above\n"
        "/// (`torchvision.models.get_model_weights`).\n"
        "pub(crate) const MODEL_WEIGHTS: &[WeightsEnum] = &[\n"
    )
    for model, enum_name in registry:
        parts.append(
            "    WeightsEnum {\n"
            f'        model: "{model}",\n'
            f'        name: "{enum_name}",\n'
            f"        members: {enum_name}::MEMBERS,\n"
            f"        default: {enum_name}::DEFAULT,\n"
            "    },\n"
        )
    parts.append("];\n")
    return "".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), ".."))
    args = ap.parse_args()
    for rel, text in [
        (TABLE, table_rust()),
        (CLASSES, "".join(c + "\n" for c in _IMAGENET_CATEGORIES)),
    ]:
        path = os.path.join(args.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)


if __name__ == "__main__":
    main()
