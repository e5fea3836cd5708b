//! Loss and accuracy curves: the lecture's `plot_fit_result`.

use std::ops::Range;

use plotters::prelude::*;
use plotters::style::RGBColor;

use crate::display::{drawing_error, render_png, Canvas, Png};
use crate::error::{Error, Result};
use crate::train::FitResult;

/// Training curves in blue, validation in orange (matplotlib's first two).
const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);

/// Size of the whole picture: two charts side by side.
const WIDTH: u32 = 1000;
const HEIGHT: u32 = 400;

/// The four per-epoch curves `plot_fit_result` draws: a [`FitResult`], or a
/// tuple `(train_loss, train_acc, val_loss, val_acc)` of slices or vectors
/// (what `result.into()` gives, and what the lecture's `*result` unpacks).
pub trait FitCurves {
    /// `[train_loss, train_acc, val_loss, val_acc]`, one value per epoch each.
    fn curves(&self) -> [&[f64]; 4];
}

impl FitCurves for FitResult {
    fn curves(&self) -> [&[f64]; 4] {
        [
            &self.train_loss,
            &self.train_accuracy,
            &self.val_loss,
            &self.val_accuracy,
        ]
    }
}

impl<A, B, C, D> FitCurves for (A, B, C, D)
where
    A: AsRef<[f64]>,
    B: AsRef<[f64]>,
    C: AsRef<[f64]>,
    D: AsRef<[f64]>,
{
    fn curves(&self) -> [&[f64]; 4] {
        [
            self.0.as_ref(),
            self.1.as_ref(),
            self.2.as_ref(),
            self.3.as_ref(),
        ]
    }
}

/// Draws loss (left) and accuracy (right) per epoch, train against
/// validation, as the lecture's `plot_fit_result(*result)` does:
/// `plot_fit_result(&result)?` with what `fit` returned.
///
/// The four curves (see [`FitCurves`]) are the histories `fit` returns, one
/// value per epoch; they must be non-empty and equally long. Epochs are
/// numbered from 1 on the x axis; every value is marked with a dot so that
/// a single epoch is visible too. Accuracy is drawn as given (a fraction or
/// a percentage); the axis of a fraction stops at 1.
///
/// The result is a [`Png`]: as a cell's last expression it shows inline in
/// Jupyter; elsewhere, [`Png::save`] it.
///
/// ```
/// use cnn_lab::*;
///
/// let png = plot_fit_result(&([0.9, 0.5, 0.3], [0.7, 0.85, 0.9],
///                             [0.8, 0.55, 0.4], [0.72, 0.83, 0.88]))?;
/// assert_eq!((png.width(), png.height()), (1000, 400));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn plot_fit_result<R: FitCurves + ?Sized>(result: &R) -> Result<Png> {
    let [train_loss, train_acc, val_loss, val_acc] = result.curves();
    plot_curves(train_loss, train_acc, val_loss, val_acc)
}

fn plot_curves(
    train_loss: &[f64],
    train_acc: &[f64],
    val_loss: &[f64],
    val_acc: &[f64],
) -> Result<Png> {
    let series = [
        ("train_loss", train_loss),
        ("train_acc", train_acc),
        ("val_loss", val_loss),
        ("val_acc", val_acc),
    ];
    for (name, values) in series {
        if values.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "plot_fit_result: {name} is empty (expected one value per epoch)"
            )));
        }
    }
    let epochs = train_loss.len();
    for (name, values) in &series[1..] {
        if values.len() != epochs {
            return Err(Error::InvalidArgument(format!(
                "plot_fit_result: {name} has {} values but train_loss has {epochs}; \
                 the four histories must have one value per epoch each",
                values.len()
            )));
        }
    }
    render_png(WIDTH, HEIGHT, |area| {
        let (left, right) = area.split_horizontally(WIDTH / 2);
        // Loss falls and accuracy rises, so their legends go where the
        // curves usually are not.
        draw_curves(&left, Chart::LOSS, train_loss, val_loss)?;
        draw_curves(&right, Chart::ACCURACY, train_acc, val_acc)
    })
}

/// What tells the two charts apart.
struct Chart {
    title: &'static str,
    legend: SeriesLabelPosition,
    /// The most the values can be when they are fractions (accuracy
    /// cannot pass 1), which the axis then does not pass either.
    fraction_max: Option<f64>,
}

impl Chart {
    const LOSS: Chart = Chart {
        title: "Loss",
        legend: SeriesLabelPosition::UpperRight,
        fraction_max: None,
    };
    const ACCURACY: Chart = Chart {
        title: "Accuracy",
        legend: SeriesLabelPosition::LowerRight,
        fraction_max: Some(1.0),
    };
}

/// The y range for `values`: their finite extremes with a margin that keeps
/// the extreme points off the frame (and gives a flat history, e.g. one
/// epoch, a usable range), capped at `cap` when every value is within it.
fn value_range<'a>(values: impl Iterator<Item = &'a f64>, cap: Option<f64>) -> Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let margin = ((hi - lo) * 0.08).max(hi.abs().max(1e-3) * 0.05);
    let top = match cap {
        // A percentage is drawn as given: only fractions are capped.
        Some(cap) if hi <= cap => (hi + margin).min(cap),
        _ => hi + margin,
    };
    (lo - margin)..top
}

