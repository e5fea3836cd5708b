//! # cnn_lab — deep learning lectures in Rust, in Jupyter
//!
//! The Rust side of a PyTorch CNN lecture: loaders ([`data`]), PyTorch-named
//! layers with PyTorch's printout and torchinfo's `summary` ([`nn`]), `fit`
//! and evaluation ([`train`]), pictures ([`utils`]) and evcxr's rich display
//! ([`display`]).
//!
//! In an evcxr notebook:
//!
//! ```text
//! :dep cnn_lab = { path = "../crate" }
//! use cnn_lab::*;
//! ```
//!
//! brings every name the lecture uses into scope, `tch` included.
//!
//! How the crate is laid out (its rooms, the one-way flow from files to
//! pictures, where to add a layer, a picture or a dataset):
//! `ARCHITECTURE.md` at the repository's root.

// `#[derive(Module)]` names `::cnn_lab::…`, inside this crate too.
extern crate self as cnn_lab;

pub mod checkpoint;
pub mod cuda;
pub mod data;
pub mod display;
pub mod env;
pub mod error;
pub mod hub;
pub mod image;
pub mod interrupt;
pub mod loss;
pub mod models;
pub mod nn;
pub mod optim;
pub mod pth;
pub mod train;
pub mod utils;

pub mod tensor;

mod files;
mod ops;
mod pyfmt;
mod rng;

pub use tch;
pub use tch::{Device, Kind, Tensor};

pub use crate::image::{
    decode_image, pil_to_tensor, read_image, read_image_mode, to_pil_image, Image, ImageReadMode,
};
pub use checkpoint::{load_model, load_state_dict, read_state_dict, save_model, save_state_dict};
pub use checkpoint::{load_model_entry, read_state_dict_entry};
pub use cuda::{cuda_if_available, cuda_is_available};
pub use data::{
    data_root, load_fashion_mnist_dataset, load_mnist_dataset, random_split, Checksum, DataLoader,
    Dataset, DatasetOptions, FashionMNIST, ImageFolder, MnistSplit, Normalize, Subset,
    TensorDataset, MNIST,
};
pub use display::{DisplayHandle, Html, Png, Show};
pub use env::{device_from_env, env_or};
pub use error::{Error, Result};
pub use loss::{BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss};
pub use nn::*;
pub use optim::{Adam, Optimizer, ParamGroup, ParamGroups, Sgd, SGD};
pub use tensor::{Item, FLOAT_CPU, INT64_CPU};
pub use train::{
    evaluate, fit, manual_seed, test_binary_classification, test_multi_classification,
    train_one_epoch, FitOptions, FitResult, Mode, Progress,
};
pub use utils::{
    confusion_matrix, confusion_matrix_of, conv_kernels, feature_maps, plot_fit_result,
    pooling_before_after, show_augmented, show_images, ConfusionMatrix, FitCurves, ImageGrid,
};

// Learning-rate schedules (torch.optim.lr_scheduler) and the range test.
pub use optim::{
    CosineAnnealingLR, ExponentialLR, LrScheduler, MultiStepLR, OneCycleLR, PerGroup,
    ReduceLROnPlateau, StepLR,
};
// Transfer learning: fastai's fine_tune (freeze, one-cycle, discriminative rates).
pub use train::{fine_tune, FineTune, FineTuneResult, FrozenFeatures};
pub use train::{lr_find, LrFindOptions, LrFinder};
// Mistakes (fastai's ClassificationInterpretation).
pub use train::{most_confused, plot_top_losses, top_losses, TopLosses};
// Image transforms (torchvision.transforms), for photos and MNIST batches.
pub use data::transforms::{
    functional, CenterCrop, ColorJitter, Compose, ConvertImageDtype, ErasingValue, GaussianBlur,
    Grayscale, InterpolationMode, Pad, PaddingMode, RandomAdjustSharpness, RandomAffine,
    RandomApply, RandomChoice, RandomCrop, RandomErasing, RandomGrayscale, RandomHorizontalFlip,
    RandomInvert, RandomResizedCrop, RandomRotation, RandomVerticalFlip, Resize, ToTensor,
    Transform, TransformRng,
};
// torchvision's registry (torchvision.models.get_model / list_models); the
// builders themselves stay under `models::` (`models::resnet18(None)?`).
pub use models::{get_model, get_model_with, list_models, ModelOptions};
pub use utils::{predict, predict_folder, FolderPrediction, Prediction};
