//! torchvision's ResNets (`torchvision/models/resnet.py`): `resnet18`,
//! `resnet34` (basic blocks), `resnet50`, `resnet101` (bottlenecks).

use tch::Tensor;

use super::options::{init, init_each, init_fan_out_convs, load_weights, own, ModelOptions};
use super::weights::Weights;
use crate::error::Result;
use crate::nn::{
    AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential, Stage,
};

fn conv3x3(in_planes: i64, out_planes: i64, stride: i64) -> Conv2d {
    Conv2d::new(in_planes, out_planes, 3)
        .stride(stride)
        .padding(1)
        .bias(false)
}

fn conv1x1(in_planes: i64, out_planes: i64, stride: i64) -> Conv2d {
    Conv2d::new(in_planes, out_planes, 1)
        .stride(stride)
        .bias(false)
}

/// A block's end: `relu(out + identity)`, the identity `downsample(x)`
/// where the block has one.
fn add_identity(
    out: Tensor,
    x: &Tensor,
    downsample: Option<&Sequential>,
    relu: &ReLU,
    train: bool,
) -> Tensor {
    let identity = match downsample {
        Some(d) => x.apply_t(d, train),
        None => x.shallow_clone(),
    };
    (out + identity).apply_t(relu, train)
}

/// torchvision's `BasicBlock` (ResNet-18/34): two 3×3 convolutions and a
/// shortcut (`downsample`, a 1×1 convolution and a BatchNorm, where the
/// shape changes).
#[derive(Module)]
#[module(name = "BasicBlock")]
pub struct BasicBlock {
    /// 3×3, `stride`.
    pub conv1: Conv2d,
    /// After `conv1`.
    pub bn1: BatchNorm2d,
    /// `ReLU(inplace=True)`, used twice.
    pub relu: ReLU,
    /// 3×3.
    pub conv2: Conv2d,
    /// After `conv2` (zero-initialised with `zero_init_residual`).
    pub bn2: BatchNorm2d,
    /// The shortcut's projection, where the shape changes.
    pub downsample: Option<Sequential>,
    /// The stride of the block's first 3×3 convolution (torchvision keeps it).
    pub stride: i64,
}

impl BasicBlock {
    /// `expansion`: output channels per `planes`.
    pub const EXPANSION: i64 = 1;

    /// `BasicBlock(inplanes, planes, stride, downsample)`.
    pub fn new(inplanes: i64, planes: i64, stride: i64, downsample: Option<Sequential>) -> Self {
        BasicBlock {
            conv1: conv3x3(inplanes, planes, stride),
            bn1: BatchNorm2d::new(planes),
            relu: ReLU::new().inplace(true),
            conv2: conv3x3(planes, planes, 1),
            bn2: BatchNorm2d::new(planes),
            downsample,
            stride,
        }
    }

    /// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let out = x
            .apply_t(&self.conv1, train)
            .apply_t(&self.bn1, train)
            .apply_t(&self.relu, train)
            .apply_t(&self.conv2, train)
            .apply_t(&self.bn2, train);
        add_identity(out, x, self.downsample.as_ref(), &self.relu, train)
    }
}

/// torchvision's `Bottleneck` (ResNet-50/101): 1×1, 3×3 (`stride`), 1×1
/// with 4× the channels, and a shortcut.
#[derive(Module)]
#[module(name = "Bottleneck")]
pub struct Bottleneck {
    /// 1×1 to `width`.
    pub conv1: Conv2d,
    /// After `conv1`.
    pub bn1: BatchNorm2d,
    /// 3×3, `stride`.
    pub conv2: Conv2d,
    /// After `conv2`.
    pub bn2: BatchNorm2d,
    /// 1×1 to `planes * 4`.
    pub conv3: Conv2d,
    /// After `conv3` (zero-initialised with `zero_init_residual`).
    pub bn3: BatchNorm2d,
    /// `ReLU(inplace=True)`, used three times.
    pub relu: ReLU,
    /// The shortcut's projection, where the shape changes.
    pub downsample: Option<Sequential>,
    /// The stride of the block's first 3×3 convolution (torchvision keeps it).
    pub stride: i64,
}

impl Bottleneck {
    /// `expansion`: output channels per `planes`.
    pub const EXPANSION: i64 = 4;

