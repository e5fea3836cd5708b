//! Datasets and loaders (lecture: `module.data`).
//!
//! Files → dataset tensor → loader batches:
//!
//! - [`idx`]: strict reading of IDX files, raw or `.gz`;
//! - [`MNIST`], [`FashionMNIST`]: torchvision's datasets over its folder
//!   layout (`ROOT/MNIST/raw/…`), with verified downloads ([`download`]);
//! - [`DataLoader`]: batches of an in-memory split — the whole split lives
//!   in one tensor and a batch is an `index_select` (shuffled) or a slice (in
//!   order) of it, no per-sample work;
//! - [`load_mnist_dataset`], [`load_fashion_mnist_dataset`]: the lecture's
//!   one-line loaders.

pub mod download;
pub mod idx;
mod loader;
mod mnist;
pub mod transforms;

pub use download::Checksum;
pub use loader::{Batches, DataLoader, Normalize};
pub use mnist::{
    data_root, load_fashion_mnist_dataset, load_mnist_dataset, Dataset, DatasetOptions,
    FashionMNIST, MNIST,
};
