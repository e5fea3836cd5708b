//! torchvision's GoogLeNet (Inception v1, `torchvision/models/googlenet.py`).

use tch::Tensor;

use super::options::{init, init_each, own, ModelOptions};
use super::weights::Weights;
use crate::error::Result;
use crate::nn::{
    AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, Module, Sequential,
};

/// torchvision's `BasicConv2d`: a convolution without bias, `BatchNorm2d(eps=0.001)`, ReLU.
#[derive(Module)]
#[module(name = "BasicConv2d")]
pub struct BasicConv2d {
    /// The convolution (no bias).
    pub conv: Conv2d,
    /// `BatchNorm2d(out_channels, eps=0.001)`.
    pub bn: BatchNorm2d,
}

impl BasicConv2d {
    /// `BasicConv2d(in_channels, out_channels, kernel_size=k, stride=s, padding=p)`.
    pub fn new(
        in_channels: i64,
        out_channels: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
    ) -> Self {
        BasicConv2d {
            conv: Conv2d::new(in_channels, out_channels, kernel)
                .stride(stride)
                .padding(padding)
                .bias(false),
            bn: BatchNorm2d::new(out_channels).eps(0.001),
        }
    }

    /// `relu(bn(conv(x)))`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.conv, train).apply_t(&self.bn, train).relu()
    }
}

/// torchvision's `Inception` block: four branches (1×1; 1×1 then 3×3; 1×1
/// then 3×3; 3×3 max-pool then 1×1) concatenated.
#[derive(Module)]
#[module(name = "Inception")]
pub struct Inception {
    /// 1×1.
    pub branch1: BasicConv2d,
    /// 1×1 reduction, 3×3.
    pub branch2: Sequential,
    /// 1×1 reduction, 3×3 (torchvision's "5×5" branch).
    pub branch3: Sequential,
    /// Max-pool, 1×1 projection.
    pub branch4: Sequential,
}

impl Inception {
    /// `Inception(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        in_channels: i64,
        ch1x1: i64,
        ch3x3red: i64,
        ch3x3: i64,
        ch5x5red: i64,
        ch5x5: i64,
        pool_proj: i64,
    ) -> Inception {
        Inception {
            branch1: BasicConv2d::new(in_channels, ch1x1, 1, 1, 0),
            branch2: Sequential::new()
                .add(BasicConv2d::new(in_channels, ch3x3red, 1, 1, 0))
                .add(BasicConv2d::new(ch3x3red, ch3x3, 3, 1, 1)),
            branch3: Sequential::new()
                .add(BasicConv2d::new(in_channels, ch5x5red, 1, 1, 0))
                .add(BasicConv2d::new(ch5x5red, ch5x5, 3, 1, 1)),
            branch4: Sequential::new()
                .add(MaxPool2d::new(3).stride(1).padding(1).ceil_mode(true))
                .add(BasicConv2d::new(in_channels, pool_proj, 1, 1, 0)),
        }
    }

    /// The four branches, concatenated along the channels.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        Tensor::cat(
            &[
                x.apply_t(&self.branch1, train),
                x.apply_t(&self.branch2, train),
                x.apply_t(&self.branch3, train),
                x.apply_t(&self.branch4, train),
            ],
            1,
        )
    }
}

/// torchvision's `InceptionAux`: an auxiliary classifier (4×4 average
/// pooling, 1×1 convolution, two linear layers).
#[derive(Module)]
#[module(name = "InceptionAux")]
pub struct InceptionAux {
    /// `BasicConv2d(in_channels, 128, kernel_size=1)`.
    pub conv: BasicConv2d,
    /// `Linear(2048, 1024)`.
    pub fc1: Linear,
    /// `Linear(1024, num_classes)`.
    pub fc2: Linear,
    /// `Dropout(p=dropout_aux)`.
    pub dropout: Dropout,
}

impl InceptionAux {
    /// `InceptionAux(in_channels, num_classes, dropout=0.7)`.
    pub fn new(in_channels: i64, num_classes: i64, dropout: f64) -> InceptionAux {
        InceptionAux {
            conv: BasicConv2d::new(in_channels, 128, 1, 1, 0),
            fc1: Linear::new(2048, 1024),
            fc2: Linear::new(1024, num_classes),
            dropout: Dropout::new(dropout),
        }
    }

    /// The auxiliary logits.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.adaptive_avg_pool2d([4, 4])
            .apply_t(&self.conv, train)
            .flatten(1, -1)
            .apply_t(&self.fc1, train)
            .relu()
            .apply_t(&self.dropout, train)
            .apply_t(&self.fc2, train)
    }
}

