//! Pretrained weights as torchvision describes them (`ResNet18_Weights.IMAGENET1K_V1`):
//! where the file comes from, what it is called in PyTorch's hub cache, its
//! `meta` (parameters, accuracy, categories), the preprocessing it expects
//! (`weights.transforms()`) and how it is loaded into a model.
//!
//! Each torchvision weights enum is a type here with one constant per member
//! and `DEFAULT`, generated from the venv's torchvision by
//! `scripts/gen_weights_table.py`:
//!
//! ```
//! use cnn_lab::models::{ResNet50_Weights, Weights};
//! let weights: Weights = ResNet50_Weights::DEFAULT;
//! assert_eq!(weights.to_string(), "ResNet50_Weights.IMAGENET1K_V2");
//! assert_eq!(weights.meta.num_params, 25_557_032);
//! assert_eq!(weights.meta.metrics.acc1, 80.858);
//! assert_eq!(weights.categories().unwrap()[0], "tench");
//! assert_eq!(weights.transforms().resize_size, 232);
//! ```
//!
//! Files are looked for, and downloaded to, PyTorch's own cache folder
//! ([`crate::hub`]): a file PyTorch downloaded is used here as it is.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;

use tch::Tensor;

use crate::error::{Error, Result};
use crate::hub::{self, HubOptions};
use crate::nn::ModuleExt;

mod preset;
#[rustfmt::skip]
mod table;

pub use preset::{ImageClassification, InterpolationMode};
pub use table::*;

/// One set of published weights (torchvision's `WeightsEnum` member): the
/// constants of the generated types ([`ResNet18_Weights::IMAGENET1K_V1`], …).
///
/// It prints as torchvision's `repr`, `ResNet18_Weights.IMAGENET1K_V1`, and
/// two are equal when they are the same member (`DEFAULT` is its alias).
///
/// ```
/// use cnn_lab::models::{ResNet18_Weights, Weights};
/// let w: Weights = ResNet18_Weights::IMAGENET1K_V1;
/// assert_eq!(w, ResNet18_Weights::DEFAULT);
/// assert_eq!(w.file_name(), "resnet18-f37072fd.pth");
/// assert_eq!(w.num_classes, 1000);
/// assert_eq!(format!("{w:?}"), "ResNet18_Weights.IMAGENET1K_V1");
/// ```
#[derive(Clone, Copy)]
pub struct Weights {
    /// torchvision's name, `"ResNet18_Weights.IMAGENET1K_V1"`.
    pub name: &'static str,
    /// Where torchvision downloads the file from.
    pub url: &'static str,
    /// How many classes the weights' head has (`len(meta["categories"])`;
    /// 1000 for a feature extractor without categories).
    pub num_classes: i64,
    /// torchvision's `meta`.
    pub meta: WeightsMeta,
    /// The preprocessing the weights were evaluated with
    /// (`weights.transforms()`; see [`Weights::transforms`]).
    pub preset: ImageClassification,
}

/// torchvision's `weights.meta`, the fields a classification weights carries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeightsMeta {
    /// `meta["num_params"]`: the model's parameter count.
    pub num_params: i64,
    /// `meta["min_size"]`: the smallest (height, width) the model accepts.
    pub min_size: (i64, i64),
    /// `meta["categories"]`: the classes the head predicts, in order;
    /// `None` for a feature extractor (`VGG16_Weights.IMAGENET1K_FEATURES`).
    pub categories: Option<Categories>,
    /// `meta["_metrics"]["ImageNet-1K"]`.
    pub metrics: Metrics,
    /// `meta["recipe"]`: how the weights were trained (a link).
    pub recipe: &'static str,
    /// `meta["_ops"]`: GFLOPS of one forward pass at the preset's size.
    pub ops: f64,
    /// `meta["_file_size"]`: the file's size in MB.
    pub file_size: f64,
}

/// Accuracy on ImageNet-1K's validation set, in percent
/// (`meta["_metrics"]["ImageNet-1K"]`); NaN where torchvision gives none.
///
/// ```
/// use cnn_lab::models::VGG16_Weights;
/// let m = VGG16_Weights::IMAGENET1K_V1.meta.metrics;
/// assert_eq!((m.acc1, m.acc5), (71.592, 90.382));
/// assert!(VGG16_Weights::IMAGENET1K_FEATURES.meta.metrics.acc1.is_nan());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    /// `"acc@1"`: top-1 accuracy.
    pub acc1: f64,
    /// `"acc@5"`: top-5 accuracy.
    pub acc5: f64,
}

/// A list of class names a head predicts (`meta["categories"]`).
///
/// ```
/// use cnn_lab::models::Categories;
/// let names = Categories::ImageNet1K.names();
/// assert_eq!(names.len(), 1000);
/// assert_eq!(names[207], "golden retriever");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Categories {
    /// ImageNet-1K's 1,000 classes
    /// (`torchvision.models._meta._IMAGENET_CATEGORIES`), from
    /// `crate/assets/imagenet_classes.txt`.
    ImageNet1K,
}

