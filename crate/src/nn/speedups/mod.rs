//! The CPU speed-ups the layers take by default, and how to turn them off:
//! channels-last convolutions in eval mode (`channels_last.rs`) and a
//! multi-threaded dropout mask (`dropout_mask.rs`).
//!
//! Both change only how the numbers are computed, not what they mean; each
//! follows its environment variable (read through [`crate::env`]) at every
//! forward pass, so a notebook can switch it in any cell
//! (`std::env::set_var("CNN_LAB_FAST_DROPOUT", "0")`) and the next forward
//! pass follows.
//!
//! | variable | on (default) | off (`0`, `false`, `off`, `no`) |
//! |---|---|---|
//! | `CNN_LAB_CHANNELS_LAST` | in eval mode, `Conv2d` computes channels-last on the CPU (oneDNN's fast layout; batch norm, ReLU and pooling after it follow) | PyTorch's default contiguous layout |
//! | `CNN_LAB_FAST_DROPOUT` | `Dropout`'s mask from a keyed counter hash filled on all torch threads | libtorch's single-threaded `bernoulli_` |
//!
//! Why channels-last only in eval mode, and why the mask is SplitMix64:
//! one-epoch runs of the lecture's model (1 thread,
//! `crate/examples/bench_train.rs --seed S`) gave validation accuracies of
//! 0.979–0.988 in 23 runs with both off, either speed-up alone, or PyTorch
//! itself, but 0.975–0.978 in 5 of 13 runs with both on in training, when
//! the mask came from a two-round 32-bit murmur finaliser. The same drop
//! came back with a contiguous network and that mask laid out NHWC (2 of 4
//! seeds), so the layout of the *mask* was the cause: channels-last puts the
//! channel in the index's low bits (32, 64, 128 channels), and that hash's
//! output was not independent enough along them, though rate, per-channel
//! and per-pixel rates and lagged correlations all looked right. With
//! SplitMix64 and channels-last training the seeds that had dropped gave
//! 0.979–0.988 (5 seeds). Channels-last training stays off until it has as
//! many seeds behind it as the default path; evaluation has no dropout, and
//! channels-last there gives the same logits to within float rounding,
//! about twice as fast.

pub(crate) mod channels_last;
pub(crate) mod dropout_mask;

/// `CNN_LAB_CHANNELS_LAST`: channels-last convolutions on the CPU.
pub const CHANNELS_LAST: &str = "CNN_LAB_CHANNELS_LAST";

/// `CNN_LAB_FAST_DROPOUT`: the multi-threaded dropout mask.
pub const FAST_DROPOUT: &str = "CNN_LAB_FAST_DROPOUT";

/// Whether the speed-up named by `variable` is on: yes unless the variable
/// is set to `0`, `false`, `off` or `no` (any case).
pub fn enabled(variable: &str) -> bool {
    crate::env::switch(variable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_unless_switched_off() {
        let var = "CNN_LAB_TEST_SPEEDUP_SWITCH";
        assert!(enabled(var));
        for (value, on) in [
            ("1", true),
            ("0", false),
            ("Off", false),
            ("no", false),
            ("yes", true),
        ] {
            // This variable is read by this test alone.
            std::env::set_var(var, value);
            assert_eq!(enabled(var), on, "{var}={value}");
        }
        std::env::remove_var(var);
    }
}
