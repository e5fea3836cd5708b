//! PyTorch's hub cache for weights files (`torch.hub`): where a file is looked
//! for, how it is downloaded, how it is checked.
//!
//! - Files live in `get_dir()/checkpoints`, that is
//!   `$TORCH_HOME/hub/checkpoints`; `TORCH_HOME` defaults to
//!   `$XDG_CACHE_HOME/torch`, and that to `~/.cache/torch`. PyTorch and
//!   cnn_lab share the folder: a file one downloaded, the other uses.
//! - A file already there is used as it is (torch.hub checks a hash only when
//!   it downloads).
//! - A missing file is downloaded into a temporary file in the same folder,
//!   hashed as it arrives, and renamed to its name only when complete and
//!   (with `check_hash`) when its SHA-256 starts with the hex digits in its
//!   name (`resnet18-f37072fd.pth`: `f37072fd`). An interrupted, truncated or
//!   wrong download leaves nothing behind.
//! - Without a network, or on an HTTP error, the error names the URL and the
//!   folder to put the file in.
//!
//! Loading goes through [`read_state_dict`](crate::read_state_dict): nothing
//! in a weights file is ever run (torch's `weights_only=True`, always).

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tch::Tensor;

use crate::display::{display_updates_supported, in_evcxr, DisplayHandle};
use crate::error::{Error, Result};
use crate::interrupt::InterruptGuard;

/// The most a download may be (bytes): the largest torchvision
/// classification weights are about 550 MB.
const MAX_DOWNLOAD: u64 = 8 << 30;

/// torch.hub's read size (`READ_DATA_CHUNK`).
const READ_DATA_CHUNK: usize = 128 * 1024;

/// PyTorch's hub folder, `torch.hub.get_dir()`: `$TORCH_HOME/hub`, where
/// `TORCH_HOME` defaults to `$XDG_CACHE_HOME/torch` and `XDG_CACHE_HOME` to
/// `~/.cache` (a leading `~` is the home folder, as Python's `expanduser`).
/// An empty variable counts as unset.
///
/// ```
/// let dir = cnn_lab::hub::get_dir();
/// assert!(dir.ends_with("hub"));
/// ```
pub fn get_dir() -> PathBuf {
    let torch_home = crate::env::path("TORCH_HOME").unwrap_or_else(|| {
        crate::env::path("XDG_CACHE_HOME")
            .unwrap_or_else(|| PathBuf::from("~/.cache"))
            .join("torch")
    });
    expand_user(&torch_home).join("hub")
}

/// The folder weights files go to: `get_dir()/checkpoints`
/// (`load_state_dict_from_url`'s default `model_dir`).
///
/// ```
/// let dir = cnn_lab::hub::checkpoints_dir();
/// assert_eq!(dir, cnn_lab::hub::get_dir().join("checkpoints"));
/// ```
pub fn checkpoints_dir() -> PathBuf {
    get_dir().join("checkpoints")
}

/// Python's `os.path.expanduser` for `~` and `~/…` (HOME).
fn expand_user(path: &Path) -> PathBuf {
    let Ok(rest) = path.strip_prefix("~") else {
        return path.to_path_buf();
    };
    match crate::env::path("HOME") {
        Some(home) => home.join(rest),
        None => path.to_path_buf(),
    }
}