/// torchvision's `GoogLeNet`. `forward_t` returns the logits (torchvision's
/// eval-mode output); [`GoogLeNet::forward_aux`] also returns the
/// auxiliary classifiers' logits in training mode
/// (`GoogLeNetOutputs(logits, aux_logits2, aux_logits1)`).
///
/// ```
/// use cnn_lab::*;
/// let mut model = models::googlenet(None)?;
/// model.fc = Linear::new(1024, 2);
/// let x = Tensor::zeros([1, 3, 64, 64], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [1, 2]);
/// let (logits, aux2, aux1) = model.forward_aux(&Tensor::randn([2, 3, 64, 64], (Kind::Float, Device::Cpu)), true);
/// assert_eq!((logits.size(), aux2.unwrap().size(), aux1.unwrap().size()), (vec![2, 2], vec![2, 1000], vec![2, 1000]));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Module)]
#[module(name = "GoogLeNet")]
pub struct GoogLeNet {
    /// `BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)`.
    pub conv1: BasicConv2d,
    /// `MaxPool2d(3, stride=2, ceil_mode=True)`.
    pub maxpool1: MaxPool2d,
    /// `BasicConv2d(64, 64, kernel_size=1)`.
    pub conv2: BasicConv2d,
    /// `BasicConv2d(64, 192, kernel_size=3, padding=1)`.
    pub conv3: BasicConv2d,
    /// `MaxPool2d(3, stride=2, ceil_mode=True)`.
    pub maxpool2: MaxPool2d,
    /// Inception 3a.
    pub inception3a: Inception,
    /// Inception 3b.
    pub inception3b: Inception,
    /// `MaxPool2d(3, stride=2, ceil_mode=True)`.
    pub maxpool3: MaxPool2d,
    /// Inception 4a.
    pub inception4a: Inception,
    /// Inception 4b.
    pub inception4b: Inception,
    /// Inception 4c.
    pub inception4c: Inception,
    /// Inception 4d.
    pub inception4d: Inception,
    /// Inception 4e.
    pub inception4e: Inception,
    /// `MaxPool2d(2, stride=2, ceil_mode=True)`.
    pub maxpool4: MaxPool2d,
    /// Inception 5a.
    pub inception5a: Inception,
    /// Inception 5b.
    pub inception5b: Inception,
    /// The auxiliary classifier after 4a (with `aux_logits`).
    pub aux1: Option<InceptionAux>,
    /// The auxiliary classifier after 4d (with `aux_logits`).
    pub aux2: Option<InceptionAux>,
    /// `AdaptiveAvgPool2d((1, 1))`.
    pub avgpool: AdaptiveAvgPool2d,
    /// `Dropout(p=0.2)`.
    pub dropout: Dropout,
    /// `Linear(1024, num_classes)`.
    pub fc: Linear,
    /// Whether training-mode passes compute the auxiliary logits.
    pub aux_logits: bool,
    /// Whether inputs are re-normalised first (torchvision's `_transform_input`).
    pub transform_input: bool,
}

impl GoogLeNet {
    fn build(
        num_classes: i64,
        aux_logits: bool,
        transform_input: bool,
        init_weights: bool,
        dropout: f64,
        dropout_aux: f64,
    ) -> GoogLeNet {
        let pool = |k: i64| MaxPool2d::new(k).stride(2).ceil_mode(true);
        let model = GoogLeNet {
            conv1: BasicConv2d::new(3, 64, 7, 2, 3),
            maxpool1: pool(3),
            conv2: BasicConv2d::new(64, 64, 1, 1, 0),
            conv3: BasicConv2d::new(64, 192, 3, 1, 1),
            maxpool2: pool(3),
            inception3a: Inception::new(192, 64, 96, 128, 16, 32, 32),
            inception3b: Inception::new(256, 128, 128, 192, 32, 96, 64),
            maxpool3: pool(3),
            inception4a: Inception::new(480, 192, 96, 208, 16, 48, 64),
            inception4b: Inception::new(512, 160, 112, 224, 24, 64, 64),
            inception4c: Inception::new(512, 128, 128, 256, 24, 64, 64),
            inception4d: Inception::new(512, 112, 144, 288, 32, 64, 64),
            inception4e: Inception::new(528, 256, 160, 320, 32, 128, 128),
            maxpool4: pool(2),
            inception5a: Inception::new(832, 256, 160, 320, 32, 128, 128),
            inception5b: Inception::new(832, 384, 192, 384, 48, 128, 128),
            aux1: aux_logits.then(|| InceptionAux::new(512, num_classes, dropout_aux)),
            aux2: aux_logits.then(|| InceptionAux::new(528, num_classes, dropout_aux)),
            avgpool: AdaptiveAvgPool2d::new((1, 1)),
            dropout: Dropout::new(dropout),
            fc: Linear::new(1024, num_classes),
            aux_logits,
            transform_input,
        };
        if init_weights {
            init_each(&model, |_, m| {
                if matches!(m.type_name().as_str(), "Conv2d" | "Linear") {
                    if let Some(w) = own(m, "weight") {
                        init::trunc_normal(&w, 0.01, -2.0, 2.0);
                    }
                }
            });
        }
        model
    }

