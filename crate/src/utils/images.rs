//! A grid of dataset images with labels and predictions (fastai's
//! `show_batch`, the lecture's "look at the data" cell).

use plotters::style::RGBColor;
use tch::{Kind, Tensor};

use super::classes::{class_name, predicted_classes, to_vec};
use super::grid::{min_max, render_tiles, Layout, Palette, Tile};
use crate::data::transforms::Transform;
use crate::display::{Png, Show};
use crate::error::{Error, Result};

/// Title colour of a correct prediction (and of plain labels).
const OK_COLOR: RGBColor = RGBColor(20, 20, 20);
/// Title colour of a wrong prediction.
pub(crate) const WRONG_COLOR: RGBColor = RGBColor(210, 20, 20);

/// Longest side, in pixels, a photo is shrunk to before it is drawn as a tile.
const PHOTO_SIDE: i64 = 128;

/// Splits `[N,1,H,W]`, `[N,H,W]` or colour `[N,3,H,W]` into `N` tiles scaled to
/// `[0, 1]`: `uint8` is divided by 255, floats already in `[0, 1]` are kept,
/// others (e.g. normalised with MNIST's or ImageNet's mean and std) are
/// min–max scaled per image. Photos larger than 128 pixels a side are shrunk
/// first (bilinear, antialiased), so a grid of 224×224 inputs stays readable.
/// Returns the tiles, their height and width, and the palette (gray or RGB).
pub(crate) fn image_tiles(
    images: &Tensor,
    what: &str,
) -> Result<(Vec<Vec<f32>>, usize, usize, Palette)> {
    let size = images.size();
    let (n, c, h, w) = match size.as_slice() {
        [n, c @ (1 | 3), h, w] => (*n, *c, *h, *w),
        [n, h, w] => (*n, 1, *h, *w),
        _ => {
            return Err(Error::Shape(format!(
                "{what}: expected images of shape [N, 1, H, W], [N, 3, H, W] or [N, H, W], got {size:?}"
            )))
        }
    };
    if n == 0 || h == 0 || w == 0 {
        return Err(Error::Shape(format!("{what}: no pixels in shape {size:?}")));
    }
    let is_bytes = images.kind() == Kind::Uint8;
    let mut x = images.to_device(tch::Device::Cpu).view([n, c, h, w]);
    let (mut h, mut w) = (h, w);
    if h.max(w) > PHOTO_SIDE {
        let k = PHOTO_SIDE as f64 / h.max(w) as f64;
        let (th, tw) = (
            ((h as f64 * k).round() as i64).max(1),
            ((w as f64 * k).round() as i64).max(1),
        );
        let float = x.f_to_kind(Kind::Float)?;
        let small =
            tch::no_grad(|| float.f_internal_upsample_bilinear2d_aa([th, tw], false, None, None))?;
        x = if is_bytes {
            small.clamp(0.0, 255.0)
        } else {
            small
        };
        (h, w) = (th, tw);
    }
    // Channels last, so a colour tile's values are interleaved per pixel.
    let x = x.permute([0, 2, 3, 1]).contiguous();
    let values = to_vec::<f32>(&x, what)?;
    let tiles = values
        .chunks((h * w * c) as usize)
        .map(|img| {
            if is_bytes {
                img.iter().map(|v| v / 255.0).collect()
            } else if img.iter().all(|v| (0.0..=1.0).contains(v)) {
                img.to_vec()
            } else {
                min_max(img)
            }
        })
        .collect();
    let palette = if c == 3 { Palette::Rgb } else { Palette::Gray };
    Ok((tiles, h as usize, w as usize, palette))
}

/// A grid of images with their labels — build it with [`show_images`], set
/// options, and let evcxr show it (or call [`ImageGrid::render`]).
///
/// Titles read `5` (or the class name); with
/// [`predictions`](ImageGrid::predictions) they read `pred 3 / true 5` on
/// two lines, red where the prediction is wrong.
#[derive(Debug)]
pub struct ImageGrid {
    images: Tensor,
    labels: Tensor,
    predictions: Option<Tensor>,
    class_names: Option<Vec<String>>,
    columns: usize,
    scale: Option<u32>,
    limit: usize,
    /// Why there is nothing to show (the images could not be read).
    error: Option<Error>,
}

/// Starts an [`ImageGrid`] of `images` (`[N,1,H,W]`, `[N,H,W]` or colour
/// `[N,3,H,W]`; floats in `[0, 1]`, normalised floats, or `uint8`) titled by
/// `labels` (`[N]`).
///
/// Defaults: 8 columns, each pixel of a small image drawn 3×3 (a photo about
/// 100 pixels a side), at most 32 images.
///
/// ```
/// use cnn_lab::*;
///
/// let images = Tensor::rand([6, 1, 28, 28], (Kind::Float, Device::Cpu));
/// let labels = Tensor::from_slice(&[0i64, 1, 2, 3, 4, 5]);
/// let preds = Tensor::from_slice(&[0i64, 1, 2, 3, 4, 9]);
/// let names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
/// let png = show_images(&images, &labels)
///     .predictions(&preds)
///     .class_names(&names)
///     .columns(3)
///     .render()?;
/// assert!(png.width() > 0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn show_images(images: &Tensor, labels: &Tensor) -> ImageGrid {
    ImageGrid {
        images: images.shallow_clone(),
        labels: labels.shallow_clone(),
        predictions: None,
        class_names: None,
        columns: 8,
        scale: None,
        limit: 32,
        error: None,
    }
}

