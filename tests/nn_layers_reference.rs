//! Every layer beyond the lecture's against PyTorch and torchinfo, from one
//! run of `tests/python/nn_layers_reference.py`: printout, `state_dict`
//! keys and shapes, torchinfo's summary, and the numbers — the training-mode
//! output, the gradients of `sum(out * g)` for the input and each
//! parameter, the buffers after it, and the eval-mode output — with
//! PyTorch's weights copied in.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use cnn_lab::*;
use serde_json::Value;

/// The reference files, written once per test binary.
fn reference_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::scratch_dir("nn_layers_reference");
        common::run_python("nn_layers_reference.py", &[dir.to_str().unwrap()]);
        dir
    })
}

fn meta() -> Value {
    let text = std::fs::read_to_string(reference_dir().join("layers.json")).expect("layers.json");
    serde_json::from_str(&text).expect("JSON")
}

fn tensors() -> HashMap<String, Tensor> {
    Tensor::read_safetensors(reference_dir().join("layers.safetensors"))
        .expect("read reference tensors")
        .into_iter()
        .collect()
}

type Layer = Box<dyn Module + Send>;

fn lenet5() -> Sequential {
    Sequential::new()
        .add(Conv2d::new(1, 6, 5).padding(2))
        .add(Tanh::new())
        .add(AvgPool2d::new(2))
        .add(Conv2d::new(6, 16, 5))
        .add(Tanh::new())
        .add(AvgPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(16 * 5 * 5, 120))
        .add(Tanh::new())
        .add(Linear::new(120, 84))
        .add(Tanh::new())
        .add(Linear::new(84, 10))
}

fn gap_net() -> Sequential {
    Sequential::new()
        .add(
            Sequential::new()
                .add(Conv2d::new(3, 8, 3).padding(1).bias(false))
                .add(BatchNorm2d::new(8))
                .add(LeakyReLU::new().negative_slope(0.1)),
        )
        .add(
            Sequential::new()
                .add(Conv2d::new(8, 8, 3).padding(1).groups(8))
                .add(GroupNorm::new(2, 8))
                .add(GELU::new())
                .add(Dropout2d::new(0.1)),
        )
        .add(AdaptiveAvgPool2d::new(1))
        .add(Flatten::new())
        .add(Linear::new(8, 4))
        .add(Softmax::new(1))
}

fn decoder() -> Sequential {
    Sequential::new()
        .add(Linear::new(6, 4 * 3 * 3))
        .add(Unflatten::new(1, [4, 3, 3]))
        .add(
            ConvTranspose2d::new(4, 2, 3)
                .stride(2)
                .padding(1)
                .output_padding(1),
        )
        .add(BatchNorm2d::new(2))
        .add(SiLU::new())
        .add(Upsample::new().scale_factor(2).mode("bilinear"))
        .add(ZeroPad2d::new(1))
        .add(Sigmoid::new())
}

