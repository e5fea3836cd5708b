//! Live progress inside an epoch (batch i/N, running loss, images/s).
//!
//! In a terminal: one line rewritten with `\r` at most every [`INTERVAL`],
//! blanked before the epoch line. In Jupyter that cannot work: evcxr reads
//! the program's stdout line by line, so text without a newline only shows
//! when the epoch line arrives. There a whole line is printed at most every
//! [`NOTEBOOK_INTERVAL`]: a slow CPU epoch shows a few lines, a fast GPU
//! epoch none, and an executed notebook stays short. Elsewhere (logs, CI,
//! `cargo test`) it is silent unless asked for. Each update reads the running
//! loss from the device, so the throttle also bounds host syncs.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// The shortest time between two updates of the terminal line.
pub(crate) const INTERVAL: Duration = Duration::from_millis(500);

/// The shortest time between two progress lines in a notebook.
pub(crate) const NOTEBOOK_INTERVAL: Duration = Duration::from_secs(15);

/// Whether `fit` shows the progress line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// Lines in Jupyter (evcxr), a rewritten line in a terminal, silent otherwise.
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
    Lines,
    Silent,
}

impl Progress {
    fn style(self) -> Style {
        match self {
            Progress::Auto if crate::display::in_evcxr() => Style::Lines,
            Progress::Auto if std::io::stdout().is_terminal() => Style::Rewrite,
            Progress::Auto | Progress::Off => Style::Silent,
            Progress::On => Style::Rewrite,
        }
    }
}

/// The line for one pass over a loader.
pub(crate) struct ProgressLine {
    style: Style,
    total: usize,
    start: Instant,
    last: Option<Instant>,
    width: usize,
}

impl ProgressLine {
    pub(crate) fn new(mode: Progress, total: usize) -> Self {
        ProgressLine {
            style: mode.style(),
            total,
            start: Instant::now(),
            last: None,
            width: 0,
        }
    }

    /// Whether an update is due now; the caller then reads its running
    /// values (a host sync) and calls [`ProgressLine::show`].
    pub(crate) fn due(&self) -> bool {
        let interval = match self.style {
            Style::Rewrite => INTERVAL,
            Style::Lines => NOTEBOOK_INTERVAL,
            Style::Silent => return false,
        };
        self.last.unwrap_or(self.start).elapsed() >= interval
    }

    pub(crate) fn show(&mut self, batch: usize, loss: f64, samples: usize) {
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        let line = format!(
            "batch {batch}/{} - loss: {loss:.5} - {:.0} images/s",
            self.total,
            samples as f64 / secs
        );
        if self.style == Style::Lines {
            println!("{line}");
        } else {
            let pad = self.width.saturating_sub(line.chars().count());
            print!("\r{line}{}", " ".repeat(pad));
            let _ = std::io::stdout().flush();
            self.width = line.chars().count();
        }
        self.last = Some(Instant::now());
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

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_throttled_to_the_interval() {
        let mut line = ProgressLine::new(Progress::On, 10);
        let off = ProgressLine::new(Progress::Off, 10);
        let mut notebook = ProgressLine::new(Progress::Off, 10);
        notebook.style = Style::Lines;
        assert!(!line.due(), "nothing in the first interval");
        std::thread::sleep(INTERVAL + Duration::from_millis(20));
        assert!(line.due());
        line.show(3, 0.5, 768);
        assert!(!line.due(), "shown just now");
        line.clear();
        assert!(!off.due(), "Off never shows");
        assert!(!notebook.due(), "notebook lines are much rarer");
    }
}
