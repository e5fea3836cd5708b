//! What the benchmark and GPU examples share (`#[path]`-included; not an
//! example of its own).

use cnn_lab::*;

/// The first `max_batches` batches' worth of `loader`'s samples, same
/// batch size and shuffling.
pub fn limited(
    loader: DataLoader,
    max_batches: Option<usize>,
    shuffle: bool,
) -> Result<DataLoader> {
    let Some(b) = max_batches else {
        return Ok(loader);
    };
    let n = (b * loader.batch_size()).min(loader.num_samples()) as i64;
    Ok(DataLoader::new(
        loader.images().narrow(0, 0, n),
        loader.labels().narrow(0, 0, n),
        loader.batch_size(),
    )?
    .shuffle(shuffle))
}

/// A `--flag on|off` option's value.
pub fn on_off(flag: &str, value: &str) -> std::result::Result<bool, String> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{flag} {value}: expected on or off")),
    }
}

/// A flag's `auto`, `on` or `off`: `None` leaves the choice to the library.
pub fn auto_on_off(flag: &str, value: &str) -> std::result::Result<Option<bool>, String> {
    match value {
        "auto" => Ok(None),
        _ => on_off(flag, value)
            .map(Some)
            .map_err(|_| format!("{flag} {value}: expected auto, on or off")),
    }
}
