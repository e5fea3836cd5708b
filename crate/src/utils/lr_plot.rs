//! The learning-rate finder's chart (fastai's `lr_find` plot).

use plotters::prelude::*;
use plotters::style::RGBColor;

use crate::display::{drawing_error, render_png, Png};
use crate::error::{Error, Result};

const LINE: RGBColor = RGBColor(31, 119, 180);
const MARK: RGBColor = RGBColor(214, 39, 40);

/// Loss against learning rate on a log axis, with the suggested rate
/// marked, as fastai draws `lr_find`.
pub(crate) fn plot_lr_find(lrs: &[f64], losses: &[f64], suggestion: f64) -> Result<Png> {
    if lrs.len() < 2 || lrs.len() != losses.len() {
        return Err(Error::InvalidArgument(format!(
            "lr_find plot: {} rates and {} losses (need at least 2 each, as many of both)",
            lrs.len(),
            losses.len()
        )));
    }
    let (lo, hi) = losses
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &l| {
            (a.min(l), b.max(l))
        });
    let margin = ((hi - lo) * 0.08).max(1e-3);
    let x_range = (lrs[0]..lrs[lrs.len() - 1]).log_scale();
    render_png(640, 420, |area| {
        let title = "Learning rate finder";
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x_range, (lo - margin)..(hi + margin))
            .map_err(drawing_error(title))?;
        chart
            .configure_mesh()
            .x_desc("learning rate (log scale)")
            .y_desc("loss (smoothed)")
            .x_label_formatter(&|x| format!("{x:.0e}"))
            .y_label_formatter(&|y| format!("{y:.3}"))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(drawing_error(title))?;
        chart
            .draw_series(LineSeries::new(
                lrs.iter().copied().zip(losses.iter().copied()),
                LINE.stroke_width(2),
            ))
            .map_err(drawing_error(title))?;
        let at = lrs
            .iter()
            .position(|&l| l >= suggestion)
            .unwrap_or(lrs.len() - 1);
        chart
            .draw_series([Circle::new((lrs[at], losses[at]), 6, MARK.filled())])
            .map_err(drawing_error(title))?
            .label(format!("suggested lr {suggestion:.1e}"))
            .legend(|(x, y)| Circle::new((x + 10, y), 5, MARK.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(drawing_error(title))?;
        Ok(())
    })
}