/// The Rust spelling of each case of the Python script.
fn case(name: &str) -> Layer {
    match name {
        "relu" => Box::new(ReLU::new()),
        "sigmoid" => Box::new(Sigmoid::new()),
        "tanh" => Box::new(Tanh::new()),
        "silu" => Box::new(SiLU::new()),
        "relu6" => Box::new(ReLU6::new()),
        "hardswish" => Box::new(Hardswish::new()),
        "hardsigmoid" => Box::new(Hardsigmoid::new()),
        "mish" => Box::new(Mish::new()),
        "softsign" => Box::new(Softsign::new()),
        "selu" => Box::new(SELU::new()),
        "celu" => Box::new(CELU::new()),
        "celu_2" => Box::new(CELU::new().alpha(2.0)),
        "hardtanh" => Box::new(Hardtanh::new()),
        "hardtanh_custom" => Box::new(Hardtanh::new().min_val(-0.5).max_val(2.0)),
        "softmax2d" => Box::new(Softmax2d::new()),
        "softmin" => Box::new(Softmin::new(2)),
        "logsigmoid" => Box::new(LogSigmoid::new()),
        "tanhshrink" => Box::new(Tanhshrink::new()),
        "leaky_relu" => Box::new(LeakyReLU::new()),
        "leaky_relu_02" => Box::new(LeakyReLU::new().negative_slope(0.2)),
        "leaky_relu_negative" => Box::new(LeakyReLU::new().negative_slope(-0.1)),
        "elu" => Box::new(ELU::new()),
        "elu_half" => Box::new(ELU::new().alpha(0.5)),
        "gelu" => Box::new(GELU::new()),
        "gelu_tanh" => Box::new(GELU::new().approximate("tanh")),
        "softplus" => Box::new(Softplus::new()),
        "softplus_custom" => Box::new(Softplus::new().beta(2.0).threshold(5.0)),
        "softmax" => Box::new(Softmax::new(1)),
        "softmax_last" => Box::new(Softmax::new(-1)),
        "log_softmax" => Box::new(LogSoftmax::new(1)),
        "prelu" => Box::new(PReLU::new()),
        "prelu_channels" => Box::new(PReLU::new().num_parameters(3).init(0.1)),
        "identity" => Box::new(Identity::new()),
        "avgpool" => Box::new(AvgPool2d::new(2)),
        "avgpool_custom" => Box::new(
            AvgPool2d::new((2, 3))
                .stride(1)
                .padding(1)
                .ceil_mode(true)
                .count_include_pad(false),
        ),
        "avgpool_divisor" => Box::new(AvgPool2d::new(3).stride(2).padding(1).divisor_override(5)),
        "adaptive_avg" => Box::new(AdaptiveAvgPool2d::new(1)),
        "adaptive_avg_rect" => Box::new(AdaptiveAvgPool2d::new((4, 3))),
        "adaptive_avg_none" => Box::new(AdaptiveAvgPool2d::new((None, Some(2)))),
        "adaptive_max" => Box::new(AdaptiveMaxPool2d::new(2)),
        "adaptive_max_none" => Box::new(AdaptiveMaxPool2d::new((Some(3), None))),
        "adaptive_max_rect" => Box::new(AdaptiveMaxPool2d::new((3, 4))),
        "maxpool1d" => Box::new(MaxPool1d::new(2)),
        "maxpool1d_custom" => Box::new(
            MaxPool1d::new(3)
                .stride(2)
                .padding(1)
                .dilation(2)
                .ceil_mode(true),
        ),
        "avgpool1d" => Box::new(AvgPool1d::new(3).stride(2).padding(1)),
        "avgpool1d_custom" => Box::new(AvgPool1d::new(2).ceil_mode(true).count_include_pad(false)),
        "conv_reflect" => Box::new(Conv2d::new(4, 6, 3).padding(1).padding_mode("reflect")),
        "conv_replicate" => Box::new(
            Conv2d::new(4, 6, (3, 5))
                .stride(2)
                .padding((1, 2))
                .padding_mode("replicate"),
        ),
        "conv_circular" => Box::new(
            Conv2d::new(4, 6, 3)
                .padding(2)
                .dilation(2)
                .padding_mode("circular"),
        ),
        "conv_same_reflect" => {
            Box::new(Conv2d::new(4, 6, 4).padding("same").padding_mode("reflect"))
        }
        "conv_depthwise" => Box::new(Conv2d::new(4, 4, 3).padding(1).groups(4).bias(false)),
        "conv_grouped_dilated" => Box::new(Conv2d::new(4, 8, 3).groups(2).dilation(2)),
        "conv1d" => Box::new(Conv1d::new(3, 8, 3)),
        "conv1d_custom" => Box::new(
            Conv1d::new(4, 8, 5)
                .stride(2)
                .padding(1)
                .groups(2)
                .bias(false),
        ),
        "conv1d_same_circular" => Box::new(
            Conv1d::new(3, 8, 3)
                .padding("same")
                .dilation(2)
                .padding_mode("circular"),
        ),
        "conv1d_valid" => Box::new(Conv1d::new(3, 2, 4).padding("valid")),
        "conv_transpose" => Box::new(
            ConvTranspose2d::new(4, 6, 3)
                .stride(2)
                .padding(1)
                .output_padding(1),
        ),
        "conv_transpose_groups" => Box::new(
            ConvTranspose2d::new(4, 8, 3)
                .groups(2)
                .dilation(2)
                .bias(false),
        ),
        "conv_transpose_rect" => Box::new(
            ConvTranspose2d::new(4, 2, (2, 3))
                .stride((2, 1))
                .padding((0, 1)),
        ),
        "bn1d" => Box::new(BatchNorm1d::new(5)),
        "bn1d_3d" => Box::new(BatchNorm1d::new(3).momentum(0.3)),
        "bn1d_no_bias" => Box::new(BatchNorm1d::new(5).bias(false)),
        "bn1d_untracked" => Box::new(
            BatchNorm1d::new(5)
                .eps(1e-3)
                .affine(false)
                .track_running_stats(false),
        ),
        "bn2d_no_bias" => Box::new(BatchNorm2d::new(3).bias(false)),
        "instancenorm" => Box::new(InstanceNorm2d::new(3)),
        "instancenorm_tracked" => Box::new(
            InstanceNorm2d::new(3)
                .momentum(0.2)
                .affine(true)
                .track_running_stats(true),
        ),
        "instancenorm_unbatched" => Box::new(InstanceNorm2d::new(3).affine(true).bias(false)),
        "layernorm" => Box::new(LayerNorm::new(10)),
        "layernorm_2d" => Box::new(LayerNorm::new([9, 10]).eps(1e-3)),
        "layernorm_no_affine" => Box::new(LayerNorm::new(10).elementwise_affine(false)),
        "layernorm_no_bias" => Box::new(LayerNorm::new(10).bias(false)),
        "groupnorm" => Box::new(GroupNorm::new(2, 4)),
        "groupnorm_no_affine" => Box::new(GroupNorm::new(4, 4).eps(1e-3).affine(false)),
        "groupnorm_no_bias" => Box::new(GroupNorm::new(1, 4).bias(false)),
        "dropout2d" => Box::new(Dropout2d::new(0.2)),
        "dropout2d_default" => Box::new(Dropout2d::default()),
        "upsample_nearest" => Box::new(Upsample::new().scale_factor(2)),
        "upsample_bilinear" => Box::new(Upsample::new().size((7, 9)).mode("bilinear")),
        "upsample_bilinear_corners" => Box::new(
            Upsample::new()
                .scale_factor((2.0, 1.5))
                .mode("bilinear")
                .align_corners(true),
        ),
        "upsample_bicubic" => Box::new(Upsample::new().scale_factor(1.5).mode("bicubic")),
        "upsample_size_int" => Box::new(Upsample::new().size(6)),
        "upsample_nearest_exact" => {
            Box::new(Upsample::new().scale_factor(1.7).mode("nearest-exact"))
        }
        "unflatten" => Box::new(Unflatten::new(1, [2, 5])),
        "zeropad" => Box::new(ZeroPad2d::new(1)),
        "zeropad_sides" => Box::new(ZeroPad2d::new([1, 2, 0, 3])),
        "reflectionpad" => Box::new(ReflectionPad2d::new([1, 2, 0, 3])),
        "replicationpad" => Box::new(ReplicationPad2d::new(2)),
        "constantpad" => Box::new(ConstantPad2d::new([1, 0, 2, 1], -1.5)),
        "pixelshuffle" => Box::new(PixelShuffle::new(2)),
        "pixelunshuffle" => Box::new(PixelUnshuffle::new(3)),
        "dropout1d" => Box::new(Dropout1d::new(0.3)),
        "lenet5" => Box::new(lenet5()),
        "gap_net" => Box::new(gap_net()),
        "decoder" => Box::new(decoder()),
        other => panic!("no Rust counterpart for case {other}"),
    }
}

