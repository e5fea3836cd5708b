//! The learning-rate range test (fastai's `lr_find`, after Leslie Smith's
//! "Cyclical Learning Rates"): train a few batches with a rate that grows
//! exponentially from tiny to huge, watch the loss, suggest a rate where it
//! falls fastest, then put the model back as it was.

use tch::{Kind, Tensor};

use super::device::pass_device;
use super::graphed::eager_step;
use super::progress::{Progress, ProgressLine};
use crate::checkpoint::load_state_dict;
use crate::data::DataLoader;
use crate::display::DisplayHandle;
use crate::error::{Error, Result};
use crate::interrupt::InterruptGuard;
use crate::loss::Loss;
use crate::nn::ModuleExt;
use crate::optim::{Adam, Optimizer};
use crate::utils::lr_plot::plot_lr_find;
use crate::Png;

/// [`lr_find`]'s settings, fastai's names and defaults: `start_lr=1e-7`,
/// `end_lr=10`, `num_it=100`, `stop_div=True`; the optimizer is a fresh
/// `Adam` (PyTorch's defaults) over the model's parameters.
#[derive(Clone, Debug)]
pub struct LrFindOptions {
    start_lr: f64,
    end_lr: f64,
    num_it: usize,
    stop_div: bool,
    progress: Progress,
}

impl Default for LrFindOptions {
    fn default() -> Self {
        LrFindOptions {
            start_lr: 1e-7,
            end_lr: 10.0,
            num_it: 100,
            stop_div: true,
            progress: Progress::Auto,
        }
    }
}

impl LrFindOptions {
    /// The first rate (`start_lr=`, default 1e-7).
    pub fn start_lr(mut self, lr: f64) -> Self {
        self.start_lr = lr;
        self
    }
    /// The last rate (`end_lr=`, default 10).
    pub fn end_lr(mut self, lr: f64) -> Self {
        self.end_lr = lr;
        self
    }
    /// How many batches (`num_it=`, default 100); the loader is cycled if
    /// it has fewer.
    pub fn num_it(mut self, n: usize) -> Self {
        self.num_it = n;
        self
    }
    /// Stop once the smoothed loss passes 4 × its minimum (`stop_div=`,
    /// default true).
    pub fn stop_div(mut self, stop: bool) -> Self {
        self.stop_div = stop;
        self
    }
    /// The progress line, as for `fit`.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }
}

/// What [`lr_find`] found: the rates tried, the smoothed losses, and the
/// suggestion. As a cell's last expression it shows its chart.
#[derive(Clone, Debug, PartialEq)]
pub struct LrFinder {
    /// The learning rate of each step.
    pub lrs: Vec<f64>,
    /// The loss after each step, smoothed as fastai smooths it
    /// (exponential moving average, β = 0.98, bias-corrected).
    pub losses: Vec<f64>,
    /// fastai's default suggestion (`valley`): about two thirds down the
    /// longest stretch over which the loss keeps falling.
    pub suggestion: f64,
    /// Where the smoothed loss falls fastest (fastai's `steep`).
    pub steep: f64,
}

impl LrFinder {
    /// The loss against the rate (log scale), the suggestion marked.
    pub fn plot(&self) -> Result<Png> {
        plot_lr_find(&self.lrs, &self.losses, self.suggestion)
    }

    /// Called by evcxr for the last expression of a cell: the chart and
    /// the suggestion.
    pub fn evcxr_display(&self) {
        match self.plot() {
            Ok(png) => png.evcxr_display(),
            Err(e) => println!("{e}"),
        }
        println!(
            "suggested lr: {:.2e} (steepest: {:.2e})",
            self.suggestion, self.steep
        );
    }
}

/// The learning-rate range test (fastai's `learn.lr_find()`): `num_it`
/// training steps on `loader` with a fresh Adam whose rate grows
/// exponentially from `start_lr` to `end_lr`; the model's weights and
/// buffers are restored afterwards (also after Stop or an error). Shows a
/// progress line and stops cleanly on Stop, as `fit` does.
///
/// ```no_run
/// use cnn_lab::*;
/// # fn demo(model: &dyn Module, train_loader: &DataLoader) -> Result<()> {
/// let found = lr_find(train_loader, model, &CrossEntropyLoss::new(), LrFindOptions::default())?;
/// let mut optimizer = Adam::new(model.parameters(), found.suggestion);
/// # let _ = optimizer; Ok(()) }
/// ```
pub fn lr_find<M, L>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    options: LrFindOptions,
) -> Result<LrFinder>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
{
    let o = &options;
    if !(o.start_lr > 0.0 && o.end_lr > o.start_lr) || o.num_it < 2 {
        return Err(Error::InvalidArgument(format!(
            "lr_find: need 0 < start_lr < end_lr and num_it >= 2, got {}, {}, {}",
            o.start_lr, o.end_lr, o.num_it
        )));
    }
    if loader.is_empty() {
        return Err(Error::InvalidArgument(
            "lr_find: the loader has no batch".into(),
        ));
    }
    let device = pass_device(model, loader, None)?;
    let saved: Vec<(String, Tensor)> = {
        let _guard = tch::no_grad_guard();
        model
            .state_dict()
            .into_iter()
            .map(|(k, t)| (k, t.copy()))
            .collect()
    };
    let found = range_test(loader, model, loss_fn, o, device);
    load_state_dict(model, &saved)?;
    let (lrs, losses) = found?;
    if lrs.len() < 2 {
        return Err(Error::Training(format!(
            "lr_find: the loss diverged after {} steps; try a smaller start_lr",
            lrs.len()
        )));
    }
    Ok(LrFinder {
        suggestion: lrs[valley(&losses)],
        steep: lrs[steepest(&losses)],
        lrs,
        losses,
    })
}

