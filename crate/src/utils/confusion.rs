//! The confusion matrix: which classes the model mixes up.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::RGBColor;
use tch::Tensor;

use super::classes::{class_name, predicted_classes, to_vec};
use super::grid::{text_width, Palette};
use crate::data::DataLoader;
use crate::display::{drawing_error, render_png, Canvas, Png, Show};
use crate::error::{Error, Result};
use crate::nn::Module;
use crate::train::{eval_batches, pass_device};

/// Counts of (true class, predicted class) pairs.
///
/// `counts[t][p]` is the number of samples of true class `t` predicted as
/// `p` (rows = true, columns = predicted, as scikit-learn's
/// `confusion_matrix`). As a cell's last expression it shows its picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// `counts[true][predicted]`.
    pub counts: Vec<Vec<i64>>,
    class_names: Option<Vec<String>>,
}

/// Counts how often each true class (`labels`, `[N]`) was predicted as each
/// class (`preds`: `[N]` class indices, or `[N, C]` scores whose arg-max is
/// taken). Every value must lie in `0..num_classes`.
///
/// ```
/// use cnn_lab::*;
///
/// let preds = Tensor::from_slice(&[0i64, 1, 1, 2]);
/// let labels = Tensor::from_slice(&[0i64, 1, 2, 2]);
/// let cm = confusion_matrix(&preds, &labels, 3)?;
/// assert_eq!(cm.counts, vec![vec![1, 0, 0], vec![0, 1, 0], vec![0, 1, 1]]);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn confusion_matrix(
    preds: &Tensor,
    labels: &Tensor,
    num_classes: usize,
) -> Result<ConfusionMatrix> {
    let preds = predicted_classes(preds)?;
    let p = to_vec::<i64>(&preds, "confusion_matrix: preds")?;
    let t = to_vec::<i64>(labels, "confusion_matrix: labels")?;
    if p.len() != t.len() {
        return Err(Error::Shape(format!(
            "confusion_matrix: {} predictions (shape {:?}) but {} labels (shape {:?})",
            p.len(),
            preds.size(),
            t.len(),
            labels.size()
        )));
    }
    let mut cm = ConfusionMatrix::empty(num_classes);
    cm.add(&p, &t)?;
    Ok(cm)
}

/// Runs `model` (eval mode, no gradients, on its own device: the loader
/// must hold its batches there) over every batch of `loader` and counts its
/// arg-max predictions against the labels.
///
/// ```no_run
/// # use cnn_lab::*;
/// # fn demo(model: &dyn Module, test_loader: &DataLoader) -> Result<()> {
/// let cm = confusion_matrix_of(model, test_loader, 10)?;
/// cm.plot()?.save("confusion.png")?;
/// # Ok(()) }
/// ```
pub fn confusion_matrix_of(
    model: &dyn Module,
    loader: &DataLoader,
    num_classes: usize,
) -> Result<ConfusionMatrix> {
    let mut cm = ConfusionMatrix::empty(num_classes);
    let device = pass_device(model, loader, None)?;
    let what = format!("confusion_matrix_of: {} forward pass", model.type_name());
    eval_batches(loader, model, device, &what, |scores, labels| {
        if scores.dim() != 2 {
            return Err(Error::Shape(format!(
                "{what}: expected scores [batch, classes], got {:?}",
                scores.size()
            )));
        }
        let p = to_vec::<i64>(
            &predicted_classes(scores)?,
            "confusion_matrix_of: predictions",
        )?;
        let t = to_vec::<i64>(labels, "confusion_matrix_of: labels")?;
        cm.add(&p, &t)
    })?;
    Ok(cm)
}

impl ConfusionMatrix {
    fn empty(num_classes: usize) -> Self {
        ConfusionMatrix {
            counts: vec![vec![0; num_classes]; num_classes],
            class_names: None,
        }
    }

    fn add(&mut self, preds: &[i64], labels: &[i64]) -> Result<()> {
        let n = self.counts.len() as i64;
        for (&p, &t) in preds.iter().zip(labels) {
            if !(0..n).contains(&p) || !(0..n).contains(&t) {
                return Err(Error::InvalidArgument(format!(
                    "confusion_matrix: class out of range 0..{n}: prediction {p}, label {t}"
                )));
            }
            self.counts[t as usize][p as usize] += 1;
        }
        Ok(())
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.counts.len()
    }

    /// Fraction of samples on the diagonal (0 when there are none).
    pub fn accuracy(&self) -> f64 {
        let total: i64 = self.counts.iter().flatten().sum();
        let right: i64 = (0..self.counts.len()).map(|i| self.counts[i][i]).sum();
        if total == 0 {
            0.0
        } else {
            right as f64 / total as f64
        }
    }

