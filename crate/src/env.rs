//! Every environment variable the crate reads, in one place, so a headless
//! run (CI, `scripts/run_notebooks.sh`) can change what a notebook does
//! without editing it, while a learner sees the lecture's values.
//!
//! | variable | read by | meaning |
//! |---|---|---|
//! | `CNN_LAB_DEVICE` | [`device_from_env`] | `cpu`, `cuda`, `cuda:N` |
//! | `CNN_LAB_EPOCHS`, … | [`env_or`] in a notebook | any value a notebook asks for |
//! | `CNN_LAB_DATA` | [`data_root`](crate::data::data_root) | the datasets root |
//! | `CNN_LAB_MNIST_MIRRORS`, `CNN_LAB_FASHION_MNIST_MIRRORS` | the dataset downloads | comma-separated base URLs |
//! | `TORCH_HOME`, `XDG_CACHE_HOME`, `HOME` | [`get_dir`](crate::hub::get_dir) | PyTorch's cache: weights files in `$TORCH_HOME/hub/checkpoints` |
//! | `CNN_LAB_CHANNELS_LAST`, `CNN_LAB_FAST_DROPOUT` | [`speedups`](crate::nn::speedups) | `0` turns a speed-up off |
//! | `CNN_LAB_CUDA_BACKEND` | [`BackendMode`](crate::cuda::BackendMode) | `auto`, `load`, `skip`: whether `libtorch_cuda` is loaded at start |
//! | `EVCXR_IS_RUNTIME` (set by evcxr) | [`in_evcxr`](crate::display::in_evcxr) | running in a notebook |
//! | `EVCXR_DISPLAY_UPDATES` (set by the project's kernel) | [`display_updates_supported`](crate::display::display_updates_supported) | `1`: outputs can be replaced in place |

use std::str::FromStr;

use tch::Device;

use crate::cuda::cuda_if_available;

/// The value of environment variable `name` parsed as `T`, or `default`
/// when it is unset or empty. A value that does not parse is reported on
/// stdout and the default is used (a notebook keeps running).
///
/// ```
/// let epochs: usize = cnn_lab::env_or("CNN_LAB_DOC_EXAMPLE_UNSET", 1);
/// assert_eq!(epochs, 1);
/// ```
pub fn env_or<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse() {
            Ok(parsed) => parsed,
            Err(_) => {
                println!("{name}={v:?} is not a valid value; using the default");
                default
            }
        },
        _ => default,
    }
}

/// The device a notebook should use: `CNN_LAB_DEVICE` (`cpu`, `cuda`,
/// `cuda:N`) when set, else [`cuda_if_available`] — the lecture's
/// `"cuda" if torch.cuda.is_available() else "cpu"`.
pub fn device_from_env() -> Device {
    match std::env::var("CNN_LAB_DEVICE").as_deref().map(str::trim) {
        Ok("cpu") => Device::Cpu,
        Ok("cuda") if crate::cuda::cuda_is_available() => Device::Cuda(0),
        Ok(s) if s.starts_with("cuda:") && crate::cuda::cuda_is_available() => {
            s[5..].parse().map(Device::Cuda).unwrap_or(Device::Cuda(0))
        }
        Ok(other) if !other.is_empty() => {
            println!("CNN_LAB_DEVICE={other:?}: not usable here; choosing automatically");
            cuda_if_available()
        }
        _ => cuda_if_available(),
    }
}

/// A switch that is on unless `name` is set to `0`, `false`, `off` or `no`
/// (any case).
pub(crate) fn switch(name: &str) -> bool {
    match std::env::var(name) {
        Ok(v) => !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "0" | "false" | "off" | "no"
        ),
        Err(_) => true,
    }
}

/// The non-empty value of `name` as a path, if set.
pub(crate) fn path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
}

/// The comma-separated, non-empty items of `name`, if there are any.
pub(crate) fn list(name: &str) -> Option<Vec<String>> {
    let items: Vec<String> = std::env::var(name)
        .ok()?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    (!items.is_empty()).then_some(items)
}

/// Whether `name` is set at all.
pub(crate) fn is_set(name: &str) -> bool {
    std::env::var_os(name).is_some()
}

/// Whether `name` is set to exactly `value`.
pub(crate) fn is(name: &str, value: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_or_parses_set_values_and_falls_back_otherwise() {
        std::env::set_var("CNN_LAB_TEST_ENV_OR", "7");
        assert_eq!(env_or("CNN_LAB_TEST_ENV_OR", 1usize), 7);
        std::env::set_var("CNN_LAB_TEST_ENV_OR", "seven");
        assert_eq!(env_or("CNN_LAB_TEST_ENV_OR", 1usize), 1);
        std::env::remove_var("CNN_LAB_TEST_ENV_OR");
        assert_eq!(env_or("CNN_LAB_TEST_ENV_OR", 3usize), 3);
    }
}
