//! What a trained classifier sees in a photo: the lecture's
//! `predict(image_path, model, transform, device)` helper, with the top-k
//! classes, their probabilities and names, shown beside the photo; and the
//! same for a folder of photos, as a titled grid.

use std::fmt;
use std::path::{Path, PathBuf};

use plotters::style::RGBColor;
use tch::{Kind, Tensor};

use super::classes::{class_name, to_vec};
use super::grid::{render_tiles, Layout, Tile};
use super::images::image_tiles;
use crate::data::transforms::{CenterCrop, Compose, Resize, Transform};
use crate::data::{default_loader, IMG_EXTENSIONS};
use crate::display::{Png, Show};
use crate::error::{catch_torch, Error, Result};
use crate::models::Categories;
use crate::nn::Module;

/// Colour of the top-1 line.
const TOP_COLOR: RGBColor = RGBColor(20, 20, 20);
/// Colour of the other lines.
const REST_COLOR: RGBColor = RGBColor(90, 90, 90);
/// Side, in pixels, of a folder grid's photos.
const THUMB_SIDE: i64 = 112;
/// At most this many photos of a folder are predicted (bounded memory).
const MAX_FOLDER_PHOTOS: usize = 256;

/// The top-k classes a model gives one photo, best first — made by
/// [`predict`]. Prints as a list (`tabby, tabby cat  0.5312`) and shows in a
/// notebook as the photo titled with that list.
#[derive(Debug)]
pub struct Prediction {
    /// The photo's path.
    pub path: PathBuf,
    /// Class indices, best first.
    pub classes: Vec<i64>,
    /// Softmax probabilities of `classes`.
    pub probabilities: Vec<f64>,
    /// Names of `classes`: ImageNet's for a 1000-class model, else the
    /// numbers, or those given to [`Prediction::categories`].
    pub names: Vec<String>,
    /// The photo as read (`uint8 [3, H, W]`), for the picture.
    image: Tensor,
}

/// `predict(image_path, model, transform, device)` of the lecture: reads the
/// photo as RGB (`torchvision.io.read_image(path, ImageReadMode.RGB)`, the
/// pixels of `Image.open(path).convert("RGB")`), applies `transform`
/// (e.g. `ResNet18_Weights::IMAGENET1K_V1.transforms()`), runs `model` in
/// eval mode without gradients on the device of its parameters, and keeps
/// the `k` most probable classes of `softmax(logits)`.
///
/// Names: a model with 1,000 outputs is taken to predict ImageNet's classes
/// (`weights.meta["categories"]`); give others with
/// [`Prediction::categories`]. Errors name the file (missing, not an image,
/// a transform or model that does not fit it).
///
/// ```
/// use cnn_lab::*;
/// let dir = std::env::temp_dir().join(format!("predict_doc_{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let photo = Tensor::randint(256, [3, 20, 30], (Kind::Uint8, Device::Cpu));
/// to_pil_image(&photo)?.save(dir.join("a.png"))?;
/// let model = Sequential::new().add(Flatten::new()).add(Linear::new(3 * 16 * 16, 3));
/// let transform = Compose::new().add(Resize::new((16, 16))).add(ConvertImageDtype::new(Kind::Float));
/// let p = predict(&model, dir.join("a.png"), &transform, 2)?.categories(&["cat", "dog", "bird"]);
/// assert_eq!(p.classes.len(), 2);
/// assert!(p.probabilities[0] >= p.probabilities[1]);
/// assert!(p.render()?.width() > 0);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn predict<M, T>(
    model: &M,
    image_path: impl AsRef<Path>,
    transform: &T,
    k: usize,
) -> Result<Prediction>
where
    M: Module + ?Sized,
    T: Transform + ?Sized,
{
    let path = image_path.as_ref();
    let image = default_loader(path)?;
    let probs = probabilities(model, &image, transform, path)?;
    let n = probs.len();
    let mut order: Vec<usize> = (0..n).collect();
    // Stable sort: ties keep the lower index first, as torch.topk does on CPU.
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    order.truncate(k.max(1).min(n));
    let names = (n == 1000).then(|| Categories::ImageNet1K.names());
    Ok(Prediction {
        path: path.to_path_buf(),
        classes: order.iter().map(|&i| i as i64).collect(),
        probabilities: order.iter().map(|&i| probs[i] as f64).collect(),
        names: order
            .iter()
            .map(|&i| match names {
                Some(names) => names[i].to_string(),
                None => i.to_string(),
            })
            .collect(),
        image,
    })
}

