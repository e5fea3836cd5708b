//! Loss and accuracy curves: the lecture's `plot_fit_result`.

use plotters::prelude::*;
use plotters::style::RGBColor;

use crate::display::{drawing_error, render_png, Canvas, Png};
use crate::error::{Error, Result};

/// Training curves in blue, validation in orange (matplotlib's first two).
const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);

/// Size of the whole picture: two charts side by side.
const WIDTH: u32 = 1000;
const HEIGHT: u32 = 400;

/// Draws loss (left) and accuracy (right) per epoch, train against
/// validation, as the lecture's `plot_fit_result(*result)` does.
///
/// The four slices are the histories `fit` returns, one value per epoch;
/// they must be non-empty and equally long. Epochs are numbered from 1 on
/// the x axis; every value is marked with a dot so that a single epoch is
/// visible too. Accuracy is drawn as given (a fraction or a percentage).
///
/// The result is a [`Png`]: as a cell's last expression
/// (`plot_fit_result(&tl, &ta, &vl, &va)?`) it shows inline in Jupyter;
/// elsewhere, [`Png::save`] it.
///
/// ```
/// use cnn_lab::*;
///
/// let png = plot_fit_result(&[0.9, 0.5, 0.3], &[0.7, 0.85, 0.9],
///                           &[0.8, 0.55, 0.4], &[0.72, 0.83, 0.88])?;
/// assert_eq!((png.width(), png.height()), (1000, 400));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn plot_fit_result(
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
        draw_curves(
            &left,
            "Loss",
            train_loss,
            val_loss,
            SeriesLabelPosition::UpperRight,
        )?;
        draw_curves(
            &right,
            "Accuracy",
            train_acc,
            val_acc,
            SeriesLabelPosition::LowerRight,
        )
    })
}

/// One chart: `train` and `val` against epochs 1..=n.
fn draw_curves(
    area: &Canvas<'_>,
    title: &str,
    train: &[f64],
    val: &[f64],
    legend: SeriesLabelPosition,
) -> Result<()> {
    let n = train.len();
    let (lo, hi) = train
        .iter()
        .chain(val)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    // A margin keeps the extreme points off the frame, and a flat history
    // (e.g. one epoch) still gets a usable range.
    let margin = ((hi - lo) * 0.08).max(hi.abs().max(1e-3) * 0.05);
    // Half an epoch of slack on both sides so that points sit inside.
    let x_range = 0.5..n as f64 + 0.5;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range, (lo - margin)..(hi + margin))
        .map_err(drawing_error(title))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(title.to_lowercase())
        .x_labels(n.min(10) + 1)
        // Epochs are whole numbers: label only integer positions.
        .x_label_formatter(&|x| {
            if (x - x.round()).abs() < 1e-9 && *x >= 1.0 {
                format!("{}", x.round() as i64)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| format!("{y:.3}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .x_max_light_lines(0)
        .y_max_light_lines(1)
        .light_line_style(RGBColor(240, 240, 240))
        .draw()
        .map_err(drawing_error(title))?;
    for (label, values, color) in [
        ("train", train, TRAIN_COLOR),
        ("validation", val, VAL_COLOR),
    ] {
        let points: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| ((i + 1) as f64, v))
            // A NaN epoch (diverged training) is left out, the line joining
            // its neighbours, rather than breaking the chart.
            .filter(|(_, v)| v.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(drawing_error(title))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
            .map_err(drawing_error(title))?;
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(drawing_error(title))?;
    Ok(())
}