/// The hash prefix in a file's name, as torch.hub finds it
/// (`HASH_REGEX = r"-([a-f0-9]*)\."`, first match): `resnet18-f37072fd.pth`
/// gives `f37072fd`, `alexnet-owt-7be5be79.pth` gives `7be5be79`, a name
/// without one gives `None`.
///
/// ```
/// use cnn_lab::hub::hash_prefix;
/// assert_eq!(hash_prefix("vgg16_features-amdegroot-88682ab5.pth"), Some("88682ab5"));
/// assert_eq!(hash_prefix("model.pth"), None);
/// ```
pub fn hash_prefix(file_name: &str) -> Option<&str> {
    let bytes = file_name.as_bytes();
    for (i, _) in file_name.match_indices('-') {
        let start = i + 1;
        let end = start
            + bytes[start..]
                .iter()
                .take_while(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9'))
                .count();
        // A shorter run would end before a hex digit, never before the dot.
        if bytes.get(end) == Some(&b'.') {
            return Some(&file_name[start..end]);
        }
    }
    None
}

/// The last part of `url`'s path (query and fragment dropped), torch.hub's
/// `os.path.basename(urlparse(url).path)`.
fn url_file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    match path.split_once('/') {
        Some((_host, p)) => p.rsplit('/').next().unwrap_or(""),
        None => "",
    }
}

/// `torch.hub.load_state_dict_from_url`'s keyword arguments (all optional).
///
/// ```
/// use cnn_lab::hub::HubOptions;
/// let options = HubOptions::default().check_hash(true).progress(false);
/// assert_eq!(options.file_path("https://example.com/w/net-0123abcd.pth").unwrap(),
///            cnn_lab::hub::checkpoints_dir().join("net-0123abcd.pth"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubOptions {
    model_dir: Option<PathBuf>,
    progress: bool,
    check_hash: bool,
    file_name: Option<String>,
}

impl Default for HubOptions {
    /// torch.hub's defaults: `model_dir=None` (the hub's `checkpoints`),
    /// `progress=True`, `check_hash=False`, `file_name=None` (the URL's).
    fn default() -> Self {
        HubOptions {
            model_dir: None,
            progress: true,
            check_hash: false,
            file_name: None,
        }
    }
}

impl HubOptions {
    /// The folder to look in and save to (default: [`checkpoints_dir`]).
    pub fn model_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.model_dir = Some(dir.into());
        self
    }

    /// Whether a download shows its progress (default `true`).
    pub fn progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }

    /// Whether a download must have the SHA-256 prefix its file name carries
    /// (default `false`; torchvision's weights pass `true`).
    pub fn check_hash(mut self, check_hash: bool) -> Self {
        self.check_hash = check_hash;
        self
    }

    /// The name to save under instead of the URL's last part.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// Where the file for `url` is kept: `model_dir` joined with the file
    /// name. An error when the URL names no file.
    pub fn file_path(&self, url: &str) -> Result<PathBuf> {
        let name = match &self.file_name {
            Some(name) => name.as_str(),
            None => url_file_name(url),
        };
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
            return Err(Error::InvalidArgument(format!(
                "{url}: no file name to save it under (pass HubOptions::file_name)"
            )));
        }
        let dir = self.model_dir.clone().unwrap_or_else(checkpoints_dir);
        Ok(dir.join(name))
    }
}

/// The file for `url` in the hub cache, downloaded first if it is not there
/// (the first half of [`load_state_dict_from_url`]). A file already in the
/// cache is returned as it is, without a request.
///
/// ```no_run
/// use cnn_lab::hub::{cached_file_from_url, HubOptions};
/// let path = cached_file_from_url(
///     "https://download.pytorch.org/models/resnet18-f37072fd.pth",
///     &HubOptions::default().check_hash(true),
/// )?;
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn cached_file_from_url(url: &str, options: &HubOptions) -> Result<PathBuf> {
    let cached_file = options.file_path(url)?;
    let model_dir = cached_file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(model_dir).map_err(|e| Error::io(model_dir, e))?;
    if !cached_file.exists() {
        println!("Downloading: \"{url}\" to {}", cached_file.display());
        let name = cached_file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = options
            .check_hash
            .then(|| hash_prefix(&name))
            .flatten()
            .map(str::to_owned);
        download_url_to_file(url, &cached_file, prefix.as_deref(), options.progress)?;
    }
    Ok(cached_file)
}

