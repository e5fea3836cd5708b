//! Live progress inside an epoch (batch i/N, running loss, images/s,
//! elapsed and remaining time).
//!
//! In a terminal: one line rewritten with `\r` at most every [`INTERVAL`],
//! blanked before the epoch line. In Jupyter, with the project's kernel, one
//! output per epoch replaced in place (a [`DisplayHandle`], like tqdm's bar)
//! at most every [`INTERVAL`], left showing the epoch's final state. With a
//! plain evcxr, which reads stdout line by line and cannot replace an
//! output, a whole line is printed at most every [`NOTEBOOK_INTERVAL`]: a
//! slow CPU epoch shows a few lines, a fast GPU epoch none. Elsewhere (logs,
//! CI, `cargo test`) it is silent unless asked for. Each update reads the
//! running loss from the device, so the throttle also bounds host syncs.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::display::{display_updates_supported, in_evcxr, DisplayHandle};

/// The shortest time between two updates of the terminal line or the
/// notebook output.
pub(crate) const INTERVAL: Duration = Duration::from_millis(500);

/// The shortest time between two progress lines in a notebook.
pub(crate) const NOTEBOOK_INTERVAL: Duration = Duration::from_secs(15);

/// Whether `fit` shows the progress line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// An output updated in place in Jupyter (whole lines with a plain
    /// evcxr), a rewritten line in a terminal, silent otherwise.
    #[default]
    Auto,
    /// A line rewritten with `\r`, whatever stdout is.
    On,
    /// Never.
    Off,
}

/// How updates are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    Rewrite,
    Display,
    Lines,
    Silent,
}

impl Progress {
    fn style(self) -> Style {
        match self {
            Progress::Auto if in_evcxr() && display_updates_supported() => Style::Display,
            Progress::Auto if in_evcxr() => Style::Lines,
            Progress::Auto if std::io::stdout().is_terminal() => Style::Rewrite,
            Progress::Auto | Progress::Off => Style::Silent,
            Progress::On => Style::Rewrite,
        }
    }
}

/// The line for one pass over a loader.
pub(crate) struct ProgressLine<'a> {
    style: Style,
    label: String,
    total: usize,
    start: Instant,
    last: Option<Instant>,
    width: usize,
    /// The notebook output, in the Display style: `fit` passes one for all
    /// its epochs, so a run shows one progress output.
    handle: Option<&'a mut DisplayHandle>,
}

impl<'a> ProgressLine<'a> {
    /// A line for a pass of `total` batches; `label` (e.g. `Epoch[2/10]`)
    /// starts it. In a notebook it is shown through `handle`.
    pub(crate) fn new(
        mode: Progress,
        total: usize,
        label: &str,
        handle: &'a mut DisplayHandle,
    ) -> Self {
        let style = mode.style();
        ProgressLine {
            style,
            label: label.to_owned(),
            total,
            start: Instant::now(),
            last: None,
            width: 0,
            handle: (style == Style::Display).then_some(handle),
        }
    }

    /// Whether an update is due now; the caller then reads its running
    /// values (a host sync) and calls [`ProgressLine::show`].
    pub(crate) fn due(&self) -> bool {
        let interval = match self.style {
            // The notebook output appears at the first batch.
            Style::Display if self.last.is_none() => return true,
            Style::Rewrite | Style::Display => INTERVAL,
            Style::Lines => NOTEBOOK_INTERVAL,
            Style::Silent => return false,
        };
        self.last.unwrap_or(self.start).elapsed() >= interval
    }

    /// The text of the line after `batch` batches; `lr` (shown with a
    /// scheduler) after the loss.
    fn text(&self, batch: usize, loss: f64, samples: usize, lr: Option<f64>) -> String {
        let elapsed = self.start.elapsed().as_secs_f64();
        let rate = samples as f64 / elapsed.max(1e-9);
        let timing = if batch >= self.total {
            format!("{} total", clock(elapsed))
        } else {
            let left = elapsed / batch.max(1) as f64 * (self.total - batch) as f64;
            format!("{} elapsed, {} left", clock(elapsed), clock(left))
        };
        let label = if self.label.is_empty() {
            String::new()
        } else {
            format!("{} ", self.label)
        };
        let lr = lr.map(|lr| format!(" - lr: {lr:.3e}")).unwrap_or_default();
        format!(
            "{label}batch {batch}/{} - loss: {loss:.5}{lr} - {rate:.0} images/s - {timing}",
            self.total
        )
    }

    pub(crate) fn show(&mut self, batch: usize, loss: f64, samples: usize, lr: Option<f64>) {
        let line = self.text(batch, loss, samples, lr);
        if let Some(handle) = &mut self.handle {
            handle.show("text/plain", &line);
        } else if self.style == Style::Lines {
            println!("{line}");
        } else {
            let pad = self.width.saturating_sub(line.chars().count());
            print!("\r{line}{}", " ".repeat(pad));
            let _ = std::io::stdout().flush();
            self.width = line.chars().count();
        }
        self.last = Some(Instant::now());
    }

    /// The end of the pass: the notebook output keeps its final state
    /// (all batches, total time); a terminal line is blanked.
    pub(crate) fn finish(&mut self, loss: f64, samples: usize, lr: Option<f64>) {
        if self.handle.as_ref().is_some_and(|h| h.is_shown()) {
            self.show(self.total, loss, samples, lr);
        }
        self.clear();
    }

    /// Blanks the line, so that the next `println!` starts on a clean line.
    pub(crate) fn clear(&mut self) {
        if self.width > 0 {
            print!("\r{}\r", " ".repeat(self.width));
            let _ = std::io::stdout().flush();
            self.width = 0;
        }
    }
}

impl Drop for ProgressLine<'_> {
    fn drop(&mut self) {
        self.clear();
    }
}

/// `m:ss` (or `h:mm:ss`), as tqdm shows times.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_batch_loss_speed_and_time_left() {
        let mut handle = DisplayHandle::new();
        let line = ProgressLine::new(Progress::Off, 10, "Epoch[2/5]", &mut handle);
        let text = line.text(4, 0.123456, 1024, None);
        assert!(
            text.starts_with("Epoch[2/5] batch 4/10 - loss: 0.12346 - "),
            "{text}"
        );
        assert!(
            text.contains(" images/s - 0:00 elapsed, 0:00 left"),
            "{text}"
        );
        assert!(line.text(10, 0.1, 2560, None).ends_with(" - 0:00 total"));
        let scheduled = line.text(4, 0.5, 1024, Some(0.00025));
        assert!(
            scheduled.contains("loss: 0.50000 - lr: 2.500e-4 - "),
            "{scheduled}"
        );
        assert_eq!(clock(75.4), "1:15");
        assert_eq!(clock(3725.0), "1:02:05");
    }

    #[test]
    fn updates_are_throttled_to_the_interval() {
        let (mut h1, mut h2, mut h3) = (
            DisplayHandle::new(),
            DisplayHandle::new(),
            DisplayHandle::new(),
        );
        let mut line = ProgressLine::new(Progress::On, 10, "", &mut h1);
        let off = ProgressLine::new(Progress::Off, 10, "", &mut h2);
        let mut notebook = ProgressLine::new(Progress::Off, 10, "", &mut h3);
        notebook.style = Style::Lines;
        assert!(!line.due(), "nothing in the first interval");
        std::thread::sleep(INTERVAL + Duration::from_millis(20));
        assert!(line.due());
        line.show(3, 0.5, 768, None);
        assert!(!line.due(), "shown just now");
        line.clear();
        assert!(!off.due(), "Off never shows");
        assert!(!notebook.due(), "notebook lines are much rarer");
    }
}
