//! Dropout's training-mode mask, filled on every torch thread.

use tch::{Device, Kind, Tensor};

use crate::rng::splitmix64;

/// Training-mode dropout: `xs * mask` with `mask` 0 (probability `p`) or
/// `1/(1-p)`, as PyTorch's `_dropout` computes it.
///
/// libtorch draws its mask with `bernoulli_`, which runs on one thread and
/// took 29–44% of a training step of the lecture's model on a 2-core CPU
/// (PERF.md). Here the mask comes from a counter-based generator
/// (SplitMix64) over each element's index, keyed by two words drawn from
/// libtorch's generator, so
/// `manual_seed` still fixes it, and the result does not depend on the
/// number of threads that fill it. On unless `CNN_LAB_FAST_DROPOUT=0`; other
/// devices and dtypes and `p` of 0 or 1 always take libtorch's path.
pub(crate) fn dropout_train(xs: &Tensor, p: f64) -> Tensor {
    let n = xs.numel();
    if !super::enabled(super::FAST_DROPOUT)
        || xs.device() != Device::Cpu
        || xs.kind() != Kind::Float
        || p <= 0.0
        || p >= 1.0
        || n == 0
    {
        return xs.dropout(p, true);
    }
    // Dense, like `xs` (channels-last stays channels-last), so filling
    // `numel` floats from the data pointer covers the whole tensor.
    let mask = xs.empty_like().detach();
    // The stream's seed: two draws from libtorch's generator, each folded
    // to 32 bits.
    let draws = Tensor::randint(i64::MAX, [2], (Kind::Int64, Device::Cpu));
    let fold = |i: i64| {
        let d = draws.int64_value(&[i]) as u64;
        (d ^ (d >> 32)) & 0xffff_ffff
    };
    let seed = (fold(0) << 32) | fold(1);
    let threshold = (p * 4_294_967_296.0).round().min(u32::MAX as f64) as u32;
    let scale = (1.0 / (1.0 - p)) as f32;
    // SAFETY: `mask` is a fresh, dense float tensor of `n` elements that
    // nothing else references yet.
    let out = unsafe { std::slice::from_raw_parts_mut(mask.data_ptr() as *mut f32, n) };
    fill_dropout_mask(out, seed, threshold, scale);
    xs * mask
}

/// Fills `out[i]` with 0 when `hash(i) < threshold`, else `scale`, on up to
/// `tch::get_num_threads()` threads (chunks of at least 64k elements: a
/// thread costs more than filling fewer).
fn fill_dropout_mask(out: &mut [f32], seed: u64, threshold: u32, scale: f32) {
    const MIN_CHUNK: usize = 1 << 16;
    let threads = (tch::get_num_threads().max(1) as usize)
        .min(out.len().div_ceil(MIN_CHUNK))
        .max(1);
    let chunk = out.len().div_ceil(threads);
    std::thread::scope(|s| {
        let mut parts = out.chunks_mut(chunk).enumerate();
        let first = parts.next();
        for (i, part) in parts {
            s.spawn(move || fill_mask_part(part, (i * chunk) as u64, seed, threshold, scale));
        }
        if let Some((_, part)) = first {
            fill_mask_part(part, 0, seed, threshold, scale);
        }
    });
}

fn fill_mask_part(out: &mut [f32], start: u64, seed: u64, threshold: u32, scale: f32) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512dq") {
            // SAFETY: the CPU has AVX-512 F and DQ (DQ implies F; checked just above).
            unsafe { fill_mask_avx512(out, start, seed, threshold, scale) };
            return;
        }
    }
    fill_mask_generic(out, start, seed, threshold, scale);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn fill_mask_avx512(out: &mut [f32], start: u64, seed: u64, threshold: u32, scale: f32) {
    // The same code, compiled with 8-lane 64-bit multiplies.
    fill_mask_generic(out, start, seed, threshold, scale);
}

#[inline(always)]
fn fill_mask_generic(out: &mut [f32], start: u64, seed: u64, threshold: u32, scale: f32) {
    for (i, v) in out.iter_mut().enumerate() {
        let h = mask_hash(start + i as u64, seed);
        *v = if h < threshold { 0.0 } else { scale };
    }
}

/// The upper 32 bits of the `index`-th SplitMix64 output of stream `seed`.
/// (An earlier two-round 32-bit murmur finaliser looked right by every mask
/// statistic but lowered one-epoch accuracy when the mask was laid out
/// channels-last, where the channel is the index's low bits: see
/// [`speedups`](super).)
#[inline(always)]
fn mask_hash(index: u64, seed: u64) -> u32 {
    (splitmix64(seed, index) >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropout_mask_is_the_same_whatever_the_split_between_threads() {
        let (key, thr) = ((12345 << 32) | 678, (0.3 * 4_294_967_296.0) as u32);
        let mut whole = vec![0f32; 300_001];
        fill_mask_part(&mut whole, 0, key, thr, 2.0);
        let mut split = vec![0f32; 300_001];
        let (a, b) = split.split_at_mut(123_457);
        fill_mask_part(a, 0, key, thr, 2.0);
        fill_mask_part(b, 123_457, key, thr, 2.0);
        assert_eq!(whole, split);
        let mut threaded = vec![0f32; 300_001];
        fill_dropout_mask(&mut threaded, key, thr, 2.0);
        assert_eq!(whole, threaded);
    }

    #[test]
    fn dropout_mask_drops_p_independently_and_follows_the_seed() {
        let x = Tensor::ones([1000, 1000], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        tch::manual_seed(7);
        let y = dropout_train(&x, 0.3);
        let zero = y.eq(0.0).to_kind(Kind::Float);
        // 1e6 Bernoulli(0.3) draws: standard deviation of the mean ≈ 0.00046.
        let frac = zero.mean(Kind::Float).double_value(&[]);
        assert!((frac - 0.3).abs() < 0.003, "fraction zeroed {frac}");
        // Neighbours are independent: P(both dropped) ≈ 0.09.
        let pairs = (zero.narrow(1, 0, 999) * zero.narrow(1, 1, 999))
            .mean(Kind::Float)
            .double_value(&[]);
        assert!(
            (pairs - 0.09).abs() < 0.003,
            "neighbours both zeroed {pairs}"
        );
        tch::manual_seed(7);
        assert!(dropout_train(&x, 0.3).equal(&y), "same seed, same mask");
        assert!(!dropout_train(&x, 0.3).equal(&y), "next call, new mask");
        // The gradient is the mask itself, as for PyTorch's dropout.
        y.sum(Kind::Float).backward();
        assert!(x.grad().equal(&y.detach()));
    }
}