/// `torch.hub.load_state_dict_from_url`: the `state_dict` at `url`, read from
/// the hub cache ([`checkpoints_dir`], or `model_dir`) and downloaded there
/// first when absent. Tensors are on the CPU, in the file's order; nothing in
/// the file is run.
///
/// ```no_run
/// use cnn_lab::hub::{load_state_dict_from_url, HubOptions};
/// let state_dict = load_state_dict_from_url(
///     "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
///     &HubOptions::default(),
/// )?;
/// println!("{} tensors", state_dict.len());
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn load_state_dict_from_url(url: &str, options: &HubOptions) -> Result<Vec<(String, Tensor)>> {
    let path = cached_file_from_url(url, options)?;
    crate::checkpoint::read_state_dict(path)
}

/// `torch.hub.download_url_to_file`: downloads `url` to `dst` through a
/// temporary file beside it (`<dst>.<unique>.partial`), renamed to `dst`
/// only once complete and, with `hash_prefix`, once its SHA-256 hex digest
/// starts with it. On any failure (connection, HTTP status, a body cut
/// short, a wrong hash, an interrupt) nothing is left at `dst` or beside it,
/// and the error names the URL and the folder to put the file in by hand.
///
/// `progress` shows a line that updates: on stderr in a terminal, an output
/// replaced in place in Jupyter (the project's kernel), a line every 15 s
/// with a plain evcxr, nothing elsewhere.
///
/// ```no_run
/// cnn_lab::hub::download_url_to_file(
///     "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
///     "/tmp/squeezenet1_1.pth",
///     Some("b8a52dc0"),
///     true,
/// )?;
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn download_url_to_file(
    url: &str,
    dst: impl AsRef<Path>,
    hash_prefix: Option<&str>,
    progress: bool,
) -> Result<()> {
    let dst = expand_user(dst.as_ref());
    let folder = match dst.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (tmp, file) = create_partial(&dst)?;
    let result = fetch_into(url, file, &tmp, hash_prefix, progress)
        .and_then(|()| std::fs::rename(&tmp, &dst).map_err(|e| Error::io(&dst, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| match e {
        Error::Download(message) => {
            let name = dst
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Error::Download(format!(
                "{message}\nNothing was saved. To do without this download, fetch {url} \
                 some other way and put it, named {name}, in {}",
                folder.display()
            ))
        }
        other => other,
    })
}

/// A new temporary file beside `dst`, created exclusively
/// (`<dst>.<pid>-<time>-<n>.partial`, as torch.hub's `<dst>.<uuid>.partial`).
fn create_partial(dst: &Path) -> Result<(PathBuf, File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = dst
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut last_error = None;
    for _ in 0..100 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dst.with_file_name(format!(
            "{name}.{}-{nanos:x}-{n}.partial",
            std::process::id()
        ));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(Error::io(&tmp, e)),
        }
    }
    Err(Error::io(
        dst,
        last_error.unwrap_or_else(|| std::io::Error::other("no usable temporary file name")),
    ))
}

