//! torchvision's `datasets.ImageFolder`: photos in one sub-folder per class.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tch::Tensor;

use super::dataset::{class_label, out_of_range, transform_image, Dataset};
use super::transforms::{Transform, TransformRng};
use crate::error::{Error, Result};
use crate::image::{read_image_mode, ImageReadMode};

/// torchvision's `IMG_EXTENSIONS`: the file endings [`ImageFolder`] takes,
/// compared case-insensitively (`.JPG` is a `.jpg`).
pub const IMG_EXTENSIONS: [&str; 9] = [
    ".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp",
];

/// A function that reads the image at a path (an [`ImageFolder`]'s
/// `loader`).
pub type ImageLoader = dyn Fn(&Path) -> Result<Tensor> + Send + Sync;

/// A function from a class index to the label tensor (an
/// [`ImageFolder`]'s `target_transform`).
pub type TargetTransform = dyn Fn(i64) -> Tensor + Send + Sync;

/// torchvision's `datasets.ImageFolder(root)`: images laid out as
/// `root/<class>/<image>` (any depth below the class folder), the classes
/// being the sub-folders of `root`.
///
/// The rules are torchvision's:
///
/// - classes: the names of `root`'s sub-folders (symbolic links to folders
///   count), sorted; `class_to_idx` numbers them in that order;
/// - samples: for each class in order, the files under its folder whose
///   name ends (case-insensitively) in one of [`IMG_EXTENSIONS`], ordered
///   as torchvision's `make_dataset` orders them — folders by their path
///   as a string, the files of a folder by name — so that
///   `dataset[i]` is the same photo in Python and here;
/// - a class folder with no image is an error, as is a `root` without class
///   folders; the messages are torchvision's.
///
/// One difference: **folders whose name starts with a dot are skipped**,
/// at the top and below. Jupyter writes `.ipynb_checkpoints` into any
/// folder a learner opens; torchvision takes it for a class (and then
/// refuses the whole folder, as it holds no image).
///
/// Sample `i` is `(image, label)`: the image as the `loader` reads it —
/// by default [`read_image_mode`](crate::image::read_image_mode) in RGB,
/// `uint8 [3, H, W]` (what `pil_loader`'s `convert("RGB")` gives, as a
/// tensor) — then its `transform`; the label a scalar `int64` class
/// index, or what `target_transform` makes of it. Nothing is decoded
/// until a sample is asked for.
///
/// ```no_run
/// use cnn_lab::data::{DataLoader, Dataset, ImageFolder};
/// let pets = ImageFolder::new("data/pets")?;
/// println!("{:?} {:?}", pets.classes(), pets.class_to_idx());
/// let (photo, label) = pets.get(0)?;
/// assert_eq!(photo.size()[0], 3);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub struct ImageFolder {
    root: PathBuf,
    classes: Vec<String>,
    class_to_idx: BTreeMap<String, usize>,
    samples: Vec<(PathBuf, usize)>,
    loader: Arc<ImageLoader>,
    transform: Option<Arc<dyn Transform>>,
    target_transform: Option<Arc<TargetTransform>>,
}