impl Categories {
    /// The names, in class-index order.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Categories::ImageNet1K => {
                static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
                NAMES.get_or_init(|| {
                    include_str!("../../../assets/imagenet_classes.txt")
                        .lines()
                        .collect()
                })
            }
        }
    }
}

impl Weights {
    /// The file's name: the URL's last part, as `torch.hub` names it in its cache.
    ///
    /// ```
    /// use cnn_lab::models::AlexNet_Weights;
    /// assert_eq!(AlexNet_Weights::DEFAULT.file_name(), "alexnet-owt-7be5be79.pth");
    /// ```
    pub fn file_name(&self) -> &'static str {
        self.url.rsplit('/').next().unwrap_or(self.url)
    }

    /// The enum's name, `"ResNet18_Weights"`.
    ///
    /// ```
    /// use cnn_lab::models::ResNet18_Weights;
    /// let w = ResNet18_Weights::DEFAULT;
    /// assert_eq!((w.enum_name(), w.member_name()), ("ResNet18_Weights", "IMAGENET1K_V1"));
    /// ```
    pub fn enum_name(&self) -> &'static str {
        self.name.split_once('.').map_or(self.name, |(e, _)| e)
    }

    /// The member's name, `"IMAGENET1K_V1"` (Python's `weights.name`).
    pub fn member_name(&self) -> &'static str {
        self.name.split_once('.').map_or(self.name, |(_, m)| m)
    }

    /// torchvision's `weights.transforms()`: the preprocessing preset, a
    /// value that prints as torchvision prints it.
    ///
    /// ```
    /// use cnn_lab::models::{EfficientNet_B0_Weights, InterpolationMode};
    /// let t = EfficientNet_B0_Weights::DEFAULT.transforms();
    /// assert_eq!((t.resize_size, t.crop_size), (256, 224));
    /// assert_eq!(t.interpolation, InterpolationMode::BICUBIC);
    /// ```
    pub fn transforms(&self) -> ImageClassification {
        self.preset
    }

    /// `weights.meta["categories"]` as names, `None` for a feature extractor.
    ///
    /// ```
    /// use cnn_lab::models::MobileNet_V3_Small_Weights;
    /// let names = MobileNet_V3_Small_Weights::DEFAULT.categories().unwrap();
    /// assert_eq!(names[1], "goldfish");
    /// ```
    pub fn categories(&self) -> Option<&'static [&'static str]> {
        self.meta.categories.map(Categories::names)
    }

    /// PyTorch's hub cache folder for weights: `$TORCH_HOME/hub/checkpoints`
    /// (`TORCH_HOME` defaults to `$XDG_CACHE_HOME/torch`, then
    /// `~/.cache/torch`); see [`hub::get_dir`].
    ///
    /// ```
    /// use cnn_lab::models::Weights;
    /// assert!(Weights::cache_dir().ends_with("hub/checkpoints"));
    /// ```
    pub fn cache_dir() -> PathBuf {
        hub::checkpoints_dir()
    }

    /// The file in the hub cache, if it is there; otherwise an error naming
    /// the URL and the folder to put the file in. Downloads nothing (see
    /// [`Weights::download`]).
    ///
    /// ```
    /// use cnn_lab::models::SqueezeNet1_1_Weights;
    /// let w = SqueezeNet1_1_Weights::DEFAULT;
    /// match w.state_dict_path() {
    ///     Ok(path) => assert!(path.ends_with("squeezenet1_1-b8a52dc0.pth")),
    ///     Err(e) => assert!(e.to_string().contains(w.url)),
    /// }
    /// ```
    pub fn state_dict_path(&self) -> Result<PathBuf> {
        let path = Self::cache_dir().join(self.file_name());
        if path.is_file() {
            Ok(path)
        } else {
            Err(Error::InvalidArgument(format!(
                "{}: {} is not in {}; download {} into that folder",
                self.name,
                self.file_name(),
                Self::cache_dir().display(),
                self.url
            )))
        }
    }

    /// The file in the hub cache, downloaded first if it is not there (with
    /// the hash check torchvision asks for, `check_hash=True`); `progress`
    /// shows the download. See [`hub::cached_file_from_url`].
    ///
    /// ```no_run
    /// use cnn_lab::models::ResNet18_Weights;
    /// let path = ResNet18_Weights::DEFAULT.download(true)?;
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn download(&self, progress: bool) -> Result<PathBuf> {
        hub::cached_file_from_url(self.url, &self.hub_options(progress))
    }

    fn hub_options(&self, progress: bool) -> HubOptions {
        HubOptions::default()
            .progress(progress)
            .check_hash(true)
            .model_dir(Self::cache_dir())
    }

    /// torchvision's `weights.get_state_dict(progress=…, check_hash=True)`:
    /// the file's tensors as they are stored (onto the CPU), downloaded
    /// first if needed. Nothing in the file is run.
    ///
    /// ```no_run
    /// use cnn_lab::models::SqueezeNet1_1_Weights;
    /// let state_dict = SqueezeNet1_1_Weights::DEFAULT.get_state_dict(true)?;
    /// assert_eq!(state_dict[0].0, "features.0.weight");
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn get_state_dict(&self, progress: bool) -> Result<Vec<(String, Tensor)>> {
        hub::load_state_dict_from_url(self.url, &self.hub_options(progress))
    }

    /// Loads the weights into `model` (strict, as torchvision's builders'
    /// `model.load_state_dict(weights.get_state_dict(progress=True,
    /// check_hash=True))`), downloading the file first if it is not in the
    /// cache. See [`Weights::load_into_with_progress`].
    pub fn load_into<M: ModuleExt + ?Sized>(&self, model: &M) -> Result<()> {
        self.load_into_with_progress(model, true)
    }

    /// [`Weights::load_into`] with torchvision's `progress` argument.
    ///
    /// Two things torchvision's loading does for the older published files
    /// are done here too:
    /// - DenseNet's old key names (`denselayer1.norm.1.weight`) become the
    ///   model's (`denselayer1.norm1.weight`), as `densenet.py` renames them;
    /// - a BatchNorm whose `running_mean` is in the file but whose
    ///   `num_batches_tracked` is not (files written before PyTorch 0.4.1)
    ///   keeps the model's own counter, as BatchNorm's
    ///   `_load_from_state_dict` does for such files.
    ///
    /// ```no_run
    /// # use cnn_lab::*;
    /// use cnn_lab::models::SqueezeNet1_1_Weights;
    /// # fn squeezenet1_1() -> Linear { Linear::new(1, 1) }
    /// let model = squeezenet1_1(); // a model with torchvision's state_dict keys
    /// SqueezeNet1_1_Weights::DEFAULT.load_into_with_progress(&model, false)?;
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn load_into_with_progress<M: ModuleExt + ?Sized>(
        &self,
        model: &M,
        progress: bool,
    ) -> Result<()> {
        let mut state_dict = self.get_state_dict(progress)?;
        if self.enum_name().starts_with("DenseNet") {
            for (key, _) in state_dict.iter_mut() {
                *key = super::densenet_key(key);
            }
        }
        let present: HashSet<String> = state_dict.iter().map(|(k, _)| k.clone()).collect();
        for (key, own) in model.state_dict() {
            let Some(prefix) = key.strip_suffix("num_batches_tracked") else {
                continue;
            };
            if !present.contains(&key) && present.contains(&format!("{prefix}running_mean")) {
                state_dict.push((key, own));
            }
        }
        crate::checkpoint::load_state_dict(model, &state_dict)
    }
}