/// Softmax over the model's logits for one photo, with the file named in
/// every error.
fn probabilities<M, T>(model: &M, image: &Tensor, transform: &T, path: &Path) -> Result<Vec<f32>>
where
    M: Module + ?Sized,
    T: Transform + ?Sized,
{
    let name = path.display();
    let x = transform
        .apply_one(image, 0)
        .map_err(|e| Error::InvalidArgument(format!("predict {name}: the transform: {e}")))?;
    if x.dim() != 3 || !x.is_floating_point() {
        return Err(Error::Shape(format!(
            "predict {name}: the transform gave {:?} {:?}; expected a float image [C, H, W] \
             (end it with ConvertImageDtype(torch.float) or use weights.transforms())",
            x.kind(),
            x.size()
        )));
    }
    let device = first_device(model.own_tensors(), model.children());
    let logits = catch_torch(
        &format!("predict {name}: {} forward", model.type_name()),
        || {
            let _guard = tch::no_grad_guard();
            model.forward_t(&x.to_device(device).unsqueeze(0), false)
        },
    )?;
    if logits.dim() != 2 || logits.size()[0] != 1 || logits.size()[1] == 0 {
        return Err(Error::Shape(format!(
            "predict {name}: expected the model to give logits [1, classes], got {:?}",
            logits.size()
        )));
    }
    let probs = logits.f_softmax(1, Kind::Float)?;
    to_vec::<f32>(&probs, &format!("predict {name}"))
}

impl Prediction {
    /// Names the classes by `names[class]` (the caller's categories, e.g. an
    /// [`ImageFolder`](crate::ImageFolder)'s `classes`); a class without a
    /// name keeps its number.
    pub fn categories<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        let names: Vec<String> = names.iter().map(|s| s.as_ref().to_string()).collect();
        self.names = self
            .classes
            .iter()
            .map(|&c| class_name(Some(&names), c))
            .collect();
        self
    }

    /// The best class's name and probability.
    pub fn top1(&self) -> (&str, f64) {
        (&self.names[0], self.probabilities[0])
    }

    /// The photo titled with its file name and the top-k list.
    pub fn render(&self) -> Result<Png> {
        let (mut tiles, h, w, palette) = image_tiles(
            &self.image.unsqueeze(0),
            &format!("predict {}", self.path.display()),
        )?;
        let mut title = vec![(file_name(&self.path), TOP_COLOR)];
        title.extend(
            self.lines()
                .into_iter()
                .enumerate()
                .map(|(i, line)| (line, if i == 0 { TOP_COLOR } else { REST_COLOR })),
        );
        let tile = Tile {
            values: tiles.remove(0),
            height: h,
            width: w,
            title,
            annotations: None,
        };
        let scale = (256 / h.max(w).max(1)).clamp(1, 2) as u32;
        render_tiles(
            &[tile],
            &Layout {
                columns: 1,
                cell: (w as u32 * scale, h as u32 * scale),
                palette,
                heading: None,
            },
        )
    }

    /// `name  0.5312`, one line per class.
    fn lines(&self) -> Vec<String> {
        self.names
            .iter()
            .zip(&self.probabilities)
            .map(|(n, p)| format!("{n}  {p:.4}"))
            .collect()
    }

    /// Called by evcxr for the last expression of a cell.
    pub fn evcxr_display(&self) {
        self.show();
    }
}

impl fmt::Display for Prediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.path.display())?;
        for (i, line) in self.lines().iter().enumerate() {
            writeln!(f, "  {}. {line}", i + 1)?;
        }
        Ok(())
    }
}

impl Show for Prediction {
    fn show(&self) {
        crate::display::emit("text/plain", &self.to_string());
        match self.render() {
            Ok(png) => png.show(),
            Err(e) => crate::display::emit("text/plain", &format!("predict: {e}")),
        }
    }
}

/// The predictions for every photo of a folder (sorted by file name) —
/// made by [`predict_folder`]; shows as a grid of the photos titled with
/// their top-1 class and probability.
#[derive(Debug)]
pub struct FolderPrediction {
    /// One prediction per photo, in file-name order.
    pub predictions: Vec<Prediction>,
    columns: usize,
    limit: usize,
}

