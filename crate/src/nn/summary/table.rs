//! torchinfo's table: its rows, footer, text and HTML.

use std::fmt;

use crate::display::{escape_html, Html, Show};
use crate::pyfmt::{group_int, py_list};

/// torchinfo's default column width.
const COL_WIDTH: usize = 25;

/// One line of the summary table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRow {
    /// The class name (`Conv2d`, `Sequential`, the model's struct name).
    pub type_name: String,
    /// 0 for the model, 1 for its children, …
    pub depth: usize,
    /// torchinfo's running index within the depth (`2-7` → 7).
    pub depth_index: usize,
    /// The output shape (empty for a container that was not called itself).
    pub output_shape: Vec<i64>,
    /// Parameters in this module's whole subtree.
    pub num_params: i64,
    /// torchinfo's multiply-accumulate count for a leaf layer.
    pub mult_adds: i64,
    /// The `Param #` column text (`320`, `--`, `(recursive)`).
    pub params_text: String,
    /// Whether torchinfo prints this row (depth at most 3).
    pub shown: bool,
}

impl SummaryRow {
    /// `Conv2d: 2-1` (the model's own row has no depth suffix).
    pub fn title(&self) -> String {
        if self.depth == 0 {
            self.type_name.clone()
        } else {
            format!("{}: {}-{}", self.type_name, self.depth, self.depth_index)
        }
    }

    fn tree_title(&self) -> String {
        let prefix = match self.depth {
            0 => String::new(),
            1 => "├─".to_string(),
            d => format!("{}└─", "│    ".repeat(d - 1)),
        };
        format!("{prefix}{}", self.title())
    }

    fn shape_text(&self) -> String {
        if self.output_shape.is_empty() {
            "--".into()
        } else {
            py_list(&self.output_shape)
        }
    }
}

/// The result of [`summary`](crate::summary): torchinfo's table. `Display` prints exactly
/// torchinfo's text, and so does `Debug` (torchinfo's `repr` is its table too: an evcxr
/// without the project's kernel shows a cell's value with `{:?}`); in a notebook it shows as
/// an HTML table.
#[derive(Clone)]
pub struct Summary {
    pub(super) rows: Vec<SummaryRow>,
    pub(super) total_params: i64,
    pub(super) trainable_params: i64,
    pub(super) total_mult_adds: i64,
    pub(super) input_bytes: i64,
    pub(super) output_bytes: i64,
    pub(super) param_bytes: i64,
    pub(super) name_width: usize,
}

impl Summary {
    /// Every row, including any deeper than torchinfo shows (`shown == false`).
    pub fn rows(&self) -> &[SummaryRow] {
        &self.rows
    }

    /// "Total params".
    pub fn total_params(&self) -> i64 {
        self.total_params
    }

    /// "Trainable params" (parameters with `requires_grad`).
    pub fn trainable_params(&self) -> i64 {
        self.trainable_params
    }

    /// "Total mult-adds", as a count (torchinfo prints it in G or M).
    pub fn total_mult_adds(&self) -> i64 {
        self.total_mult_adds
    }

    /// "Input size", bytes (data plus CPython's 64-byte storage object, as torchinfo counts).
    pub fn input_bytes(&self) -> i64 {
        self.input_bytes
    }

    /// "Forward/backward pass size", bytes: outputs of layers with
    /// parameters, twice (for their gradients).
    pub fn forward_backward_bytes(&self) -> i64 {
        self.output_bytes
    }

    /// "Params size", bytes.
    pub fn param_bytes(&self) -> i64 {
        self.param_bytes
    }

    fn divider(&self) -> String {
        "=".repeat(self.name_width + 2 * COL_WIDTH)
    }

    fn format_row(&self, name: &str, cols: &[&str]) -> String {
        let mut line = format!("{name:<w$} ", w = self.name_width);
        for c in cols {
            line += &format!("{c:<COL_WIDTH$} ");
        }
        line.trim_end().to_string()
    }

