//! Hostile and broken `.pth` files: thousands of mutations (truncations,
//! flipped and overwritten bytes, in the archive and inside the pickle with
//! its checksum fixed so that the unpickler sees them; in the pre-1.6
//! format's pickles) of real files PyTorch wrote. Each load must return `Ok` or an error naming the file,
//! never panic, and memory must stay bounded.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use cnn_lab::pth::load_pth;
use cnn_lab::read_state_dict;

/// A deterministic xorshift64* generator: the same mutations every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

/// Where `data.pkl`'s bytes lie in a torch.save archive (its first entry).
fn pickle_range(file: &[u8]) -> std::ops::Range<usize> {
    assert_eq!(&file[..4], b"PK\x03\x04");
    let size = u32::from_le_bytes(file[22..26].try_into().unwrap()) as usize;
    let start = 30 + u16_at(file, 26) + u16_at(file, 28);
    assert!(std::str::from_utf8(&file[30..30 + u16_at(file, 26)])
        .unwrap()
        .ends_with("/data.pkl"));
    start..start + size
}

/// Writes `crc` into data.pkl's local and central headers.
fn fix_pickle_crc(file: &mut [u8], crc: u32) {
    file[14..18].copy_from_slice(&crc.to_le_bytes());
    let mut at = 0;
    while let Some(i) = file[at..].windows(4).position(|w| w == b"PK\x01\x02") {
        let h = at + i;
        let name_len = u16_at(file, h + 28);
        if file
            .get(h + 46..h + 46 + name_len)
            .is_some_and(|n| n.ends_with(b"/data.pkl"))
        {
            file[h + 16..h + 20].copy_from_slice(&crc.to_le_bytes());
        }
        at = h + 4;
    }
}

/// Flips one to eight random bits anywhere.
fn flip_bits(rng: &mut Rng, file: &mut [u8]) {
    for _ in 0..1 + rng.below(8) {
        let i = rng.below(file.len());
        file[i] ^= 1 << rng.below(8);
    }
}

fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut file = original.to_vec();
    if !original.starts_with(b"PK") {
        // The pre-1.6 format: pickles and raw storages, no checksums.
        match rng.below(3) {
            0 => file.truncate(rng.below(original.len())),
            1 => flip_bits(rng, &mut file),
            _ => {
                // Mostly in the pickles at the start, where the structure is.
                let span = original.len().min(4096);
                for _ in 0..1 + rng.below(6) {
                    let i = rng.below(span);
                    file[i] = rng.next() as u8;
                }
            }
        }
        return file;
    }
    let pkl = pickle_range(original);
    match rng.below(5) {
        // Truncated anywhere.
        0 => file.truncate(rng.below(original.len())),
        // A few bits flipped anywhere (checksums catch most in the data).
        1 => flip_bits(rng, &mut file),
        // Bytes overwritten in the zip headers and central directory.
        2 => {
            let tail = original.len() - pkl.end;
            for _ in 0..1 + rng.below(4) {
                let i = if rng.below(2) == 0 {
                    rng.below(pkl.start)
                } else {
                    pkl.end + rng.below(tail)
                };
                file[i] = rng.next() as u8;
            }
        }
        // The pickle itself: bytes flipped or overwritten, checksum fixed.
        3 => {
            for _ in 0..1 + rng.below(6) {
                let i = pkl.start + rng.below(pkl.len());
                file[i] = if rng.below(2) == 0 {
                    file[i] ^ (1 << rng.below(8))
                } else {
                    rng.next() as u8
                };
            }
            let crc = crc32(&file[pkl.clone()]);
            fix_pickle_crc(&mut file, crc);
        }
        // The pickle cut short (the rest overwritten), checksum fixed.
        _ => {
            let cut = pkl.start + rng.below(pkl.len());
            for b in &mut file[cut..pkl.end] {
                *b = rng.next() as u8;
            }
            let crc = crc32(&file[pkl.clone()]);
            fix_pickle_crc(&mut file, crc);
        }
    }
    file
}

/// Peak resident memory of this process so far, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

fn fuzz(seed_file: &Path, count: usize, rng: &mut Rng, dir: &Path) -> (usize, usize) {
    let original = std::fs::read(seed_file).unwrap();
    // The unmutated file loads.
    load_pth(seed_file).unwrap();
    read_state_dict(seed_file).unwrap();
    let path = dir.join(format!(
        "mutated_{}",
        seed_file.file_name().unwrap().to_str().unwrap()
    ));
    let (mut ok, mut refused) = (0, 0);
    for i in 0..count {
        let bytes = mutate(rng, &original);
        std::fs::write(&path, &bytes).unwrap();
        let result = catch_unwind(AssertUnwindSafe(|| {
            (load_pth(&path).map(drop), read_state_dict(&path).map(drop))
        }));
        let (value, state) = result.unwrap_or_else(|_| {
            let kept = dir.join(format!("panicked_{i}.pth"));
            std::fs::write(&kept, &bytes).unwrap();
            panic!(
                "mutation {i} of {} panicked; kept as {}",
                seed_file.display(),
                kept.display()
            )
        });
        for r in [value, state] {
            match r {
                Ok(()) => ok += 1,
                Err(e) => {
                    let text = e.to_string();
                    assert!(text.starts_with(&path.display().to_string()), "{text}");
                    refused += 1;
                }
            }
        }
    }
    (ok, refused)
}

#[test]
fn a_thousand_mutations_of_real_pth_files_never_panic_and_stay_bounded() {
    let dir = common::scratch_dir("checkpoint_pth_fuzz");
    common::run_python("pth_files.py", &["small", dir.to_str().unwrap()]);
    let mut rng = Rng(0x5eed_0fc4_ec4b_0001);
    let before = peak_rss_kib();
    let started = std::time::Instant::now();
    let mut total = 0;
    let seeds = [
        ("fuzz_model.pth", 1000),
        ("fuzz_checkpoint.pth", 500),
        ("fuzz_legacy.pth", 500),
    ];
    for (file, count) in seeds {
        let (ok, refused) = fuzz(&dir.join(file), count, &mut rng, &dir);
        println!("{file}: {count} mutations, {ok} loads read, {refused} refused with an error");
        total += count;
    }
    let growth = peak_rss_kib().saturating_sub(before);
    println!(
        "{total} mutations in {:.1} s; peak RSS grew by {} KiB (to {} KiB)",
        started.elapsed().as_secs_f64(),
        growth,
        peak_rss_kib()
    );
    assert!(total >= 1000);
    assert!(growth < 64 * 1024, "peak RSS grew by {growth} KiB");
}