    /// `Bottleneck(inplanes, planes, stride, downsample)`.
    pub fn new(inplanes: i64, planes: i64, stride: i64, downsample: Option<Sequential>) -> Self {
        let width = planes;
        Bottleneck {
            conv1: conv1x1(inplanes, width, 1),
            bn1: BatchNorm2d::new(width),
            conv2: conv3x3(width, width, stride),
            bn2: BatchNorm2d::new(width),
            conv3: conv1x1(width, planes * Self::EXPANSION, 1),
            bn3: BatchNorm2d::new(planes * Self::EXPANSION),
            relu: ReLU::new().inplace(true),
            downsample,
            stride,
        }
    }

    /// The three convolutions plus the shortcut, then ReLU.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let out = x
            .apply_t(&self.conv1, train)
            .apply_t(&self.bn1, train)
            .apply_t(&self.relu, train)
            .apply_t(&self.conv2, train)
            .apply_t(&self.bn2, train)
            .apply_t(&self.relu, train)
            .apply_t(&self.conv3, train)
            .apply_t(&self.bn3, train);
        add_identity(out, x, self.downsample.as_ref(), &self.relu, train)
    }
}

/// torchvision's `ResNet`: a 7×7 stem, four stages of blocks (`layer1` …
/// `layer4`, [`Sequential`]s of [`BasicBlock`] or [`Bottleneck`]), global
/// average pooling and `fc`. Fields are public, so a new head is
/// `model.fc = Linear::new(512, 2)`.
///
/// ```
/// use cnn_lab::*;
/// let mut model = models::resnet18(None)?;
/// model.fc = Linear::new(512, 2);
/// let x = Tensor::zeros([1, 3, 64, 64], (Kind::Float, Device::Cpu));
/// assert_eq!(model.forward_t(&x, false).size(), [1, 2]);
/// assert_eq!(model.state_dict().last().unwrap().0, "fc.bias");
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Module)]
#[module(name = "ResNet", chain)]
pub struct ResNet {
    /// `Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)`.
    pub conv1: Conv2d,
    /// `BatchNorm2d(64)`.
    pub bn1: BatchNorm2d,
    /// `ReLU(inplace=True)`.
    pub relu: ReLU,
    /// `MaxPool2d(kernel_size=3, stride=2, padding=1)`.
    pub maxpool: MaxPool2d,
    /// 64 channels, stride 1.
    pub layer1: Sequential,
    /// 128 channels, stride 2.
    pub layer2: Sequential,
    /// 256 channels, stride 2.
    pub layer3: Sequential,
    /// 512 channels, stride 2.
    pub layer4: Sequential,
    /// `AdaptiveAvgPool2d((1, 1))`.
    pub avgpool: AdaptiveAvgPool2d,
    /// `Linear(512 * expansion, num_classes)`.
    pub fc: Linear,
}

#[derive(Clone, Copy, PartialEq)]
enum Block {
    Basic,
    Bottleneck,
}

impl Block {
    fn expansion(self) -> i64 {
        match self {
            Block::Basic => BasicBlock::EXPANSION,
            Block::Bottleneck => Bottleneck::EXPANSION,
        }
    }
}

fn make_layer(
    block: Block,
    inplanes: &mut i64,
    planes: i64,
    blocks: i64,
    stride: i64,
) -> Sequential {
    let expansion = block.expansion();
    let downsample = (stride != 1 || *inplanes != planes * expansion).then(|| {
        Sequential::new()
            .add(conv1x1(*inplanes, planes * expansion, stride))
            .add(BatchNorm2d::new(planes * expansion))
    });
    let mut layer = Sequential::new();
    let mut push = |inp: i64, stride: i64, down: Option<Sequential>| match block {
        Block::Basic => layer.push(BasicBlock::new(inp, planes, stride, down)),
        Block::Bottleneck => layer.push(Bottleneck::new(inp, planes, stride, down)),
    };
    push(*inplanes, stride, downsample);
    *inplanes = planes * expansion;
    for _ in 1..blocks {
        push(*inplanes, 1, None);
    }
    layer
}

