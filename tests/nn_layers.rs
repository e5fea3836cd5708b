//! Layer numerics against PyTorch (weights and inputs copied across through a
//! safetensors file written by `tests/python/nn_reference.py numerics`), and
//! the behaviours PyTorch documents for each layer.

mod common;

use std::collections::HashMap;

use cnn_lab::*;

fn numerics() -> HashMap<String, Tensor> {
    let dir = common::scratch_dir("nn_layers");
    common::run_python("nn_reference.py", &["numerics", dir.to_str().unwrap()]);
    Tensor::read_safetensors(dir.join("nn_numerics.safetensors"))
        .expect("read reference tensors")
        .into_iter()
        .collect()
}

fn copy_into(dst: &Tensor, src: &Tensor) {
    tch::no_grad(|| {
        dst.shallow_clone().copy_(src);
    });
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

#[test]
fn same_padding_conv_equals_torch_for_odd_and_even_kernels() {
    let t = numerics();
    let x = &t["x"];
    for (name, conv) in [
        ("odd", Conv2d::new(3, 5, 3).padding("same")),
        ("even", Conv2d::new(3, 5, 4).padding("same")),
        ("rect", Conv2d::new(3, 5, (2, 5)).padding("same")),
        (
            "even_dilated",
            Conv2d::new(3, 5, 4).padding("same").dilation(2),
        ),
    ] {
        copy_into(conv.weight(), &t[&format!("conv_{name}.weight")]);
        copy_into(
            conv.bias_tensor().unwrap(),
            &t[&format!("conv_{name}.bias")],
        );
        let ours = conv.forward_t(x, false);
        let theirs = &t[&format!("conv_{name}.out")];
        assert_eq!(ours.size(), [2, 5, 9, 10], "{name}: same keeps H and W");
        assert!(
            max_diff(&ours, theirs) < 1e-5,
            "{name}: {}",
            max_diff(&ours, theirs)
        );
        assert_eq!(conv.output_size((9, 10)).unwrap(), (9, 10));
    }
}

#[test]
fn batchnorm_updates_running_stats_in_training_and_uses_them_in_eval_like_torch() {
    let t = numerics();
    let bn = BatchNorm2d::new(3);
    let sd = bn.state_dict();
    copy_into(&sd[0].1, &t["bn.weight"]);
    copy_into(&sd[1].1, &t["bn.bias"]);
    let out1 = bn.forward_t(&t["x"], true);
    let out2 = bn.forward_t(&t["x2"], true);
    assert!(max_diff(&out1, &t["bn.train_out1"]) < 1e-5);
    assert!(max_diff(&out2, &t["bn.train_out2"]) < 1e-5);
    assert!(max_diff(bn.running_mean().unwrap(), &t["bn.running_mean"]) < 1e-6);
    assert!(max_diff(bn.running_var().unwrap(), &t["bn.running_var"]) < 1e-5);
    assert_eq!(
        bn.num_batches_tracked(),
        t["bn.num_batches_tracked"].int64_value(&[])
    );
    // Eval: running statistics, nothing updated.
    let before = bn.running_mean().unwrap().copy();
    let eval = bn.forward_t(&t["x"], false);
    assert!(max_diff(&eval, &t["bn.eval_out"]) < 1e-5);
    assert_eq!(max_diff(bn.running_mean().unwrap(), &before), 0.0);
    assert_eq!(bn.num_batches_tracked(), 2);
}

#[test]
fn batchnorm_rejects_non_4d_input_with_an_error() {
    let bn = BatchNorm2d::new(3);
    let x = Tensor::zeros([4, 3], (Kind::Float, Device::Cpu));
    let err = bn.try_forward_t(&x, true).unwrap_err().to_string();
    assert!(err.contains("expected 4D input (got 2D input)"), "{err}");
}

#[test]
fn dropout_is_identity_in_eval_and_zeroes_and_scales_in_training() {
    tch::manual_seed(1);
    let x = Tensor::ones([200, 50], (Kind::Float, Device::Cpu));
    let drop = Dropout::new(0.3);
    assert_eq!(max_diff(&drop.forward_t(&x, false), &x), 0.0);
    let y = drop.forward_t(&x, true);
    let zeros = y.eq(0.0).sum(Kind::Int64).int64_value(&[]) as f64 / 10_000.0;
    assert!((zeros - 0.3).abs() < 0.03, "fraction zeroed {zeros}");
    let kept = y.masked_select(&y.ne(0.0));
    let scale = 1.0 / 0.7;
    assert!((kept.min().double_value(&[]) - scale).abs() < 1e-6);
    assert!((kept.max().double_value(&[]) - scale).abs() < 1e-6);
    let err = Dropout::new(1.5).validate().unwrap_err().to_string();
    assert!(
        err.contains("dropout probability has to be between 0 and 1, but got 1.5"),
        "{err}"
    );
}

#[test]
fn default_init_follows_pytorch_bounds() {
    tch::manual_seed(0);
    let check = |name: &str, t: &Tensor, bound: f64| {
        let (lo, hi) = (t.min().double_value(&[]), t.max().double_value(&[]));
        assert!(
            lo >= -bound && hi <= bound,
            "{name}: [{lo}, {hi}] outside ±{bound}"
        );
        // Uniform over the whole range, not a narrower one.
        assert!(
            hi > 0.9 * bound && lo < -0.9 * bound,
            "{name}: [{lo}, {hi}] vs ±{bound}"
        );
        assert!(t.requires_grad(), "{name} must require grad");
    };
    let conv = Conv2d::new(32, 64, 3);
    let fan_in = 32.0 * 9.0;
    check("conv.weight", conv.weight(), 1.0 / f64::sqrt(fan_in));
    check(
        "conv.bias",
        conv.bias_tensor().unwrap(),
        1.0 / f64::sqrt(fan_in),
    );
    let grouped = Conv2d::new(32, 64, 3).groups(4);
    assert_eq!(grouped.weight().size(), [64, 8, 3, 3]);
    check(
        "grouped.weight",
        grouped.weight(),
        1.0 / f64::sqrt(8.0 * 9.0),
    );
    let linear = Linear::new(2048, 256);
    for (name, t) in linear.named_parameters() {
        check(&name, &t, 1.0 / f64::sqrt(2048.0));
    }
    let bn = BatchNorm2d::new(8);
    let sd = bn.state_dict();
    assert_eq!(
        sd[0].1.sum(Kind::Float).double_value(&[]),
        8.0,
        "weight ones"
    );
    assert_eq!(
        sd[1].1.abs().sum(Kind::Float).double_value(&[]),
        0.0,
        "bias zeros"
    );
}

#[test]
fn output_size_helpers_agree_with_real_forward_passes() {
    let x = Tensor::zeros([1, 1, 28, 28], (Kind::Float, Device::Cpu));
    let convs = [
        (Conv2d::new(1, 4, 3).padding("same"), (28, 28)),
        (Conv2d::new(1, 4, 3).padding("valid"), (26, 26)),
        (Conv2d::new(1, 4, 5).stride(2).padding(1), (13, 13)),
        (
            Conv2d::new(1, 4, (3, 5)).stride((2, 1)).padding((1, 2)),
            (14, 28),
        ),
        (Conv2d::new(1, 4, 3).dilation(2), (24, 24)),
    ];
    for (conv, want) in convs {
        let shape = conv.forward_t(&x, false).size();
        assert_eq!((shape[2], shape[3]), want, "{conv}");
        assert_eq!(conv.output_size((28, 28)).unwrap(), want, "{conv}");
    }
    let pools = [
        (MaxPool2d::new(2).stride(2), 28, (14, 14)),
        (MaxPool2d::new(2).stride(2).padding(1), 7, (4, 4)),
        (MaxPool2d::new(2), 7, (3, 3)),
        (MaxPool2d::new(2).ceil_mode(true), 7, (4, 4)),
        (
            MaxPool2d::new(3).stride(2).padding(1).ceil_mode(true),
            8,
            (5, 5),
        ),
        (
            MaxPool2d::new(2).stride(2).padding(1).ceil_mode(true),
            5,
            (3, 3),
        ),
        (MaxPool2d::new((2, 3)).stride((1, 2)), 7, (6, 3)),
    ];
    for (pool, n, want) in pools {
        let x = Tensor::zeros([1, 1, n, n], (Kind::Float, Device::Cpu));
        let shape = pool.forward_t(&x, false).size();
        assert_eq!((shape[2], shape[3]), want, "{pool}");
        assert_eq!(pool.output_size(n).unwrap(), want, "{pool}");
    }
    assert_eq!(conv_output_size(28, 3, 1, "same", 1).unwrap(), (28, 28));
    assert_eq!(pool_output_size(7, 2, 2, 1, 1, false).unwrap(), (4, 4));
}

#[test]
fn impossible_configurations_are_errors_not_surprise_panics() {
    let cases: Vec<(Box<dyn Module>, &str)> = vec![
        (Box::new(Conv2d::new(1, 4, 3).padding("full")), "got \"full\""),
        (
            Box::new(Conv2d::new(1, 4, 3).stride(2).padding("same")),
            "padding='same' is not supported for strided convolutions",
        ),
        (Box::new(Conv2d::new(1, 4, 3).stride(0)), "stride must be positive, got (0, 0)"),
        (Box::new(Conv2d::new(3, 4, 3).groups(2)), "in_channels must be divisible by groups"),
        (Box::new(Conv2d::new(0, 4, 3)), "in_channels and out_channels must be positive"),
        (
            Box::new(MaxPool2d::new(2).padding(2)),
            "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1",
        ),
        (Box::new(Linear::new(0, 3)), "in_features and out_features must be positive"),
    ];
    let x = Tensor::zeros([1, 1, 8, 8], (Kind::Float, Device::Cpu));
    for (layer, want) in cases {
        let err = layer.validate().unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
        let err = layer.try_forward_t(&x, false).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
    }
    assert!(conv_output_size(28, 3, 2, "same", 1).is_err());
    assert!(conv_output_size(2, 5, 1, 0, 1).is_err());
    assert!(pool_output_size(28, 2, 2, 3, 1, false).is_err());
}

#[test]
fn to_device_moves_every_tensor_and_keeps_training_working() {
    // CPU only here: the move must keep parameters as the same tensors.
    let seq = Sequential::new()
        .add(Linear::new(4, 2))
        .add(BatchNorm2d::new(2));
    let before: Vec<i64> = seq
        .parameters()
        .iter()
        .map(|t| t.data_ptr() as i64)
        .collect();
    seq.to_device(Device::Cpu);
    let after: Vec<i64> = seq
        .parameters()
        .iter()
        .map(|t| t.data_ptr() as i64)
        .collect();
    assert_eq!(before, after);
    if tch::Cuda::is_available() {
        seq.to_device(Device::Cuda(0));
        assert!(seq
            .state_dict()
            .iter()
            .all(|(_, t)| t.device() == Device::Cuda(0)));
    }
}