/// GETs `url` into `file` (at `tmp`), hashing as it goes; checks the hash
/// prefix at the end. Errors that concern the transfer are
/// [`Error::Download`]s starting with the URL.
fn fetch_into(
    url: &str,
    mut file: File,
    tmp: &Path,
    hash_prefix: Option<&str>,
    progress: bool,
) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .user_agent("torch.hub (cnn_lab)")
        .build()
        .into();
    let mut response = agent
        .get(url)
        .call()
        .map_err(|e| Error::Download(format!("{url}: {e}")))?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut reader = response
        .body_mut()
        .with_config()
        .limit(MAX_DOWNLOAD)
        .reader();
    let interrupt = InterruptGuard::new();
    let mut sha256 = hash_prefix.map(|_| Sha256::new());
    let mut meter = Meter::new(progress, total);
    let mut buffer = vec![0u8; READ_DATA_CHUNK];
    let mut received = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                meter.clear();
                return Err(Error::Download(format!(
                    "{url}: the transfer broke off after {received} bytes{}: {e}",
                    total.map(|t| format!(" of {t}")).unwrap_or_default()
                )));
            }
        };
        file.write_all(&buffer[..n])
            .map_err(|e| Error::io(tmp, e))?;
        if let Some(h) = &mut sha256 {
            h.update(&buffer[..n]);
        }
        received += n as u64;
        meter.update(received);
        if interrupt.interrupted() {
            meter.clear();
            return Err(Error::Interrupted(format!(
                "while downloading {url}, after {received} bytes; nothing was saved"
            )));
        }
    }
    meter.finish(received);
    if let Some(t) = total.filter(|&t| t != received) {
        return Err(Error::Download(format!(
            "{url}: the transfer broke off after {received} bytes of {t}"
        )));
    }
    file.sync_all().map_err(|e| Error::io(tmp, e))?;
    drop(file);
    if let (Some(prefix), Some(h)) = (hash_prefix, sha256) {
        let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        if !digest.starts_with(prefix) {
            return Err(Error::Download(format!(
                "{url}: invalid hash value (expected \"{prefix}\", got \"{digest}\")"
            )));
        }
    }
    Ok(())
}

/// How the meter writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// A line on stderr rewritten with `\r` (a terminal).
    Rewrite,
    /// A Jupyter output replaced in place (the project's kernel).
    Display,
    /// A whole line now and then (a plain evcxr).
    Lines,
    Silent,
}

/// The download's progress line, tqdm's layout
/// (`45%|████▌     | 20.1M/44.7M [00:02<00:02, 10.5MB/s]`).
struct Meter {
    style: Style,
    total: Option<u64>,
    start: Instant,
    last: Option<Instant>,
    width: usize,
    handle: DisplayHandle,
}

impl Meter {
    fn new(progress: bool, total: Option<u64>) -> Meter {
        let style = if !progress {
            Style::Silent
        } else if in_evcxr() && display_updates_supported() {
            Style::Display
        } else if in_evcxr() {
            Style::Lines
        } else if std::io::stderr().is_terminal() {
            Style::Rewrite
        } else {
            Style::Silent
        };
        Meter {
            style,
            total,
            start: Instant::now(),
            last: None,
            width: 0,
            handle: DisplayHandle::new(),
        }
    }

    fn update(&mut self, n: u64) {
        let interval = match self.style {
            Style::Rewrite => Duration::from_millis(100),
            Style::Display => Duration::from_millis(500),
            Style::Lines => Duration::from_secs(15),
            Style::Silent => return,
        };
        if self.last.unwrap_or(self.start).elapsed() >= interval {
            self.show(n);
        }
    }

    fn show(&mut self, n: u64) {
        let line = meter_text(n, self.total, self.start.elapsed().as_secs_f64());
        match self.style {
            Style::Rewrite => {
                let pad = self.width.saturating_sub(line.chars().count());
                eprint!("\r{line}{}", " ".repeat(pad));
                let _ = std::io::stderr().flush();
                self.width = line.chars().count();
            }
            Style::Display => {
                self.handle.show("text/plain", &line);
            }
            Style::Lines => println!("{line}"),
            Style::Silent => {}
        }
        self.last = Some(Instant::now());
    }

    /// The final state stays shown (as tqdm leaves its bar).
    fn finish(&mut self, n: u64) {
        if self.style != Style::Silent {
            self.show(n);
            if self.style == Style::Rewrite {
                eprintln!();
                self.width = 0;
            }
        }
    }

    /// A broken-off download: the terminal line ends, so the error starts on
    /// its own line.
    fn clear(&mut self) {
        if self.width > 0 {
            eprintln!();
            self.width = 0;
        }
    }
}

