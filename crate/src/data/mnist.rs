//! MNIST and Fashion-MNIST over torchvision's folder layout
//! (`ROOT/MNIST/raw/…`, `ROOT/FashionMNIST/raw/…`).

use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::dataset::{out_of_range, Dataset};
use super::download::{download_verified, Checksum};
use super::idx;
use super::loader::DataLoader;
use crate::error::{Error, Result};

/// What distinguishes one MNIST-format dataset from another: its folder,
/// mirrors, canonical files and class names (torchvision's class attributes).
#[derive(Debug)]
pub(crate) struct DatasetSpec {
    /// Folder under the root, torchvision's class name (`"MNIST"`).
    pub name: &'static str,
    /// Base URLs tried in order, as torchvision's `mirrors`.
    pub mirrors: &'static [&'static str],
    /// `(file.gz, md5 of the .gz)` as torchvision's `resources`.
    pub resources: &'static [(&'static str, &'static str)],
    /// Class names, as torchvision's `classes`.
    pub classes: &'static [&'static str],
    /// Environment variable that, when set, replaces `mirrors`
    /// (comma-separated base URLs).
    pub mirrors_env: &'static str,
}

const MNIST_SPEC: DatasetSpec = DatasetSpec {
    name: "MNIST",
    mirrors: &[
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    resources: &[
        (
            "train-images-idx3-ubyte.gz",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "d53e105ee54ea40749a09fcbcd1e9432",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "9fb629c4189551a2d022fa330f9573f3",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    ],
    classes: &MNIST::CLASSES,
    mirrors_env: "CNN_LAB_MNIST_MIRRORS",
};

const FASHION_MNIST_SPEC: DatasetSpec = DatasetSpec {
    name: "FashionMNIST",
    mirrors: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    resources: &[
        (
            "train-images-idx3-ubyte.gz",
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "25c81989df183df01b3e8a0aad5dffbe",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "bef4ecab320f06d8554ea6380940ec79",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    ],
    classes: &FashionMNIST::CLASSES,
    mirrors_env: "CNN_LAB_FASHION_MNIST_MIRRORS",
};

/// torchvision's `datasets.MNIST`: handwritten digits, 60,000 train and
/// 10,000 test images of 28×28.
///
/// ```no_run
/// use cnn_lab::data::MNIST;
/// let test = MNIST::new("data").train(false).download(true).load()?;
/// assert_eq!(test.len(), 10_000);
/// assert_eq!(MNIST::CLASSES[3], "3 - three");
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[allow(clippy::upper_case_acronyms)] // torchvision's name, which the lecture uses
#[derive(Debug, Clone, Copy)]
pub struct MNIST;

impl MNIST {
    /// torchvision's `MNIST.classes`.
    pub const CLASSES: [&'static str; 10] = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ];

    /// Options for MNIST under `root` (torchvision's defaults:
    /// `train=True`, `download=False`).
    #[allow(clippy::new_ret_no_self)] // a builder, like `MNIST(root, …)` returns a dataset
    pub fn new(root: impl Into<PathBuf>) -> DatasetOptions {
        DatasetOptions::new(&MNIST_SPEC, root.into())
    }
}

/// torchvision's `datasets.FashionMNIST`: Zalando's clothing images, same
/// format and sizes as MNIST.
///
/// ```no_run
/// use cnn_lab::data::FashionMNIST;
/// let train = FashionMNIST::new("data").download(true).load()?;
/// assert_eq!(train.classes()[9], "Ankle boot");
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FashionMNIST;

impl FashionMNIST {
    /// torchvision's `FashionMNIST.classes`.
    pub const CLASSES: [&'static str; 10] = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ];

    /// Options for Fashion-MNIST under `root` (torchvision's defaults:
    /// `train=True`, `download=False`).
    #[allow(clippy::new_ret_no_self)] // a builder, like `FashionMNIST(root, …)`
    pub fn new(root: impl Into<PathBuf>) -> DatasetOptions {
        DatasetOptions::new(&FASHION_MNIST_SPEC, root.into())
    }
}

/// Where and how to load an MNIST-format dataset: built by [`MNIST::new`]
/// or [`FashionMNIST::new`], finished by [`load`](DatasetOptions::load).
#[derive(Debug, Clone)]
pub struct DatasetOptions {
    spec: &'static DatasetSpec,
    root: PathBuf,
    train: bool,
    download: bool,
    mirrors: Option<Vec<String>>,
    checksums: Vec<(String, Checksum)>,
}

impl DatasetOptions {
    fn new(spec: &'static DatasetSpec, root: PathBuf) -> Self {
        DatasetOptions {
            spec,
            root,
            train: true,
            download: false,
            mirrors: None,
            checksums: Vec::new(),
        }
    }

    /// The training split (`true`, default) or the test split.
    pub fn train(mut self, train: bool) -> Self {
        self.train = train;
        self
    }

    /// Download missing files (default `false`, as torchvision).
    pub fn download(mut self, download: bool) -> Self {
        self.download = download;
        self
    }

    /// Base URLs to download from instead of the canonical mirrors (which
    /// the environment variable `CNN_LAB_MNIST_MIRRORS` /
    /// `CNN_LAB_FASHION_MNIST_MIRRORS`, comma-separated, also replaces).
    pub fn mirrors<S: Into<String>>(mut self, mirrors: impl IntoIterator<Item = S>) -> Self {
        self.mirrors = Some(mirrors.into_iter().map(Into::into).collect());
        self
    }

    /// Check the download of `file_name` (e.g. `"t10k-labels-idx1-ubyte.gz"`)
    /// against `checksum` instead of torchvision's MD5, for a mirror that
    /// serves the same data differently compressed.
    pub fn checksum(mut self, file_name: &str, checksum: Checksum) -> Self {
        self.checksums.retain(|(f, _)| f != file_name);
        self.checksums.push((file_name.to_string(), checksum));
        self
    }

    /// `ROOT/<Name>/raw`, where the IDX files live.
    pub fn raw_folder(&self) -> PathBuf {
        self.root.join(self.spec.name).join("raw")
    }

    /// The base URLs that downloads try, in order.
    pub fn effective_mirrors(&self) -> Vec<String> {
        if let Some(m) = &self.mirrors {
            return m.clone();
        }
        if let Some(m) = crate::env::list(self.spec.mirrors_env) {
            return m;
        }
        self.spec.mirrors.iter().map(|s| s.to_string()).collect()
    }

    /// The split's `(images, labels)` file stems.
    fn stems(&self) -> [&'static str; 2] {
        if self.train {
            ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
        } else {
            ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
        }
    }

    /// The file for `stem`: the raw one if present (torchvision's choice),
    /// else the `.gz`.
    fn find(&self, stem: &str) -> Option<PathBuf> {
        let raw = self.raw_folder().join(stem);
        let gz = self.raw_folder().join(format!("{stem}.gz"));
        [raw, gz].into_iter().find(|p| p.is_file())
    }

    /// Downloads every file of the split that is missing.
    fn download_missing(&self) -> Result<()> {
        let folder = self.raw_folder();
        let mirrors = self.effective_mirrors();
        for stem in self.stems() {
            if self.find(stem).is_some() {
                continue;
            }
            let gz = format!("{stem}.gz");
            let checksum = match self.checksums.iter().find(|(f, _)| *f == gz) {
                Some((_, c)) => c.clone(),
                None => {
                    let md5 = self.spec.resources.iter().find(|(f, _)| *f == gz);
                    Checksum::File(md5.expect("every split file has a resource").1.into())
                }
            };
            std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
            download_verified(&mirrors, &gz, &checksum, &folder.join(&gz)).map_err(|e| {
                Error::Download(format!(
                    "{}\n{}",
                    e.to_string().trim_start_matches("download failed: "),
                    self.where_to_put()
                ))
            })?;
        }
        Ok(())
    }

    fn where_to_put(&self) -> String {
        let [i, l] = self.stems();
        format!(
            "Put {i}.gz and {l}.gz (or the unzipped files) in {} \
             — torchvision's layout, so a folder torchvision downloaded into works.",
            self.raw_folder().display()
        )
    }

    /// Reads the split: checks both files strictly and decodes them once.
    pub fn load(&self) -> Result<MnistSplit> {
        if self.download {
            self.download_missing()?;
        }
        let [img_stem, lbl_stem] = self.stems();
        let (Some(img_path), Some(lbl_path)) = (self.find(img_stem), self.find(lbl_stem)) else {
            let missing: Vec<&str> = self
                .stems()
                .into_iter()
                .filter(|s| self.find(s).is_none())
                .collect();
            return Err(Error::InvalidArgument(format!(
                "{} {} split not found: missing {} in {}. {} Or ask for a download \
                 (`.download(true)`), which needs network access.",
                self.spec.name,
                if self.train { "train" } else { "test" },
                missing.join(" and "),
                self.raw_folder().display(),
                self.where_to_put()
            )));
        };
        let images = idx::read_images(&img_path, 28, 28)?;
        let labels = idx::read_labels(&lbl_path, self.spec.classes.len())?;
        if images.dims[0] != labels.dims[0] {
            return Err(Error::format(
                &lbl_path,
                format!(
                    "{} labels but {} has {} images: expected equal counts",
                    labels.dims[0],
                    img_path.display(),
                    images.dims[0]
                ),
            ));
        }
        Ok(MnistSplit {
            data: images.to_tensor(),
            targets: labels.to_tensor().f_to_kind(Kind::Int64)?,
            classes: self.spec.classes,
            name: self.spec.name,
            train: self.train,
        })
    }
}

/// A loaded MNIST-format split (MNIST or Fashion-MNIST), as torchvision's
/// dataset object: `data` (`uint8` `[N, 28, 28]`) and `targets` (`int64`
/// `[N]`). A [`Dataset`] whose samples are `ToTensor()` images `float32
/// [1, 28, 28]` with scalar `int64` labels, so that it can be split
/// ([`random_split`](super::random_split)) and loaded as any dataset; its
/// [`into_loader`](MnistSplit::into_loader) is the faster in-memory loader.
///
/// ```no_run
/// use cnn_lab::data::{random_split, DataLoader, MNIST};
/// let train = MNIST::new(cnn_lab::data_root()).load()?;
/// let parts = random_split(train, [0.9, 0.1], 42)?;
/// let val_loader = DataLoader::from_dataset(parts[1].clone(), 256)?;
/// assert_eq!(val_loader.num_samples(), 6_000);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
#[derive(Debug)]
pub struct MnistSplit {
    /// Images as stored in the file, `uint8` `[N, 28, 28]`.
    pub data: Tensor,
    /// Labels, `int64` `[N]`.
    pub targets: Tensor,
    classes: &'static [&'static str],
    name: &'static str,
    train: bool,
}

// SAFETY: as for `TensorDataset` (data/dataset.rs): a split is only read
// through `&self` (`narrow`, `get`, `shallow_clone`), which is what
// `shallow_clone`s of its tensors on several threads may already do.
unsafe impl Sync for MnistSplit {}

impl MnistSplit {
    /// Number of samples (`len(dataset)`).
    pub fn len(&self) -> usize {
        self.data.size()[0] as usize
    }

    /// True when the split has no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Class names, index = label.
    pub fn classes(&self) -> &'static [&'static str] {
        self.classes
    }

    /// `"MNIST"` or `"FashionMNIST"`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether this is the training split.
    pub fn is_train(&self) -> bool {
        self.train
    }

    /// Sample `index` as `dataset[index]` with `transform=ToTensor()`:
    /// `float32` `[1, 28, 28]` in `[0, 1]` and the label as a number (the
    /// [`Dataset`] trait's `get` gives it as a tensor).
    pub fn get(&self, index: usize) -> Result<(Tensor, i64)> {
        if index >= self.len() {
            return Err(out_of_range(self.name, index, self.len()));
        }
        let i = index as i64;
        let image = idx::to_float_images(&self.data.f_narrow(0, i, 1)?)?.f_squeeze_dim(0)?;
        Ok((image, self.targets.f_int64_value(&[i])?))
    }

    /// All images as `ToTensor()` gives them, stacked: `float32`
    /// `[N, 1, 28, 28]` in `[0, 1]`.
    pub fn images(&self) -> Result<Tensor> {
        idx::to_float_images(&self.data)
    }

    /// A [`DataLoader`] over this split (in order, CPU; use its builder for
    /// `shuffle`, `drop_last`, `device`, `normalize`).
    pub fn into_loader(self, batch_size: usize) -> Result<DataLoader> {
        let images = self.images()?;
        DataLoader::new(images, self.targets, batch_size)
    }
}

impl Dataset for MnistSplit {
    fn len(&self) -> usize {
        MnistSplit::len(self)
    }

    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        let (image, label) = MnistSplit::get(self, index)?;
        Ok((image, Tensor::from(label)))
    }

    /// Stored images: the same every read.
    fn is_random(&self) -> bool {
        false
    }
}

/// Root of the project's datasets: `$CNN_LAB_DATA` when set, else `data`
/// (relative to the working directory, a notebook's folder). Downloads go
/// here, in torchvision's layout.
///
/// ```
/// let root = cnn_lab::data::data_root();
/// assert!(!root.as_os_str().is_empty());
/// ```
pub fn data_root() -> PathBuf {
    crate::env::path("CNN_LAB_DATA").unwrap_or_else(|| PathBuf::from("data"))
}

fn lecture_loader(
    options: DatasetOptions,
    batch_size: usize,
    is_train: bool,
) -> Result<DataLoader> {
    Ok(options
        .train(is_train)
        .download(true)
        .load()?
        .into_loader(batch_size)?
        .shuffle(is_train))
}

/// The lecture's `load_mnist_dataset(data_path, batch_size, is_train)`:
/// MNIST under `root` (downloaded there if missing) as a [`DataLoader`] of
/// `ToTensor()` images `float32 [B, 1, 28, 28]` in `[0, 1]` and `int64 [B]`
/// labels, on the CPU.
///
/// The train split is shuffled (a new seeded order every epoch), the test
/// split comes in file order. Both keep `drop_last = false`, PyTorch's
/// default that the lecture's Python uses: every sample is seen each epoch
/// and the last batch may be smaller (60,000 = 234·256 + 96), so losses and
/// accuracies match the Python numbers. Chain `.drop_last(true)`,
/// `.device(…)`, `.normalize(…)` or `.seed(…)` to change that.
///
/// ```no_run
/// use cnn_lab::*;
/// let train_loader = load_mnist_dataset(data_root(), 64, true)?;
/// let test_loader = load_mnist_dataset(data_root(), 64, false)?;
/// assert_eq!(train_loader.len(), 938);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn load_mnist_dataset(
    root: impl AsRef<Path>,
    batch_size: usize,
    is_train: bool,
) -> Result<DataLoader> {
    lecture_loader(MNIST::new(root.as_ref()), batch_size, is_train)
}

/// The lecture's `load_fashion_mnist_dataset(data_path, batch_size,
/// is_train)`: as [`load_mnist_dataset`] (same shuffling and
/// `drop_last = false`, for the same reasons) over Fashion-MNIST.
///
/// ```no_run
/// use cnn_lab::*;
/// let test_loader = load_fashion_mnist_dataset(data_root(), 256, false)?;
/// assert_eq!(test_loader.num_samples(), 10_000);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn load_fashion_mnist_dataset(
    root: impl AsRef<Path>,
    batch_size: usize,
    is_train: bool,
) -> Result<DataLoader> {
    lecture_loader(FashionMNIST::new(root.as_ref()), batch_size, is_train)
}
