//! The training step, run eagerly or replayed as a CUDA graph
//! ([`FitOptions::cuda_graph`](super::FitOptions::cuda_graph)).

use tch::{Device, Tensor};

use crate::cuda::graph::cuda_graphs_built;
use crate::cuda::CudaGraph;
use crate::error::{catch_torch, Error, Result};
use crate::loss::Loss;
use crate::nn::ModuleExt;
use crate::optim::Optimizer;

/// One training step on a batch: `zero_grad`, forward, loss, backward,
/// `step`. Returns the batch's loss, detached.
pub(super) fn eager_step<M, L, O>(
    model: &M,
    loss_fn: &L,
    optimizer: &mut O,
    x: &Tensor,
    y: &Tensor,
) -> Result<Tensor>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
    O: Optimizer + ?Sized,
{
    optimizer.zero_grad()?;
    step_without_zero_grad(model, loss_fn, optimizer, x, y)
}

fn step_without_zero_grad<M, L, O>(
    model: &M,
    loss_fn: &L,
    optimizer: &mut O,
    x: &Tensor,
    y: &Tensor,
) -> Result<Tensor>
where
    M: ModuleExt + ?Sized,
    L: Loss + ?Sized,
    O: Optimizer + ?Sized,
{
    let loss = catch_torch("training pass", || {
        let output = model.forward_t(x, true);
        let loss = loss_fn.forward(&output, y);
        loss.backward();
        loss.detach()
    })?;
    optimizer.step()?;
    Ok(loss)
}

/// How many full batches run eagerly on the graph's side stream before the
/// capture: PyTorch's recipe uses 3, enough for cuDNN's and cuBLAS's
/// set-up, the optimizer's state and the allocator to settle.
const WARM_UP_STEPS: usize = 3;

/// The training step as a CUDA graph, kept across epochs: full batches are
/// copied into the captured input tensors and the graph is replayed; a
/// smaller last batch runs eagerly. Every batch is a real training step —
/// the warm-up steps and the captured one included — so the run trains as
/// the eager one does.
pub(super) struct GraphedStep {
    graph: CudaGraph,
    schedule: Schedule,
    /// The captured step's input, labels and loss, rewritten by each replay.
    captured: Option<[Tensor; 3]>,
    /// `FitOptions::cuda_graph(true)`: a failed capture is an error. By
    /// default it is a note, and training goes on eagerly.
    insist: bool,
    /// The capture failed (by default): every later step runs eagerly.
    given_up: bool,
}

/// What [`GraphedStep::step`] does with a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// A batch of another size: an ordinary step.
    Eager,
    /// One of the first full batches: an ordinary step on the side stream.
    WarmUp,
    /// The first full batch after the warm-up: captured, then replayed.
    Capture,
    /// Every later full batch: copied into the captured inputs, replayed.
    Replay,
}

/// The order of [`Action`]s, apart from the tensors.
struct Schedule {
    batch_size: i64,
    warmed: usize,
}

impl Schedule {
    fn action(&mut self, rows: i64, captured: bool) -> Action {
        if rows != self.batch_size {
            Action::Eager
        } else if self.warmed < WARM_UP_STEPS {
            self.warmed += 1;
            Action::WarmUp
        } else if captured {
            Action::Replay
        } else {
            Action::Capture
        }
    }
}

impl GraphedStep {
    /// The graphed step `fit` uses, given `FitOptions::cuda_graph`
    /// (`setting`): with `Some(true)` one must be possible (an error says
    /// why not); by default (`None`) one where it applies — a GPU, a
    /// capturable optimizer, a build with graph support — else none.
    pub(super) fn for_fit<O: Optimizer + ?Sized>(
        setting: Option<bool>,
        device: Device,
        optimizer: &O,
        batch_size: usize,
    ) -> Result<Option<GraphedStep>> {
        let insist = match setting {
            Some(false) => return Ok(None),
            Some(on) => on,
            None => false,
        };
        let unsupported = if !device.is_cuda() {
            Some(format!(
                "needs training on a GPU, but it runs on {device:?}"
            ))
        } else if !optimizer.capturable() {
            Some(
                "needs an optimizer whose step runs on the GPU alone (Adam with fused \
                 steps, the default on a GPU)"
                    .to_string(),
            )
        } else {
            None
        };
        match (unsupported, insist) {
            (Some(why), true) => Err(Error::InvalidArgument(format!(
                "FitOptions::cuda_graph(true) {why}"
            ))),
            (Some(_), false) => Ok(None),
            (None, false) if !cuda_graphs_built() => Ok(None),
            (None, _) => match CudaGraph::new(device) {
                Ok(graph) => Ok(Some(GraphedStep {
                    graph,
                    schedule: Schedule {
                        batch_size: batch_size as i64,
                        warmed: 0,
                    },
                    captured: None,
                    insist,
                    given_up: false,
                })),
                Err(e) if insist => Err(e),
                Err(e) => {
                    println!("fit: training without a CUDA graph: {e}");
                    Ok(None)
                }
            },
        }
    }