impl ResNet {
    fn build(block: Block, layers: [i64; 4], num_classes: i64, zero_init_residual: bool) -> Self {
        let mut inplanes = 64;
        let layer1 = make_layer(block, &mut inplanes, 64, layers[0], 1);
        let layer2 = make_layer(block, &mut inplanes, 128, layers[1], 2);
        let layer3 = make_layer(block, &mut inplanes, 256, layers[2], 2);
        let layer4 = make_layer(block, &mut inplanes, 512, layers[3], 2);
        let model = ResNet {
            conv1: Conv2d::new(3, 64, 7).stride(2).padding(3).bias(false),
            bn1: BatchNorm2d::new(64),
            relu: ReLU::new().inplace(true),
            maxpool: MaxPool2d::new(3).stride(2).padding(1),
            layer1,
            layer2,
            layer3,
            layer4,
            avgpool: AdaptiveAvgPool2d::new((1, 1)),
            fc: Linear::new(512 * block.expansion(), num_classes),
        };
        init_fan_out_convs(&model, false, None);
        if zero_init_residual {
            let last_bn = if block == Block::Basic { "bn2" } else { "bn3" };
            init_each(&model, |_, m| {
                if matches!(m.type_name().as_str(), "BasicBlock" | "Bottleneck") {
                    for (name, child) in m.children() {
                        if name == last_bn {
                            if let Some(w) = own(child, "weight") {
                                init::constant(&w, 0.0);
                            }
                        }
                    }
                }
            });
        }
        model
    }

    /// The forward pass: stem, the four stages, pooling, `flatten(1)`, `fc`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.conv1, train)
            .apply_t(&self.bn1, train)
            .apply_t(&self.relu, train)
            .apply_t(&self.maxpool, train)
            .apply_t(&self.layer1, train)
            .apply_t(&self.layer2, train)
            .apply_t(&self.layer3, train)
            .apply_t(&self.layer4, train)
            .apply_t(&self.avgpool, train)
            .flatten(1, -1)
            .apply_t(&self.fc, train)
    }

    /// The forward pass as a chain ([`Module::chain`]): the stem, `layer1` … `layer4`, `avgpool`, `flatten(1)`, `fc`.
    pub fn stages(&self) -> Vec<Stage<'_>> {
        vec![
            Stage::Module("conv1", &self.conv1),
            Stage::Module("bn1", &self.bn1),
            Stage::Module("relu", &self.relu),
            Stage::Module("maxpool", &self.maxpool),
            Stage::Module("layer1", &self.layer1),
            Stage::Module("layer2", &self.layer2),
            Stage::Module("layer3", &self.layer3),
            Stage::Module("layer4", &self.layer4),
            Stage::Module("avgpool", &self.avgpool),
            Stage::FLATTEN,
            Stage::Module("fc", &self.fc),
        ]
    }
}

fn resnet(
    name: &str,
    block: Block,
    layers: [i64; 4],
    weights: Option<Weights>,
    options: ModelOptions,
) -> Result<ResNet> {
    options.only(name, &["num_classes", "zero_init_residual"])?;
    let num_classes = options.classes(weights.as_ref())?;
    let model = ResNet::build(
        block,
        layers,
        num_classes,
        options.zero_init_residual.unwrap_or(false),
    );
    load_weights(model, weights.as_ref())
}

macro_rules! resnet_builders {
    ($($name:ident, $with:ident, $block:expr, $layers:expr, $doc:literal;)*) => {$(
        #[doc = concat!("torchvision's `", stringify!($name), "(weights=None)`: ", $doc,
            ". With weights, they are loaded (strictly) and set `num_classes`.")]
        ///
        /// ```
        /// use cnn_lab::*;
        #[doc = concat!("let model = models::", stringify!($name), "(None)?;")]
        /// assert_eq!(model.fc.to_string().split(',').nth(1), Some(" out_features=1000"));
        /// # Ok::<(), cnn_lab::Error>(())
        /// ```
        pub fn $name(weights: Option<Weights>) -> Result<ResNet> {
            $with(weights, ModelOptions::new())
        }

        #[doc = concat!("[`", stringify!($name), "`] with keyword arguments: `num_classes`, `zero_init_residual`.")]
        pub fn $with(weights: Option<Weights>, options: ModelOptions) -> Result<ResNet> {
            resnet(stringify!($name), $block, $layers, weights, options)
        }
    )*};
}

resnet_builders! {
    resnet18, resnet18_with, Block::Basic, [2, 2, 2, 2], "ResNet-18, basic blocks [2, 2, 2, 2], 11.7 M parameters";
    resnet34, resnet34_with, Block::Basic, [3, 4, 6, 3], "ResNet-34, basic blocks [3, 4, 6, 3], 21.8 M parameters";
    resnet50, resnet50_with, Block::Bottleneck, [3, 4, 6, 3], "ResNet-50, bottlenecks [3, 4, 6, 3], 25.6 M parameters";
    resnet101, resnet101_with, Block::Bottleneck, [3, 4, 23, 3], "ResNet-101, bottlenecks [3, 4, 23, 3], 44.5 M parameters";
}