impl PartialEq for Weights {
    /// The same member (torchvision compares the URL and the meta; names
    /// and URLs identify a member here).
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.url == other.url
    }
}

impl Eq for Weights {}

impl fmt::Display for Weights {
    /// torchvision's `repr`: `ResNet18_Weights.IMAGENET1K_V1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl fmt::Debug for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// torchvision's `get_weight(name)`: the weights called
/// `"ResNet50_Weights.IMAGENET1K_V2"` (or `"ResNet50_Weights.DEFAULT"`).
///
/// ```
/// use cnn_lab::models::{get_weight, ResNet50_Weights};
/// assert_eq!(get_weight("ResNet50_Weights.DEFAULT")?, ResNet50_Weights::IMAGENET1K_V2);
/// assert!(get_weight("ResNet50_Weights.V3").is_err());
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn get_weight(name: &str) -> Result<Weights> {
    let found = name.split_once('.').and_then(|(enum_name, member)| {
        let e = table::MODEL_WEIGHTS.iter().find(|e| e.name == enum_name)?;
        if member == "DEFAULT" {
            return Some(e.default);
        }
        e.members
            .iter()
            .copied()
            .find(|w| w.member_name() == member)
    });
    found.ok_or_else(|| {
        Error::InvalidArgument(format!(
            "unknown weights {name:?}; known: {}",
            table::MODEL_WEIGHTS
                .iter()
                .flat_map(|e| e.members.iter().map(|w| w.name))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// One weights enum in the table: its builder, its name, its members and
/// its `DEFAULT`.
pub(crate) struct WeightsEnum {
    /// The builder's name, `"resnet50"`.
    pub(crate) model: &'static str,
    /// The enum's name, `"ResNet50_Weights"`.
    pub(crate) name: &'static str,
    /// The members, in torchvision's order.
    pub(crate) members: &'static [Weights],
    /// The `DEFAULT` alias' target.
    pub(crate) default: Weights,
}

/// torchvision's `get_model_weights(name)`: the members of the weights enum
/// of the builder `name` (`"resnet50"` gives `ResNet50_Weights`' members,
/// in order).
///
/// ```
/// use cnn_lab::models::{get_model_weights, ResNet50_Weights};
/// let members = get_model_weights("resnet50")?;
/// assert_eq!(members, ResNet50_Weights::MEMBERS);
/// assert_eq!(members.len(), 2);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn get_model_weights(name: &str) -> Result<&'static [Weights]> {
    table::MODEL_WEIGHTS
        .iter()
        .find(|e| e.model == name)
        .map(|e| e.members)
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "no weights listed for a model called {name:?}; known: {}",
                table::MODEL_WEIGHTS
                    .iter()
                    .map(|e| e.model)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}