fn cases(meta: &Value) -> Vec<(&String, &Value)> {
    let cases: Vec<_> = meta.as_object().unwrap().iter().collect();
    assert!(cases.len() >= 80, "only {} cases", cases.len());
    cases
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_i64().unwrap())
        .collect()
}

#[test]
fn every_layer_prints_like_pytorch() {
    let meta = meta();
    for (name, m) in cases(&meta) {
        let boxed = case(name);
        let layer: &dyn Module = boxed.as_ref();
        common::assert_same_lines(name, &layer.repr().to_string(), m["repr"].as_str().unwrap());
    }
    // Display is the same text.
    assert_eq!(
        LeakyReLU::new().negative_slope(0.2).to_string(),
        meta["leaky_relu_02"]["repr"].as_str().unwrap()
    );
}

#[test]
fn every_layer_has_pytorchs_state_dict_keys_shapes_and_dtypes() {
    let meta = meta();
    let kind_name = |k: Kind| match k {
        Kind::Float => "torch.float32",
        Kind::Int64 => "torch.int64",
        _ => "other",
    };
    for (name, m) in cases(&meta) {
        let boxed = case(name);
        let layer: &dyn Module = boxed.as_ref();
        let ours: Vec<(String, Vec<i64>, String)> = layer
            .state_dict()
            .into_iter()
            .map(|(k, t)| (k, t.size(), kind_name(t.kind()).to_string()))
            .collect();
        let theirs: Vec<(String, Vec<i64>, String)> = m["state_dict"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e[0].as_str().unwrap().to_string(),
                    ints(&e[1]),
                    e[2].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(ours, theirs, "{name}");
        for t in layer.named_tensors() {
            assert_eq!(t.tensor.requires_grad(), t.trainable, "{name}: {}", t.name);
        }
    }
}

#[test]
fn every_layer_summary_equals_torchinfo() {
    let meta = meta();
    for (name, m) in cases(&meta) {
        let layer = case(name);
        let model: Layer = if m["repr"].as_str().unwrap().starts_with("Sequential") {
            layer
        } else {
            Box::new(std::iter::once(layer).collect::<Sequential>())
        };
        let s = summary(model.as_ref(), &ints(&m["input"])).unwrap();
        common::assert_summary_equals(name, &s, &m["summary"]);
    }
}

fn copy_into(dst: &Tensor, src: &Tensor) {
    tch::no_grad(|| {
        dst.shallow_clone().copy_(src);
    });
}

#[test]
fn every_layer_computes_pytorchs_outputs_and_gradients() {
    let meta = meta();
    let t = tensors();
    let get = |key: String| {
        t.get(&key)
            .unwrap_or_else(|| panic!("no reference tensor {key}"))
    };
    let mut worst: Vec<(f64, String)> = Vec::new();
    let mut check = |what: String, ours: &Tensor, theirs: &Tensor| {
        let d = common::max_abs_diff(ours, theirs);
        assert!(d < 1e-5, "{what}: max |diff| {d}");
        worst.push((d, what));
    };
    for (name, m) in cases(&meta) {
        let boxed = case(name);
        let layer: &dyn Module = boxed.as_ref();
        for (key, tensor) in layer.state_dict() {
            copy_into(&tensor, get(format!("{name}.sd.{key}")));
        }
        let x = get(format!("{name}.x")).copy().set_requires_grad(true);
        if !m["random"].as_bool().unwrap() {
            let out = layer.try_forward_t(&x, true).unwrap();
            check(
                format!("{name} train output"),
                &out,
                get(format!("{name}.out_train")),
            );
            (&out * get(format!("{name}.g")))
                .sum(Kind::Float)
                .backward();
            check(
                format!("{name} input grad"),
                &x.grad(),
                get(format!("{name}.grad.x")),
            );
            for (key, p) in layer.named_parameters() {
                check(
                    format!("{name} {key} grad"),
                    &p.grad(),
                    get(format!("{name}.grad.{key}")),
                );
            }
            for nt in layer.named_tensors().into_iter().filter(|nt| !nt.trainable) {
                let theirs = get(format!("{name}.after.{}", nt.name));
                let ours = nt.tensor.to_kind(theirs.kind());
                check(format!("{name} {} after training", nt.name), &ours, theirs);
            }
        }
        let eval = tch::no_grad(|| layer.try_forward_t(&x, false)).unwrap();
        check(
            format!("{name} eval output"),
            &eval,
            get(format!("{name}.out_eval")),
        );
    }
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    eprintln!("largest differences from PyTorch:");
    for (d, what) in worst.iter().take(8) {
        eprintln!("  {d:.3e}  {what}");
    }
}