    /// Axis labels use these names (indexed by class) instead of numbers.
    pub fn class_names(mut self, names: &[&str]) -> Self {
        self.class_names = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Draws the matrix: rows true class, columns predicted class, each
    /// cell's count written in it and shaded by its share of the row.
    pub fn plot(&self) -> Result<Png> {
        let n = self.counts.len();
        if n == 0 {
            return Err(Error::InvalidArgument(
                "confusion matrix: no classes to draw".into(),
            ));
        }
        let names: Vec<String> = (0..n)
            .map(|i| class_name(self.class_names.as_deref(), i as i64))
            .collect();
        let title = format!(
            "Confusion matrix (accuracy {:.2}%)",
            100.0 * self.accuracy()
        );
        let largest = self.counts.iter().flatten().max().copied().unwrap_or(0);
        let frame = Frame::new(&names, largest, &title);
        render_png(frame.width, frame.height, |area| {
            area.draw(&Text::new(
                title.clone(),
                (frame.center_x(), 20),
                centered(18, &INK),
            ))
            .map_err(drawing_error("confusion matrix title"))?;
            self.draw_cells(area, &frame)?;
            draw_names(area, &frame, &names)?;
            draw_axis_titles(area, &frame)
        })
    }

    /// Each count in its cell, shaded by its share of the row.
    fn draw_cells(&self, area: &Canvas<'_>, frame: &Frame) -> Result<()> {
        let cell = frame.cell as i32;
        for (t, row) in self.counts.iter().enumerate() {
            let row_total: i64 = row.iter().sum();
            for (p, &count) in row.iter().enumerate() {
                let share = if row_total > 0 {
                    count as f32 / row_total as f32
                } else {
                    0.0
                };
                let [r, g, b] = Palette::Blues.color(share);
                let (x0, y0) = frame.cell_corner(t, p);
                let corners = [(x0, y0), (x0 + cell, y0 + cell)];
                area.draw(&Rectangle::new(corners, RGBColor(r, g, b).filled()))
                    .map_err(drawing_error("confusion matrix cell"))?;
                area.draw(&Rectangle::new(corners, RGBColor(200, 200, 200)))
                    .map_err(drawing_error("confusion matrix cell"))?;
                let ink = if share > 0.55 { WHITE } else { INK };
                area.draw(&Text::new(
                    count.to_string(),
                    (x0 + cell / 2, y0 + cell / 2),
                    centered(FONT, &ink),
                ))
                .map_err(drawing_error("confusion matrix count"))?;
            }
        }
        Ok(())
    }

    /// Called by evcxr for the last expression of a cell: shows the
    /// picture, or the error as text.
    pub fn evcxr_display(&self) {
        self.show();
    }
}

impl Show for ConfusionMatrix {
    fn show(&self) {
        match self.plot() {
            Ok(png) => png.show(),
            Err(e) => crate::display::emit("text/plain", &format!("confusion matrix: {e}")),
        }
    }
}

const CELL: u32 = 52;
const FONT: u32 = 14;
const INK: RGBColor = RGBColor(20, 20, 20);

/// Where the parts of the picture go. Left: row names and the "true" axis
/// title; bottom: column names (rotated) and the "predicted" axis title;
/// top: the heading.
struct Frame {
    cell: u32,
    left: u32,
    top: u32,
    grid: u32,
    width: u32,
    height: u32,
}

impl Frame {
    fn new(names: &[String], largest: i64, title: &str) -> Frame {
        let widest = names.iter().map(|s| text_width(s, FONT)).max().unwrap_or(0);
        let cell = CELL.max(text_width(&largest.to_string(), FONT) + 10);
        let (left, top, bottom) = (widest + 40, 44, widest + 40);
        let grid = cell * names.len() as u32;
        Frame {
            cell,
            left,
            top,
            grid,
            width: (left + grid + 20).max(text_width(title, 18) + 20),
            height: top + grid + bottom,
        }
    }

    fn center_x(&self) -> i32 {
        (self.left + self.grid / 2) as i32
    }

    /// The top-left corner of the cell of true class `t`, predicted `p`.
    fn cell_corner(&self, t: usize, p: usize) -> (i32, i32) {
        (
            (self.left + p as u32 * self.cell) as i32,
            (self.top + t as u32 * self.cell) as i32,
        )
    }
}

fn centered(size: u32, color: &RGBColor) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(color)
        .pos(Pos::new(HPos::Center, VPos::Center))
}

/// Class names left of the rows and, read bottom-up so long names fit,
/// below the columns.
fn draw_names(area: &Canvas<'_>, frame: &Frame, names: &[String]) -> Result<()> {
    for (i, name) in names.iter().enumerate() {
        let mid = (i as u32 * frame.cell + frame.cell / 2) as i32;
        let right_aligned = ("sans-serif", FONT)
            .into_font()
            .color(&INK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        area.draw(&Text::new(
            name.clone(),
            (frame.left as i32 - 6, frame.top as i32 + mid),
            right_aligned,
        ))
        .map_err(drawing_error("confusion matrix row name"))?;
        let rotated = ("sans-serif", FONT)
            .into_font()
            .transform(FontTransform::Rotate270)
            .color(&INK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        area.draw(&Text::new(
            name.clone(),
            (frame.left as i32 + mid, (frame.top + frame.grid) as i32 + 6),
            rotated,
        ))
        .map_err(drawing_error("confusion matrix column name"))?;
    }
    Ok(())
}

/// "predicted" under the columns, "true" (vertical) beside the rows.
fn draw_axis_titles(area: &Canvas<'_>, frame: &Frame) -> Result<()> {
    area.draw(&Text::new(
        "predicted",
        (frame.center_x(), (frame.height - 14) as i32),
        centered(FONT + 1, &INK),
    ))
    .map_err(drawing_error("confusion matrix axis title"))?;
    let vertical = ("sans-serif", FONT + 1)
        .into_font()
        .transform(FontTransform::Rotate270)
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(
        "true",
        (14, (frame.top + frame.grid / 2) as i32),
        vertical,
    ))
    .map_err(drawing_error("confusion matrix axis title"))?;
    Ok(())
}
