//! Live progress inside an epoch: one line rewritten with `\r`, throttled.
//!
//! Jupyter (through evcxr) and terminals both honour `\r`, so the line
//! updates in place. Updates come at most every [`INTERVAL`], which bounds
//! both the output an executed notebook stores and the host syncs that
//! reading the running loss costs. Elsewhere (logs, CI, `cargo test`) it
//! stays silent unless asked for.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// The shortest time between two updates of the line.
pub(crate) const INTERVAL: Duration = Duration::from_millis(500);

/// Whether `fit` shows the progress line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// In Jupyter (evcxr) or when stdout is a terminal; silent otherwise.
    #[default]
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

impl Progress {
    fn enabled(self) -> bool {
        match self {
            Progress::Auto => crate::display::in_evcxr() || std::io::stdout().is_terminal(),
            Progress::On => true,
            Progress::Off => false,
        }
    }
}

/// The line for one pass over a loader.
pub(crate) struct ProgressLine {
    enabled: bool,
    total: usize,
    start: Instant,
    last: Option<Instant>,
    width: usize,
}

impl ProgressLine {
    pub(crate) fn new(mode: Progress, total: usize) -> Self {
        ProgressLine {
            enabled: mode.enabled(),
            total,
            start: Instant::now(),
            last: None,
            width: 0,
        }
    }

    /// Whether an update is due now; the caller then reads its running
    /// values (a host sync) and calls [`ProgressLine::show`].
    pub(crate) fn due(&self) -> bool {
        self.enabled && self.last.map_or(self.start, |t| t).elapsed() >= INTERVAL
    }

    pub(crate) fn show(&mut self, batch: usize, loss: f64, samples: usize) {
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        let line = format!(
            "batch {batch}/{} - loss: {loss:.5} - {:.0} images/s",
            self.total,
            samples as f64 / secs
        );
        let pad = self.width.saturating_sub(line.chars().count());
        print!("\r{line}{}", " ".repeat(pad));
        let _ = std::io::stdout().flush();
        self.width = line.chars().count();
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
        assert!(!line.due(), "nothing in the first interval");
        std::thread::sleep(INTERVAL + Duration::from_millis(20));
        assert!(line.due());
        line.show(3, 0.5, 768);
        assert!(!line.due(), "shown just now");
        line.clear();
        assert!(!off.due(), "Off never shows");
    }
}