/// [`predict`] for every image file directly in `folder` (names ending in
/// one of [`IMG_EXTENSIONS`], in name order; at most 256). Errors name the
/// folder, or the file that could not be read or predicted.
///
/// ```
/// use cnn_lab::*;
/// let dir = std::env::temp_dir().join(format!("predict_folder_doc_{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// for name in ["a.png", "b.png"] {
///     let photo = Tensor::randint(256, [3, 20, 30], (Kind::Uint8, Device::Cpu));
///     to_pil_image(&photo)?.save(dir.join(name))?;
/// }
/// let model = Sequential::new().add(Flatten::new()).add(Linear::new(3 * 16 * 16, 2));
/// let transform = Compose::new().add(Resize::new((16, 16))).add(ConvertImageDtype::new(Kind::Float));
/// let all = predict_folder(&model, &dir, &transform, 1)?.categories(&["cat", "dog"]);
/// assert_eq!(all.predictions.len(), 2);
/// assert!(all.render()?.width() > 0);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn predict_folder<M, T>(
    model: &M,
    folder: impl AsRef<Path>,
    transform: &T,
    k: usize,
) -> Result<FolderPrediction>
where
    M: Module + ?Sized,
    T: Transform + ?Sized,
{
    let folder = folder.as_ref();
    let entries = std::fs::read_dir(folder)
        .map_err(|e| Error::InvalidArgument(format!("predict_folder {}: {e}", folder.display())))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            Error::InvalidArgument(format!("predict_folder {}: {e}", folder.display()))
        })?;
        let name = entry.file_name().to_string_lossy().to_lowercase();
        if entry.path().is_file() && IMG_EXTENSIONS.iter().any(|ext| name.ends_with(ext)) {
            files.push(entry.path());
        }
    }
    if files.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "predict_folder {}: no image files (extensions {})",
            folder.display(),
            IMG_EXTENSIONS.join(", ")
        )));
    }
    files.sort();
    files.truncate(MAX_FOLDER_PHOTOS);
    // A square from the middle, as a thumbnail (the photo is not squashed).
    let thumb = Compose::new()
        .add(Resize::new(THUMB_SIDE))
        .add(CenterCrop::new(THUMB_SIDE));
    let predictions = files
        .iter()
        .map(|path| {
            let mut p = predict(model, path, transform, k)?;
            // Only the thumbnail is kept for the grid.
            p.image = thumb.apply_one(&p.image, 0)?;
            Ok(p)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(FolderPrediction {
        predictions,
        columns: 6,
        limit: 24,
    })
}

impl FolderPrediction {
    /// Names the classes of every prediction (see [`Prediction::categories`]).
    pub fn categories<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.predictions = self
            .predictions
            .into_iter()
            .map(|p| p.categories(names))
            .collect();
        self
    }

    /// Photos per row of the grid (default 6).
    pub fn columns(mut self, columns: usize) -> Self {
        self.columns = columns.max(1);
        self
    }

    /// Shows at most the first `limit` photos (default 24).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(1);
        self
    }

    /// The grid: each photo titled with its file name, top-1 class and
    /// probability.
    pub fn render(&self) -> Result<Png> {
        let images: Vec<Tensor> = self
            .predictions
            .iter()
            .take(self.limit)
            .map(|p| p.image.shallow_clone())
            .collect();
        let (tiles, h, w, palette) =
            image_tiles(&Tensor::stack(&images, 0), "predict_folder: photos")?;
        let tiles: Vec<Tile> = tiles
            .into_iter()
            .zip(&self.predictions)
            .map(|(values, p)| {
                let (name, prob) = p.top1();
                Tile {
                    values,
                    height: h,
                    width: w,
                    title: vec![
                        (file_name(&p.path), REST_COLOR),
                        (format!("{name} {prob:.2}"), TOP_COLOR),
                    ],
                    annotations: None,
                }
            })
            .collect();
        render_tiles(
            &tiles,
            &Layout {
                columns: self.columns,
                cell: (w as u32, h as u32),
                palette,
                heading: None,
            },
        )
    }

    /// Called by evcxr for the last expression of a cell.
    pub fn evcxr_display(&self) {
        self.show();
    }
}

impl fmt::Display for FolderPrediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.predictions {
            let (name, prob) = p.top1();
            writeln!(f, "{}: {name} ({prob:.4})", file_name(&p.path))?;
        }
        Ok(())
    }
}

impl Show for FolderPrediction {
    fn show(&self) {
        match self.render() {
            Ok(png) => png.show(),
            Err(e) => crate::display::emit("text/plain", &format!("predict_folder: {e}")),
        }
    }
}

/// The device of a module's first tensor (its own, else its children's),
/// CPU for a module without any.
fn first_device(
    own: Vec<crate::nn::NamedTensor>,
    children: Vec<(String, &dyn Module)>,
) -> tch::Device {
    if let Some(t) = own.first() {
        return t.tensor.device();
    }
    children
        .into_iter()
        .map(|(_, c)| first_device(c.own_tensors(), c.children()))
        .find(|d| *d != tch::Device::Cpu)
        .unwrap_or(tch::Device::Cpu)
}

/// The file's name without its folder, for titles.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
