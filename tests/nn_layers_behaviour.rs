//! What the layers beyond the lecture's do besides PyTorch's numbers (those
//! are `tests/nn_layers_reference.rs`): the bad arguments PyTorch rejects,
//! as errors naming the layer; `Dropout2d`'s channel masks; PyTorch's
//! initialisation; `model.b1[0]`.

use cnn_lab::*;

#[test]
fn bad_arguments_are_errors_naming_the_layer_from_validate_forward_and_summary() {
    let cases: Vec<(Box<dyn Module>, Vec<i64>, &str)> = vec![
        (
            Box::new(Conv2d::new(4, 4, 3).padding_mode("mirror")),
            vec![1, 4, 8, 8],
            "padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, but got padding_mode='mirror'",
        ),
        (
            Box::new(Conv2d::new(3, 6, 3).groups(2)),
            vec![1, 3, 8, 8],
            "in_channels must be divisible by groups",
        ),
        (
            Box::new(Conv2d::new(4, 6, 3).groups(4)),
            vec![1, 4, 8, 8],
            "out_channels must be divisible by groups",
        ),
        (
            Box::new(Conv2d::new(4, 4, 3).groups(0)),
            vec![1, 4, 8, 8],
            "groups must be a positive integer",
        ),
        (
            Box::new(Conv1d::new(2, 4, 3).padding("full")),
            vec![1, 2, 8],
            "got \"full\"",
        ),
        (
            Box::new(Conv1d::new(2, 4, 3).stride(2).padding("same")),
            vec![1, 2, 8],
            "padding='same' is not supported for strided convolutions",
        ),
        (
            Box::new(ConvTranspose2d::new(2, 4, 3).output_padding(1)),
            vec![1, 2, 8, 8],
            "output padding must be smaller than either stride or dilation",
        ),
        (
            Box::new(ConvTranspose2d::new(3, 4, 3).groups(2)),
            vec![1, 3, 8, 8],
            "in_channels must be divisible by groups",
        ),
        (
            Box::new(GroupNorm::new(3, 8)),
            vec![1, 8, 4, 4],
            "num_channels (8) must be divisible by num_groups (3)",
        ),
        (
            Box::new(GroupNorm::new(0, 8)),
            vec![1, 8, 4, 4],
            "num_groups must be positive, got 0",
        ),
        (
            Box::new(Dropout2d::new(1.5)),
            vec![1, 2, 4, 4],
            "dropout probability has to be between 0 and 1, but got 1.5",
        ),
        (
            Box::new(GELU::new().approximate("fast")),
            vec![2, 3],
            "approximate argument must be either none or tanh.",
        ),
        (
            Box::new(Upsample::new()),
            vec![1, 1, 4, 4],
            "either size or scale_factor should be defined",
        ),
        (
            Box::new(Upsample::new().size(8).scale_factor(2)),
            vec![1, 1, 4, 4],
            "only one of size or scale_factor should be defined",
        ),
        (
            Box::new(Upsample::new().scale_factor(2).align_corners(true)),
            vec![1, 1, 4, 4],
            "align_corners option can only be set with the interpolating modes",
        ),
        (
            Box::new(Upsample::new().scale_factor(2).mode("cubic")),
            vec![1, 1, 4, 4],
            "got 'cubic'",
        ),
        (
            Box::new(Upsample::new().scale_factor(0)),
            vec![1, 1, 4, 4],
            "scale_factor must be positive, got (0.0, 0.0)",
        ),
        (
            Box::new(Upsample::new().size((4, 0))),
            vec![1, 1, 4, 4],
            "size must be positive, got (4, 0)",
        ),
        (
            Box::new(AvgPool2d::new(2).padding(2)),
            vec![1, 1, 8, 8],
            "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1",
        ),
        (
            Box::new(AvgPool2d::new(2).divisor_override(0)),
            vec![1, 1, 8, 8],
            "divisor must be not zero",
        ),
        (
            Box::new(AdaptiveAvgPool2d::new(-1)),
            vec![1, 1, 8, 8],
            "elements of output_size must be greater than or equal to 0",
        ),
        (
            Box::new(MaxPool1d::new(2).padding(2)),
            vec![1, 1, 8],
            "pad should be at most half of effective kernel size",
        ),
        (
            Box::new(ZeroPad2d::new([1, 2, 3])),
            vec![1, 1, 4, 4],
            "padding must be an int or 4 values (left, right, top, bottom)",
        ),
        (
            Box::new(Hardtanh::new().min_val(1.0).max_val(0.0)),
            vec![2, 3],
            "max_val (0.0) must be greater than min_val (1.0)",
        ),
        (
            Box::new(CELU::new().alpha(0.0)),
            vec![2, 3],
            "alpha cannot be 0 for CELU",
        ),
        (
            Box::new(PixelShuffle::new(0)),
            vec![1, 4, 2, 2],
            "pixel_shuffle expects a positive upscale_factor, but got 0",
        ),
    ];
    for (layer, size, want) in cases {
        let header = format!("{}({})", layer.type_name(), layer.extra_repr());
        let err = layer.validate().unwrap_err().to_string();
        assert!(err.contains(want) && err.contains(&header), "{err}");
        let x = Tensor::zeros(size.as_slice(), (Kind::Float, Device::Cpu));
        let err = layer.try_forward_t(&x, false).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
        let err = summary(layer.as_ref(), &size).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
    }
    // Inside a model the error names the layer's path.
    let model = Sequential::new()
        .add(Conv2d::new(3, 8, 3))
        .add(Sequential::new().add(ReLU::new()).add(GroupNorm::new(3, 8)));
    let err = summary(&model, &[1, 3, 8, 8]).unwrap_err().to_string();
    assert!(
        err.starts_with("1.1: GroupNorm(3, 8, eps=1e-05, affine=True, bias=True): num_channels"),
        "{err}"
    );
}