/// One image transformed `n` times, side by side: the augmentation lecture's
/// figure of a photo and what random transforms make of it. Draw `k` (titled
/// `k`, from 1) uses seed `k - 1` ([`Transform::apply_one`]), so a cell shows
/// the same grid each time it runs.
///
/// `image` is `[C, H, W]` (`uint8` as [`read_image`](crate::image::read_image)
/// gives it, or floats); every draw must come out the same size, as a batch
/// would (`Resize((h, w))` or a crop with a size first, where they do not).
///
/// ```
/// use cnn_lab::*;
/// let photo = Tensor::randint(256, [3, 40, 60], (Kind::Uint8, Device::Cpu));
/// let grid = show_augmented(&photo, &RandomResizedCrop::new(32), 8)?;
/// assert!(grid.render()?.width() > 0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn show_augmented<T: Transform + ?Sized>(
    image: &Tensor,
    transform: &T,
    n: usize,
) -> Result<ImageGrid> {
    if image.dim() != 3 {
        return Err(Error::Shape(format!(
            "show_augmented: expected one image [C, H, W], got {:?}",
            image.size()
        )));
    }
    let draws = (0..n.max(1))
        .map(|k| transform.apply_one(image, k as u64))
        .collect::<Result<Vec<Tensor>>>()?;
    let first = draws[0].size();
    if let Some(other) = draws.iter().find(|d| d.size() != first) {
        return Err(Error::Shape(format!(
            "show_augmented: the draws differ in size ({first:?} and {:?}); put a Resize((h, w)) \
             or a crop with a size in the transform",
            other.size()
        )));
    }
    let labels = Tensor::arange_start(1, draws.len() as i64 + 1, (Kind::Int64, tch::Device::Cpu));
    Ok(show_images(&Tensor::stack(&draws, 0), &labels).columns(draws.len().min(8)))
}

impl ImageGrid {
    /// A grid whose images could not be read: rendering it gives `error`,
    /// after `what`.
    pub(crate) fn failed(what: &str, error: Error) -> ImageGrid {
        let mut grid = show_images(
            &Tensor::zeros([0], crate::FLOAT_CPU),
            &Tensor::zeros([0], crate::INT64_CPU),
        );
        grid.error = Some(Error::InvalidArgument(format!("{what}: {error}")));
        grid
    }

    /// Number of images per row.
    pub fn columns(mut self, columns: usize) -> Self {
        self.columns = columns.max(1);
        self
    }

    /// Each image pixel is drawn as a `scale`×`scale` square.
    pub fn scale(mut self, scale: u32) -> Self {
        self.scale = Some(scale.max(1));
        self
    }

    /// Shows at most the first `limit` images.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(1);
        self
    }

    /// Titles use these names (indexed by label) instead of numbers.
    pub fn class_names<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.class_names = Some(names.iter().map(|s| s.as_ref().to_string()).collect());
        self
    }

    /// Predicted classes, `[N]` indices or `[N, C]` scores (arg-max is taken).
    pub fn predictions(mut self, predictions: &Tensor) -> Self {
        self.predictions = Some(predictions.shallow_clone());
        self
    }

    fn name(&self, class: i64) -> String {
        class_name(self.class_names.as_deref(), class)
    }

    /// Draws the grid.
    pub fn render(&self) -> Result<Png> {
        if let Some(e) = &self.error {
            return Err(Error::InvalidArgument(e.to_string()));
        }
        let (tiles, h, w, palette) = image_tiles(&self.images, "show_images: images")?;
        // By default a pixel of a small image (MNIST's 28) is drawn 3×3 and a
        // photo's tile is about 100 pixels a side.
        let scale = self
            .scale
            .unwrap_or((96 / h.max(w).max(1)).clamp(1, 3) as u32);
        let labels = to_vec::<i64>(&self.labels, "show_images: labels")?;
        if labels.len() != tiles.len() {
            return Err(Error::Shape(format!(
                "show_images: {} images but {} labels (shape {:?})",
                tiles.len(),
                labels.len(),
                self.labels.size()
            )));
        }
        let preds = self.predicted(tiles.len())?;
        let tiles: Vec<Tile> = tiles
            .into_iter()
            .zip(&labels)
            .enumerate()
            .take(self.limit)
            .map(|(i, (values, &label))| Tile {
                values,
                height: h,
                width: w,
                title: self.title(label, preds.as_ref().map(|p| p[i])),
                annotations: None,
            })
            .collect();
        render_tiles(
            &tiles,
            &Layout {
                columns: self.columns,
                cell: (w as u32 * scale, h as u32 * scale),
                palette,
                heading: None,
            },
        )
    }

    /// The predicted classes, one per image, if predictions were given.
    fn predicted(&self, images: usize) -> Result<Option<Vec<i64>>> {
        let Some(p) = &self.predictions else {
            return Ok(None);
        };
        let p = to_vec::<i64>(&predicted_classes(p)?, "show_images: predictions")?;
        if p.len() != images {
            return Err(Error::Shape(format!(
                "show_images: {images} images but {} predictions",
                p.len()
            )));
        }
        Ok(Some(p))
    }

    /// `5`, or `pred 3` / `true 5` in red when the prediction is wrong.
    fn title(&self, label: i64, predicted: Option<i64>) -> Vec<(String, RGBColor)> {
        match predicted {
            None => vec![(self.name(label), OK_COLOR)],
            Some(p) => {
                let color = if p == label { OK_COLOR } else { WRONG_COLOR };
                vec![
                    (format!("pred {}", self.name(p)), color),
                    (format!("true {}", self.name(label)), color),
                ]
            }
        }
    }

    /// Called by evcxr for the last expression of a cell: shows the grid,
    /// or the error as text.
    pub fn evcxr_display(&self) {
        self.show();
    }
}

impl Show for ImageGrid {
    fn show(&self) {
        match self.render() {
            Ok(png) => png.show(),
            Err(e) => crate::display::emit("text/plain", &format!("show_images: {e}")),
        }
    }
}