/// One chart: `train` and `val` against epochs 1..=n, a dot on every value.
fn draw_curves(area: &Canvas<'_>, chart: Chart, train: &[f64], val: &[f64]) -> Result<()> {
    let n = train.len();
    let x = XAxis {
        // Half an epoch of slack on both sides so that points sit inside.
        range: 0.5..n as f64 + 0.5,
        labels: n.min(10) + 1,
        format: &epoch_label,
    };
    let (train, val) = (epoch_points(train), epoch_points(val));
    draw_chart(
        area,
        chart,
        x,
        [("train", &train, 4), ("validation", &val, 4)],
    )
}

/// `(epoch, value)` for values at the ends of epochs 1, 2, ….
fn epoch_points(values: &[f64]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| ((i + 1) as f64, v))
        .collect()
}

/// Epochs are whole numbers: only integer positions get a label.
fn epoch_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-9 && *x >= 1.0 {
        format!("{}", x.round() as i64)
    } else {
        String::new()
    }
}

/// The live chart `fit` redraws while it trains: loss (left) with the
/// training loss during the epochs ([`FitResult::train_loss_steps`]) and the
/// validation loss at each epoch's end; accuracy (right), train and
/// validation at each epoch's end. The x axis is in epochs, `0..epochs`,
/// so a one-epoch run fills it as it goes.
pub(crate) fn plot_training(so_far: &FitResult, epochs: usize) -> Result<Png> {
    let steps = &so_far.train_loss_steps;
    let train_acc = epoch_points(&so_far.train_accuracy);
    let val_loss = epoch_points(&so_far.val_loss);
    let val_acc = epoch_points(&so_far.val_accuracy);
    let x_range = 0.0..epochs.max(1) as f64;
    let x = || XAxis {
        labels: epochs.clamp(1, 10) + 1,
        range: x_range.clone(),
        format: &|x| format!("{}", (x * 100.0).round() / 100.0),
    };
    render_png(WIDTH, HEIGHT, |area| {
        let (left, right) = area.split_horizontally(WIDTH / 2);
        let loss = [("train", steps, 0), ("validation", &val_loss, 4)];
        draw_chart(&left, Chart::LOSS, x(), loss)?;
        let accuracy = [("train", &train_acc, 4), ("validation", &val_acc, 4)];
        draw_chart(&right, Chart::ACCURACY, x(), accuracy)
    })
}

/// A named series of `(epoch, value)` points and its dots' radius.
type Series<'a> = (&'a str, &'a Vec<(f64, f64)>, u32);

/// The x axis of a chart: its range, how many labels and how they read.
struct XAxis<'a> {
    range: Range<f64>,
    labels: usize,
    format: &'a dyn Fn(&f64) -> String,
}

/// One chart: two series of `(epoch, value)` points, train (blue) and
/// validation (orange), each drawn as a line with dots of the given radius
/// (0: none; a lone point always gets one), and their legend.
fn draw_chart(
    area: &Canvas<'_>,
    chart: Chart,
    x: XAxis<'_>,
    series: [Series<'_>; 2],
) -> Result<()> {
    let title = chart.title;
    let ys = series
        .iter()
        .flat_map(|(_, pts, _)| pts.iter().map(|p| &p.1));
    let y_range = value_range(ys, chart.fraction_max);
    let mut plot = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x.range, y_range)
        .map_err(drawing_error(title))?;
    plot.configure_mesh()
        .x_desc("epoch")
        .y_desc(title.to_lowercase())
        .x_labels(x.labels)
        .x_label_formatter(x.format)
        .y_label_formatter(&|y| format!("{y:.3}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .x_max_light_lines(0)
        .y_max_light_lines(1)
        .light_line_style(RGBColor(240, 240, 240))
        .draw()
        .map_err(drawing_error(title))?;
    for ((label, points, radius), color) in series.into_iter().zip([TRAIN_COLOR, VAL_COLOR]) {
        let points: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.1.is_finite()).collect();
        plot.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(drawing_error(title))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        let radius = if points.len() == 1 {
            radius.max(3)
        } else {
            radius
        };
        if radius > 0 {
            plot.draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, radius, color.filled())),
            )
            .map_err(drawing_error(title))?;
        }
    }
    plot.configure_series_labels()
        .position(chart.legend)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(drawing_error(title))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_axis_stops_at_one() {
        let r = value_range([0.97, 0.99].iter(), Some(1.0));
        assert!(r.end <= 1.0 && r.start < 0.97, "{r:?}");
        // A percentage is not a fraction: drawn as given.
        let r = value_range([97.0, 99.0].iter(), Some(1.0));
        assert!(r.end > 99.0, "{r:?}");
        // Loss has no cap.
        let r = value_range([0.5, 1.0].iter(), None);
        assert!(r.end > 1.0, "{r:?}");
    }
}

#[cfg(test)]
mod live_tests {
    use super::*;

    #[test]
    fn the_live_chart_draws_a_first_epoch_in_progress() {
        // Half-way through the first of two epochs: loss points, no epoch end.
        let mut so_far = FitResult {
            train_loss_steps: vec![(0.1, 2.0), (0.2, 1.2), (0.5, 0.6)],
            ..FitResult::default()
        };
        let png = plot_training(&so_far, 2).unwrap();
        assert_eq!((png.width(), png.height()), (WIDTH, HEIGHT));
        so_far.val_loss.push(0.5);
        so_far.train_accuracy.push(0.8);
        so_far.val_accuracy.push(0.82);
        assert!(plot_training(&so_far, 2).is_ok());
    }
}