fn range_test<M, L>(
    loader: &DataLoader,
    model: &M,
    loss_fn: &L,
    o: &LrFindOptions,
    device: tch::Device,
) -> Result<(Vec<f64>, Vec<f64>)>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
{
    let mut optimizer = Adam::new(model.parameters(), o.start_lr);
    let interrupt = InterruptGuard::new();
    let mut handle = DisplayHandle::new();
    let mut line = ProgressLine::new(o.progress, o.num_it, "lr_find", &mut handle);
    let (mut lrs, mut losses) = (Vec::new(), Vec::new());
    let (mut avg, mut best, beta) = (0.0, f64::INFINITY, 0.98f64);
    let mut samples = 0;
    let mut batches = loader.try_iter();
    for i in 0..o.num_it {
        let (x, y) = match batches.next() {
            Some(b) => b?,
            None => {
                batches = loader.try_iter();
                match batches.next() {
                    Some(b) => b?,
                    None => {
                        return Err(Error::InvalidArgument(
                            "lr_find: the loader has no batch".into(),
                        ))
                    }
                }
            }
        };
        let lr = o.start_lr * (o.end_lr / o.start_lr).powf(i as f64 / (o.num_it - 1) as f64);
        optimizer.set_learning_rate(lr)?;
        let (x, y) = (x.to_device(device), y.to_device(device));
        samples += x.size()[0] as usize;
        let loss = eager_step(model, loss_fn, &mut optimizer, &x, &y)?
            .to_kind(Kind::Double)
            .double_value(&[]);
        avg = beta * avg + (1.0 - beta) * loss;
        let smooth = avg / (1.0 - beta.powi(i as i32 + 1));
        if !smooth.is_finite() {
            break;
        }
        lrs.push(lr);
        losses.push(smooth);
        best = best.min(smooth);
        if interrupt.interrupted() {
            line.clear();
            return Err(Error::Interrupted(format!(
                "in lr_find after step {}/{}; the model's weights are restored",
                i + 1,
                o.num_it
            )));
        }
        if line.due() {
            line.show(i + 1, smooth, samples, Some(lr));
        }
        if o.stop_div && smooth > 4.0 * best {
            break;
        }
    }
    line.finish(
        *losses.last().unwrap_or(&f64::NAN),
        samples,
        lrs.last().copied(),
    );
    Ok((lrs, losses))
}

/// fastai's `valley`: the longest run of decreasing losses (as a longest
/// decreasing subsequence), and the index about two thirds along it.
fn valley(losses: &[f64]) -> usize {
    let n = losses.len();
    if n == 0 {
        return 0;
    }
    let mut lds = vec![1i64; n];
    // Signed as in fastai's Python: a descent from index 0 starts at -1.
    let (mut max_start, mut max_end) = (0i64, 0usize);
    for i in 1..n {
        for j in 0..i {
            if losses[i] < losses[j] && lds[i] < lds[j] + 1 {
                lds[i] = lds[j] + 1;
            }
            if lds[max_end] < lds[i] {
                max_end = i;
                max_start = max_end as i64 - lds[max_end];
            }
        }
    }
    let sections = (max_end as i64 - max_start) as f64 / 3.0;
    let idx = max_start + sections as i64 + (sections / 2.0) as i64;
    idx.clamp(0, n as i64 - 1) as usize
}

/// fastai's `steep`: where the loss falls fastest per step.
fn steepest(losses: &[f64]) -> usize {
    (1..losses.len())
        .min_by(|&a, &b| {
            let (da, db) = (losses[a] - losses[a - 1], losses[b] - losses[b - 1]);
            da.total_cmp(&db)
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valley_is_two_thirds_down_the_longest_descent() {
        // Flat, then falling over indices 3..=9, then rising.
        let losses = [
            2.0, 2.0, 2.0, 1.9, 1.7, 1.4, 1.0, 0.7, 0.5, 0.4, 0.6, 1.5, 3.0,
        ];
        // fastai's valley on these losses: the longest descent runs from
        // index 1 (max_end 9 minus its length 8) to 9; 1 + int(8/3) + int(8/6) = 4.
        assert_eq!(valley(&losses), 4);
        assert_eq!(steepest(&losses), 6);
    }

    #[test]
    fn valley_of_a_descent_from_the_first_point_is_fastais() {
        // fastai: max_end 4, lds 5, max_start -1; -1 + int(5/3) + int(5/6) = 0.
        assert_eq!(valley(&[5.0, 4.0, 3.0, 2.0, 1.0, 3.0]), 0);
        // Longer: max_end 7, max_start -1, sections 8/3: -1 + 2 + 1 = 2.
        assert_eq!(valley(&[9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 4.0]), 2);
        assert_eq!(valley(&[]), 0);
    }
}
