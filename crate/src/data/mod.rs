//! Datasets and loaders (lecture: `module.data`).
//!
//! Files → dataset → loader batches:
//!
//! - [`idx`]: strict reading of IDX files, raw or `.gz`;
//! - [`MNIST`], [`FashionMNIST`]: torchvision's datasets over its folder
//!   layout (`ROOT/MNIST/raw/…`), with verified downloads ([`download`]),
//!   loaded as an [`MnistSplit`];
//! - [`Dataset`]: PyTorch's map-style dataset (a length and sample `i`),
//!   with [`TensorDataset`], [`Subset`] and [`random_split`];
//! - [`ImageFolder`]: torchvision's photos-in-class-folders dataset;
//! - [`DataLoader`]: batches of an in-memory split — the whole split lives
//!   in one tensor and a batch is an `index_select` (shuffled) or a slice (in
//!   order) of it, no per-sample work — or of any [`Dataset`], read,
//!   transformed and stacked on worker threads;
//! - [`load_mnist_dataset`], [`load_fashion_mnist_dataset`]: the lecture's
//!   one-line loaders.

mod dataset;
pub mod download;
mod folder;
pub mod idx;
mod loader;
mod mnist;
pub mod transforms;

pub use dataset::{random_split, Dataset, Lengths, Subset, TensorDataset};
pub use download::Checksum;
pub use folder::{default_loader, ImageFolder, ImageLoader, TargetTransform, IMG_EXTENSIONS};
pub(crate) use loader::Plan;
pub use loader::{Batches, DataLoader, Normalize, TryBatches};
pub use mnist::{
    data_root, load_fashion_mnist_dataset, load_mnist_dataset, DatasetOptions, FashionMNIST,
    MnistSplit, MNIST,
};