impl ImageFolder {
    /// `ImageFolder(root)`: finds the classes and the samples now (no
    /// image is read).
    pub fn new(root: impl AsRef<Path>) -> Result<ImageFolder> {
        let root = expand_user(root.as_ref());
        let classes = find_classes(&root)?;
        let class_to_idx: BTreeMap<String, usize> = classes
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.clone(), i))
            .collect();
        let samples = make_dataset(&root, &classes)?;
        Ok(ImageFolder {
            root,
            classes: classes.into_iter().map(|(name, _)| name).collect(),
            class_to_idx,
            samples,
            loader: Arc::new(default_loader),
            transform: None,
            target_transform: None,
        })
    }

    /// `loader=`: how a file becomes an image tensor (default: RGB
    /// `uint8 [3, H, W]`).
    ///
    /// ```no_run
    /// use cnn_lab::data::ImageFolder;
    /// use cnn_lab::image::{read_image_mode, ImageReadMode};
    /// let gray = ImageFolder::new("data/digits")?
    ///     .loader(|path| read_image_mode(path, ImageReadMode::GRAY));
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn loader(
        mut self,
        loader: impl Fn(&Path) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Self {
        self.loader = Arc::new(loader);
        self
    }

    /// `transform=`: applied to each image after loading, with its own
    /// random parameters (drawn per epoch and per sample by the
    /// [`DataLoader`](super::DataLoader)).
    pub fn transform(mut self, transform: impl Transform + 'static) -> Self {
        self.transform = Some(Arc::new(transform));
        self
    }

    /// `target_transform=`: the label tensor made from the class index
    /// (e.g. a `[1]` `float32` target for `BCEWithLogitsLoss`).
    ///
    /// ```no_run
    /// use cnn_lab::data::ImageFolder;
    /// use cnn_lab::Tensor;
    /// let cats_vs_dogs = ImageFolder::new("data/pets")?
    ///     .target_transform(|class| Tensor::from_slice(&[class as f32]));
    /// # Ok::<(), cnn_lab::Error>(())
    /// ```
    pub fn target_transform(mut self, f: impl Fn(i64) -> Tensor + Send + Sync + 'static) -> Self {
        self.target_transform = Some(Arc::new(f));
        self
    }

    /// The folder the dataset was read from (`dataset.root`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The class names, sorted (`dataset.classes`); index = label.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Class name → index (`dataset.class_to_idx`).
    pub fn class_to_idx(&self) -> &BTreeMap<String, usize> {
        &self.class_to_idx
    }

    /// Every sample's `(path, class index)`, in dataset order
    /// (`dataset.samples`, also `dataset.imgs`).
    pub fn samples(&self) -> &[(PathBuf, usize)] {
        &self.samples
    }

    /// Every sample's class index (`dataset.targets`).
    pub fn targets(&self) -> Vec<usize> {
        self.samples.iter().map(|(_, c)| *c).collect()
    }
}

impl Dataset for ImageFolder {
    fn len(&self) -> usize {
        self.samples.len()
    }

    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        let sample = self.get_untransformed(index)?;
        self.transform_sample(index, sample, &mut TransformRng::new(0, 0, index as u64))
    }

    fn get_untransformed(&self, index: usize) -> Result<(Tensor, Tensor)> {
        let (path, class) = self
            .samples
            .get(index)
            .ok_or_else(|| out_of_range("ImageFolder", index, self.samples.len()))?;
        let image = (self.loader)(path)?;
        Ok((image, class_label(*class as i64)))
    }

    fn transform_sample(
        &self,
        index: usize,
        (image, label): (Tensor, Tensor),
        rng: &mut TransformRng,
    ) -> Result<(Tensor, Tensor)> {
        let image = match &self.transform {
            Some(t) => transform_image(t.as_ref(), &image, rng)?,
            None => image,
        };
        let label = match (&self.target_transform, self.samples.get(index)) {
            (Some(f), Some((_, class))) => f(*class as i64),
            _ => label,
        };
        Ok((image, label))
    }

    fn describe(&self, index: usize) -> Option<String> {
        self.samples
            .get(index)
            .map(|(p, _)| p.display().to_string())
    }

    /// Random when its `transform` is (the loader and `target_transform`
    /// are taken as functions of the file and the class).
    fn is_random(&self) -> bool {
        self.transform.as_ref().is_some_and(|t| t.is_random())
    }
}