#[test]
fn shape_mistakes_in_the_forward_pass_are_errors() {
    let x = Tensor::zeros([2, 3, 4, 4], (Kind::Float, Device::Cpu));
    let err = Softmax::new(5)
        .try_forward_t(&x, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Dimension out of range"), "{err}");
    let err = BatchNorm1d::new(3)
        .try_forward_t(&x, true)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expected 2D or 3D input (got 4D input)"),
        "{err}"
    );
    let err = Upsample::new()
        .scale_factor(2)
        .try_forward_t(&x.view([2, 3, 16]), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected a 4D input"), "{err}");
    let err = Dropout1d::new(0.1)
        .try_forward_t(&x, true)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Expected 2D or 3D input, but received a 4D input"),
        "{err}"
    );
    let err = Softmax2d::new()
        .try_forward_t(&x.view([6, 16]), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expected input to be 3D or 4D, got 2D instead"),
        "{err}"
    );
    let err = ReflectionPad2d::new(4)
        .try_forward_t(&x, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Padding size should be less than"), "{err}");
    let err = InstanceNorm2d::new(3)
        .try_forward_t(&x.view([6, 16]), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expected 3D or 4D input (got 2D input)"),
        "{err}"
    );
    let err = LayerNorm::new(5)
        .try_forward_t(&x, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("normalized_shape"), "{err}");
}

#[test]
fn dropout2d_zeroes_whole_channels_and_scales_the_rest_in_training_only() {
    tch::manual_seed(3);
    let p = 0.25;
    let drop = Dropout2d::new(p);
    let x = Tensor::ones([64, 32, 3, 3], (Kind::Float, Device::Cpu));
    assert!(drop.forward_t(&x, false).equal(&x));
    let y = drop.forward_t(&x, true);
    // Every channel is constant: all zeros or all 1/(1-p).
    let spread = y.amax([2, 3], false) - y.amin([2, 3], false);
    assert_eq!(spread.abs().max().double_value(&[]), 0.0);
    let first = y.select(3, 0).select(2, 0);
    let zeroed = first.eq(0.0).sum(Kind::Int64).int64_value(&[]) as f64 / (64.0 * 32.0);
    assert!(
        (zeroed - p).abs() < 0.04,
        "fraction of channels zeroed {zeroed}"
    );
    let kept = first.masked_select(&first.ne(0.0));
    let scale = 1.0 / (1.0 - p);
    assert!((kept.min().double_value(&[]) - scale).abs() < 1e-6);
    assert!((kept.max().double_value(&[]) - scale).abs() < 1e-6);
    // Masks differ between samples, and a 3-D input is one sample [C, H, W].
    assert!(first.get(0).ne_tensor(&first.get(1)).any().int64_value(&[]) == 1);
    let one = drop.forward_t(&Tensor::ones([400, 2, 2], (Kind::Float, Device::Cpu)), true);
    let spread = one.amax([1, 2], false) - one.amin([1, 2], false);
    assert_eq!(spread.abs().max().double_value(&[]), 0.0);
    assert_eq!(one.size(), [400, 2, 2]);
    // Dropout1d: channels of [N, C, L].
    let y =
        Dropout1d::new(0.5).forward_t(&Tensor::ones([8, 64, 5], (Kind::Float, Device::Cpu)), true);
    let spread = y.amax([2], false) - y.amin([2], false);
    assert_eq!(spread.abs().max().double_value(&[]), 0.0);
    let zeroed = y.select(2, 0).eq(0.0).sum(Kind::Int64).int64_value(&[]) as f64 / 512.0;
    assert!(
        (zeroed - 0.5).abs() < 0.1,
        "fraction of channels zeroed {zeroed}"
    );
}

#[test]
fn new_layers_initialise_their_tensors_as_pytorch() {
    tch::manual_seed(0);
    let check_uniform = |name: &str, t: &Tensor, fan_in: f64| {
        let bound = 1.0 / fan_in.sqrt();
        let (lo, hi) = (t.min().double_value(&[]), t.max().double_value(&[]));
        assert!(
            lo >= -bound && hi <= bound,
            "{name}: [{lo}, {hi}] outside ±{bound}"
        );
        assert!(
            hi > 0.8 * bound && lo < -0.8 * bound,
            "{name}: [{lo}, {hi}] vs ±{bound}"
        );
        assert!(t.requires_grad(), "{name}");
    };
    let conv1d = Conv1d::new(16, 32, 5);
    assert_eq!(conv1d.weight().size(), [32, 16, 5]);
    check_uniform("conv1d.weight", conv1d.weight(), 80.0);
    check_uniform("conv1d.bias", conv1d.bias_tensor().unwrap(), 80.0);
    // Transposed: weight [in, out/groups, kh, kw], fan_in from dimension 1.
    let up = ConvTranspose2d::new(32, 64, 3).groups(2);
    assert_eq!(up.weight().size(), [32, 32, 3, 3]);
    check_uniform("convT.weight", up.weight(), 32.0 * 9.0);
    check_uniform("convT.bias", up.bias_tensor().unwrap(), 32.0 * 9.0);
    let depthwise = Conv2d::new(16, 16, 3).groups(16).padding_mode("reflect");
    assert_eq!(depthwise.weight().size(), [16, 1, 3, 3]);
    check_uniform("depthwise.weight", depthwise.weight(), 9.0);
    let filled = |m: &dyn Module, want: &[f64]| {
        let sd = m.state_dict();
        for ((name, t), &v) in sd.iter().zip(want) {
            let dev = (t - v).abs().max().double_value(&[]);
            assert_eq!(dev, 0.0, "{name} should be all {v}");
        }
    };
    filled(&LayerNorm::new([4, 5]), &[1.0, 0.0]);
    filled(&GroupNorm::new(2, 8), &[1.0, 0.0]);
    filled(&BatchNorm1d::new(8), &[1.0, 0.0, 0.0, 1.0, 0.0]);
    filled(&PReLU::new(), &[0.25]);
    filled(&PReLU::new().init(0.1).num_parameters(4), &[0.1]);
}

#[test]
fn sequential_indexes_like_pytorch() {
    let b1 = Sequential::new()
        .add(Conv2d::new(1, 32, 3).padding("same"))
        .add(BatchNorm2d::new(32))
        .add(LeakyReLU::new().negative_slope(0.2));
    assert_eq!(
        b1[0].repr().to_string(),
        "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=same)"
    );
    assert_eq!(b1[2].repr().to_string(), "LeakyReLU(negative_slope=0.2)");
    assert_eq!(b1[1].state_dict().len(), 5);
    // The indexed layer runs as itself.
    let x = Tensor::ones([1, 1, 5, 5], (Kind::Float, Device::Cpu));
    assert_eq!(b1[0].forward_t(&x, false).size(), [1, 32, 5, 5]);
    let past = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b1[3].type_name()));
    let message = *past.unwrap_err().downcast::<String>().unwrap();
    assert_eq!(
        message,
        "Sequential index 3 is out of range (it has 3 layers)"
    );
    assert!(b1.get(3).is_none());
}