    /// Whether the step was captured (and so replayed since).
    pub(super) fn captured(&self) -> bool {
        self.captured.is_some()
    }

    /// One training step on `(x, y)`, graphed when the batch is full.
    pub(super) fn step<M, L, O>(
        &mut self,
        model: &M,
        loss_fn: &L,
        optimizer: &mut O,
        x: &Tensor,
        y: &Tensor,
    ) -> Result<Tensor>
    where
        M: ModuleExt + ?Sized,
        L: Loss + ?Sized,
        O: Optimizer + ?Sized,
    {
        if self.given_up {
            return eager_step(model, loss_fn, optimizer, x, y);
        }
        let rows = x.size().first().copied().unwrap_or(0);
        match (
            self.schedule.action(rows, self.captured.is_some()),
            &self.captured,
        ) {
            (Action::Eager, _) => return eager_step(model, loss_fn, optimizer, x, y),
            (Action::WarmUp, _) => {
                return self
                    .graph
                    .warm_up(|| eager_step(model, loss_fn, optimizer, x, y))?
            }
            (Action::Replay, Some([static_x, static_y, _])) => {
                static_x.shallow_clone().copy_(x);
                static_y.shallow_clone().copy_(y);
            }
            (Action::Capture | Action::Replay, _) => {
                // The inputs are allocated outside the capture; the
                // gradients inside it (set to none first), so that the
                // captured backward writes them rather than adding to them.
                let (static_x, static_y) = (x.copy(), y.copy());
                optimizer.zero_grad()?;
                let captured = self.graph.capture(|| {
                    step_without_zero_grad(model, loss_fn, optimizer, &static_x, &static_y)
                });
                // The warm-up steps ran the same step eagerly, so an error
                // first seen here is the capture's: a step that reads a
                // value back to the CPU, say.
                let loss = match captured {
                    Ok(loss) => loss,
                    Err(e) if self.insist => {
                        return Err(Error::Cuda(format!(
                            "capturing the training step as a CUDA graph: {e} \
                             (FitOptions::cuda_graph(false) trains without a graph)"
                        )))
                    }
                    // By default such a step is trained eagerly: the capture
                    // ran nothing, so this batch has not been trained yet.
                    Err(e) => {
                        // libtorch's first line says it; the rest is advice
                        // on debugging kernels.
                        let e = e.to_string();
                        let first = e.lines().next().unwrap_or_default();
                        println!(
                            "fit: the training step could not be captured as a CUDA graph \
                             ({first}); training without one"
                        );
                        self.given_up = true;
                        return eager_step(model, loss_fn, optimizer, x, y);
                    }
                };
                self.captured = Some([static_x, static_y, loss]);
            }
        }
        // The captured batch is replayed too: capturing runs nothing.
        self.graph.replay()?;
        let [_, _, loss] = self.captured.as_ref().expect("captured above");
        Ok(loss.shallow_clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_then_one_capture_then_replays_and_odd_batches_eager() {
        let mut schedule = Schedule {
            batch_size: 256,
            warmed: 0,
        };
        let mut captured = false;
        let mut seen = vec![];
        // Two epochs of 5 full batches and a last one of 96.
        for rows in [256, 256, 256, 256, 256, 96, 256, 256, 256, 256, 256, 96] {
            let action = schedule.action(rows, captured);
            captured |= action == Action::Capture;
            seen.push(action);
        }
        use Action::*;
        assert_eq!(
            seen,
            [
                WarmUp, WarmUp, WarmUp, Capture, Replay, Eager, Replay, Replay, Replay, Replay,
                Replay, Eager
            ]
        );
        // A small first batch does not count towards the warm-up.
        let mut schedule = Schedule {
            batch_size: 4,
            warmed: 0,
        };
        assert_eq!(schedule.action(3, false), Eager);
        assert_eq!(schedule.action(4, false), WarmUp);
    }
}