    fn transform(&self, x: &Tensor) -> Tensor {
        if !self.transform_input {
            return x.shallow_clone();
        }
        let channel = |c: i64, std: f64, mean: f64| {
            x.select(1, c).unsqueeze(1) * (std / 0.5) + (mean - 0.5) / 0.5
        };
        Tensor::cat(
            &[
                channel(0, 0.229, 0.485),
                channel(1, 0.224, 0.456),
                channel(2, 0.225, 0.406),
            ],
            1,
        )
    }

    /// The logits and, in training mode with `aux_logits`, the auxiliary
    /// classifiers' (`aux2`, `aux1`), as torchvision's `GoogLeNetOutputs`.
    pub fn forward_aux(&self, x: &Tensor, train: bool) -> (Tensor, Option<Tensor>, Option<Tensor>) {
        let x = self
            .transform(x)
            .apply_t(&self.conv1, train)
            .apply_t(&self.maxpool1, train)
            .apply_t(&self.conv2, train)
            .apply_t(&self.conv3, train)
            .apply_t(&self.maxpool2, train)
            .apply_t(&self.inception3a, train)
            .apply_t(&self.inception3b, train)
            .apply_t(&self.maxpool3, train)
            .apply_t(&self.inception4a, train);
        let aux1 = match (&self.aux1, train) {
            (Some(aux), true) => Some(x.apply_t(aux, train)),
            _ => None,
        };
        let x = x
            .apply_t(&self.inception4b, train)
            .apply_t(&self.inception4c, train)
            .apply_t(&self.inception4d, train);
        let aux2 = match (&self.aux2, train) {
            (Some(aux), true) => Some(x.apply_t(aux, train)),
            _ => None,
        };
        let x = x
            .apply_t(&self.inception4e, train)
            .apply_t(&self.maxpool4, train)
            .apply_t(&self.inception5a, train)
            .apply_t(&self.inception5b, train)
            .apply_t(&self.avgpool, train)
            .flatten(1, -1)
            .apply_t(&self.dropout, train)
            .apply_t(&self.fc, train);
        (x, aux2, aux1)
    }

    /// The logits (the auxiliary classifiers run in training mode, as in
    /// torchvision, but only [`forward_aux`](GoogLeNet::forward_aux) returns them).
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        self.forward_aux(x, train).0
    }
}

/// torchvision's `googlenet(weights=None)`: Inception v1, 6.6 M parameters
/// (13.0 M with the auxiliary classifiers). With weights: `num_classes`
/// from them, `transform_input` `true` unless given, the weights loaded
/// strictly, and the auxiliary classifiers (not pretrained) removed unless
/// `aux_logits(true)` was asked for, as torchvision does.
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(models::googlenet(None)?.num_parameters(), 13_004_888);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn googlenet(weights: Option<Weights>) -> Result<GoogLeNet> {
    googlenet_with(weights, ModelOptions::new())
}

/// [`googlenet`] with keyword arguments: `num_classes`, `aux_logits`,
/// `transform_input`, `init_weights`, `dropout` (0.2), `dropout_aux` (0.7).
pub fn googlenet_with(weights: Option<Weights>, options: ModelOptions) -> Result<GoogLeNet> {
    options.only(
        "googlenet",
        &[
            "num_classes",
            "aux_logits",
            "transform_input",
            "init_weights",
            "dropout",
            "dropout_aux",
        ],
    )?;
    let num_classes = options.classes(weights.as_ref())?;
    let with_weights = weights.is_some();
    let mut model = GoogLeNet::build(
        num_classes,
        with_weights || options.aux_logits.unwrap_or(true),
        options.transform_input.unwrap_or(with_weights),
        !with_weights && options.init_weights.unwrap_or(true),
        options.dropout.unwrap_or(0.2),
        options.dropout_aux.unwrap_or(0.7),
    );
    if let Some(w) = &weights {
        w.load_into(&model)?;
        if !options.aux_logits.unwrap_or(false) {
            model.aux_logits = false;
            model.aux1 = None;
            model.aux2 = None;
        }
    }
    Ok(model)
}