/// tqdm's `format_sizeof(num, divisor=…)`: three significant digits and a
/// unit prefix (`9.81M`, `44.7M`, `512`).
fn format_sizeof(num: f64, divisor: f64) -> String {
    let mut num = num;
    for unit in ["", "k", "M", "G", "T", "P", "E", "Z"] {
        if num.abs() < 999.5 {
            if num.abs() < 99.95 {
                if num.abs() < 9.995 {
                    return format!("{num:1.2}{unit}");
                }
                return format!("{num:2.1}{unit}");
            }
            return format!("{num:3.0}{unit}");
        }
        num /= divisor;
    }
    format!("{num:3.1}Y")
}

/// tqdm's `format_interval`: `MM:SS`, or `H:MM:SS` from an hour on.
fn format_interval(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

/// The meter's text after `n` of `total` bytes in `elapsed` seconds, in
/// tqdm's layout with torch.hub's settings (`unit="B"`, `unit_scale=True`,
/// `unit_divisor=1024`; tqdm scales the rate by 1000 whatever the divisor).
fn meter_text(n: u64, total: Option<u64>, elapsed: f64) -> String {
    let size = |x: u64| format_sizeof(x as f64, 1024.0);
    let rate = (elapsed > 0.0).then(|| n as f64 / elapsed);
    let rate_fmt = rate.map_or_else(|| "?".to_string(), |r| format_sizeof(r, 1000.0));
    match total {
        Some(total) if total > 0 => {
            let frac = (n as f64 / total as f64).clamp(0.0, 1.0);
            let remaining = match rate {
                Some(r) if r > 0.0 => format_interval((total.saturating_sub(n)) as f64 / r),
                _ => "?".to_string(),
            };
            format!(
                "{:3.0}%|{}| {}/{} [{}<{remaining}, {rate_fmt}B/s]",
                frac * 100.0,
                bar(frac, 10),
                size(n),
                size(total),
                format_interval(elapsed)
            )
        }
        _ => format!("{}B [{}, {rate_fmt}B/s]", size(n), format_interval(elapsed)),
    }
}

/// tqdm's bar: full blocks, one partial block in eighths, spaces.
fn bar(frac: f64, width: usize) -> String {
    const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (frac * (width * 8) as f64) as usize;
    let (full, part) = (eighths / 8, eighths % 8);
    let mut s = "█".repeat(full.min(width));
    if full < width {
        s.push(PARTS[part]);
        s.push_str(&" ".repeat(width - full - 1));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_file_name_is_the_paths_last_part() {
        assert_eq!(
            url_file_name("https://download.pytorch.org/models/resnet18-f37072fd.pth"),
            "resnet18-f37072fd.pth"
        );
        assert_eq!(url_file_name("http://h:1/a/b.pth?x=1#y"), "b.pth");
        assert_eq!(url_file_name("http://h:1/"), "");
        assert_eq!(url_file_name("http://h:1"), "");
    }

    #[test]
    fn meter_text_reads_like_tqdm() {
        // Expected: tqdm 4.70.1's `tqdm.format_meter(n, total, elapsed,
        // unit="B", unit_scale=True, unit_divisor=1024)`, torch.hub's bar.
        let mib = 1024 * 1024;
        assert_eq!(
            meter_text(0, Some(45 * mib), 0.0),
            "  0%|          | 0.00/45.0M [00:00<?, ?B/s]"
        );
        assert_eq!(
            meter_text(9 * mib, Some(45 * mib), 2.0),
            " 20%|██        | 9.00M/45.0M [00:02<00:08, 4.72MB/s]"
        );
        assert_eq!(
            meter_text(45 * mib, Some(45 * mib), 4.0),
            "100%|██████████| 45.0M/45.0M [00:04<00:00, 11.8MB/s]"
        );
        assert_eq!(meter_text(512, None, 1.0), "512B [00:01, 512B/s]");
        assert_eq!(
            meter_text(550, Some(1000), 1.0),
            " 55%|█████▌    | 550/0.98k [00:01<00:00, 550B/s]"
        );
        assert_eq!(meter_text(1023, None, 1.0), "1.00kB [00:01, 1.02kB/s]");
        assert_eq!(format_interval(3725.0), "1:02:05");
    }
}