/// torchvision's `repr(dataset)`.
impl fmt::Display for ImageFolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Dataset ImageFolder\n    Number of datapoints: {}\n    Root location: {}",
            self.samples.len(),
            self.root.display()
        )?;
        if self.transform.is_some() || self.target_transform.is_some() {
            write!(f, "\n    StandardTransform")?;
            if let Some(t) = &self.transform {
                write!(f, "\nTransform: {t:?}")?;
            }
            if self.target_transform.is_some() {
                write!(f, "\nTarget transform: <function>")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for ImageFolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// torchvision's `default_loader`: the file as RGB, `uint8 [3, H, W]`.
pub fn default_loader(path: &Path) -> Result<Tensor> {
    read_image_mode(path, ImageReadMode::RGB)
}

/// `os.path.expanduser`: a leading `~` is the home folder.
fn expand_user(path: &Path) -> PathBuf {
    let Ok(rest) = path.strip_prefix("~") else {
        return path.to_path_buf();
    };
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(rest),
        None => path.to_path_buf(),
    }
}

/// Whether a folder entry is skipped for its name: a dot-folder
/// (`.ipynb_checkpoints`, `.git`).
fn hidden(name: &OsString) -> bool {
    name.as_bytes().first() == Some(&b'.')
}

/// torchvision's `find_classes`: `root`'s sub-folders (following links),
/// sorted by name, without the hidden ones; each with its folder name as
/// found on disk.
fn find_classes(root: &Path) -> Result<Vec<(String, OsString)>> {
    let entries = std::fs::read_dir(root).map_err(|e| Error::io(root, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(root, e))?;
        let name = entry.file_name();
        if !hidden(&name) && entry.path().is_dir() {
            names.push(name);
        }
    }
    // Python sorts `str`s by code point: for UTF-8, byte order.
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    if names.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "Couldn't find any class folder in {}. (ImageFolder expects one sub-folder per \
             class, holding that class's images.)",
            root.display()
        )));
    }
    Ok(names
        .into_iter()
        .map(|n| (n.to_string_lossy().into_owned(), n))
        .collect())
}

/// torchvision's `has_file_allowed_extension` with [`IMG_EXTENSIONS`].
fn is_image_file(name: &OsString) -> bool {
    let lower = name.to_string_lossy().to_lowercase();
    IMG_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

/// torchvision's `make_dataset`: for each class in order, `sorted(os.walk(
/// class folder, followlinks=True))` — every folder below it, ordered by its
/// path as a string — and in each folder the image files sorted by name.
fn make_dataset(root: &Path, classes: &[(String, OsString)]) -> Result<Vec<(PathBuf, usize)>> {
    let mut samples = Vec::new();
    let mut empty = Vec::new();
    for (class_index, (name, folder)) in classes.iter().enumerate() {
        let before = samples.len();
        let mut folders = walk(&root.join(folder));
        folders.sort_by(|a, b| a.0.as_os_str().as_bytes().cmp(b.0.as_os_str().as_bytes()));
        for (dir, mut files) in folders {
            files.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            for file in files.into_iter().filter(is_image_file) {
                samples.push((dir.join(file), class_index));
            }
        }
        if samples.len() == before {
            empty.push(name.as_str());
        }
    }
    if !empty.is_empty() {
        // torchvision sorts the names of the empty classes.
        empty.sort_unstable();
        return Err(Error::format(
            root,
            format!(
                "Found no valid file for the classes {}. Supported extensions are: {}",
                empty.join(", "),
                IMG_EXTENSIONS.join(", ")
            ),
        ));
    }
    Ok(samples)
}

/// `os.walk(top, followlinks=True)`: every folder at or below `top` with the
/// names of the non-folder entries in it. As `os.walk`, a folder that cannot
/// be read is passed over. Unlike it, hidden folders are skipped, and a
/// folder reached twice through links is walked once (`os.walk` would go
/// round a link cycle until the path is too long).
fn walk(top: &Path) -> Vec<(PathBuf, Vec<OsString>)> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![top.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if let Ok(real) = dir.canonicalize() {
            if !seen.insert(real) {
                continue;
            }
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            if entry.path().is_dir() {
                if !hidden(&name) {
                    stack.push(dir.join(&name));
                }
            } else {
                files.push(name);
            }
        }
        out.push((dir, files));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_compared_case_insensitively_on_the_end_of_the_name() {
        for yes in [
            "a.jpg", "B.JPEG", "c.Png", "d.tiff", "e.webp", ".jpg", "f.x.PGM",
        ] {
            assert!(is_image_file(&OsString::from(yes)), "{yes}");
        }
        for no in ["a.gif", "b.jpg.txt", "c", "d.JPG~", "tif"] {
            assert!(!is_image_file(&OsString::from(no)), "{no}");
        }
    }
}