    /// The footer lines (`Total params: …` to `Estimated Total Size (MB): …`)
    /// as (label, value) pairs; `None` marks the divider between the groups.
    fn footer(&self) -> Vec<Option<(String, String)>> {
        let mb = |b: i64| format!("{:.2}", b as f64 / 1e6);
        vec![
            Some(("Total params".into(), group_int(self.total_params))),
            Some(("Trainable params".into(), group_int(self.trainable_params))),
            Some((
                "Non-trainable params".into(),
                group_int(self.total_params - self.trainable_params),
            )),
            Some(mult_adds_text(self.total_mult_adds)),
            None,
            Some(("Input size (MB)".into(), mb(self.input_bytes))),
            Some((
                "Forward/backward pass size (MB)".into(),
                mb(self.output_bytes),
            )),
            Some(("Params size (MB)".into(), mb(self.param_bytes))),
            Some((
                "Estimated Total Size (MB)".into(),
                mb(self.input_bytes + self.output_bytes + self.param_bytes),
            )),
        ]
    }

    /// The HTML table shown in a notebook (same rows and figures as the text).
    pub fn to_html(&self) -> String {
        let mut h = String::from(
            "<table style=\"font-family:monospace\"><thead><tr><th style=\"text-align:left\">Layer (type:depth-idx)</th><th style=\"text-align:left\">Output Shape</th><th style=\"text-align:right\">Param #</th></tr></thead><tbody>",
        );
        for r in self.rows.iter().filter(|r| r.shown) {
            h += &format!(
                "<tr><td style=\"text-align:left;white-space:pre\">{}</td><td style=\"text-align:left\">{}</td><td style=\"text-align:right\">{}</td></tr>",
                escape_html(&r.tree_title()),
                escape_html(&r.shape_text()),
                escape_html(&r.params_text)
            );
        }
        h += "</tbody><tfoot>";
        for item in self.footer().into_iter().flatten() {
            h += &format!(
                "<tr><td colspan=\"2\" style=\"text-align:left\">{}</td><td style=\"text-align:right\">{}</td></tr>",
                escape_html(&item.0),
                escape_html(&item.1)
            );
        }
        h += "</tfoot></table>";
        h
    }

    /// Called by evcxr for the last expression of a cell: the HTML table,
    /// with torchinfo's text as the plain-text fallback.
    pub fn evcxr_display(&self) {
        Html {
            html: self.to_html(),
            text: self.to_string(),
        }
        .show();
    }
}

impl fmt::Debug for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let divider = self.divider();
        writeln!(f, "{divider}")?;
        writeln!(
            f,
            "{}",
            self.format_row("Layer (type:depth-idx)", &["Output Shape", "Param #"])
        )?;
        writeln!(f, "{divider}")?;
        for r in self.rows.iter().filter(|r| r.shown) {
            let line = self.format_row(&r.tree_title(), &[&r.shape_text(), &r.params_text]);
            writeln!(f, "{line}")?;
        }
        writeln!(f, "{divider}")?;
        for item in self.footer() {
            match item {
                Some((label, value)) => writeln!(f, "{label}: {value}")?,
                None => writeln!(f, "{divider}")?,
            }
        }
        write!(f, "{divider}")
    }
}

/// torchinfo's `format_output_num(macs, Units.AUTO)` label and value, e.g.
/// `("Total mult-adds (Units.GIGABYTES)", "2.05")` — the unit printed the way
/// Python 3.11 formats torchinfo's `str` enum.
pub(super) fn mult_adds_text(macs: i64) -> (String, String) {
    let (unit, value) = if macs as f64 >= 1e12 {
        ("TERABYTES", macs as f64 / 1e12)
    } else if macs as f64 >= 1e9 {
        ("GIGABYTES", macs as f64 / 1e9)
    } else {
        ("MEGABYTES", macs as f64 / 1e6)
    };
    let text = if value.fract() == 0.0 {
        group_int(value as i64)
    } else {
        let fixed = format!("{value:.2}");
        let (int, frac) = fixed.split_once('.').expect("{:.2} has a point");
        format!("{}.{frac}", group_int(int.parse().expect("integer part")))
    };
    (format!("Total mult-adds (Units.{unit})"), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mult_adds_units_follow_torchinfo() {
        assert_eq!(mult_adds_text(2_050_000_000).1, "2.05");
        assert_eq!(mult_adds_text(3_000_000).1, "3");
        assert_eq!(
            mult_adds_text(1_500_000).0,
            "Total mult-adds (Units.MEGABYTES)"
        );
    }
}
