//! Fetching dataset files over HTTP(S), verified before they are kept.
//!
//! A download goes to `<file>.part-<pid>` beside its destination and is
//! renamed only once its checksum matched, so an interrupted or corrupt
//! transfer never leaves a file that a later run would take as the dataset.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use md5::{Digest, Md5};

use crate::error::{Error, Result};
use crate::files::write_atomic;

/// What a downloaded file's MD5 is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// MD5 of the file as served (for `.gz` files: of the compressed bytes),
    /// as in torchvision's `resources` lists.
    File(String),
    /// MD5 of the gunzipped contents, for mirrors that recompress the
    /// canonical files (different gzip settings, same data).
    Decompressed(String),
}

/// Lowercase hex MD5 of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// GET `url` whole. Errors carry the URL and what went wrong (connection,
/// HTTP status, a body shorter than its `Content-Length`).
pub fn http_get(url: &str) -> Result<Vec<u8>> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    let mut resp = agent
        .get(url)
        .call()
        .map_err(|e| Error::Download(format!("{url}: {e}")))?;
    let mut body = Vec::new();
    resp.body_mut()
        .with_config()
        .limit(1 << 30)
        .reader()
        .read_to_end(&mut body)
        .map_err(|e| Error::Download(format!("{url}: reading the response failed: {e}")))?;
    Ok(body)
}

/// Checks `bytes` (downloaded from `url`) against `checksum`.
fn verify(url: &str, bytes: &[u8], checksum: &Checksum) -> Result<()> {
    let (found, expected, what) = match checksum {
        Checksum::File(md5) => (md5_hex(bytes), md5, "MD5"),
        Checksum::Decompressed(md5) => {
            let mut raw = Vec::new();
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut raw)
                .map_err(|e| Error::Download(format!("{url}: corrupt gzip data: {e}")))?;
            (md5_hex(&raw), md5, "MD5 of the decompressed data")
        }
    };
    if !found.eq_ignore_ascii_case(expected) {
        return Err(Error::Download(format!(
            "{url}: checksum mismatch ({what}): expected {expected}, found {found} \
             ({} bytes received)",
            bytes.len()
        )));
    }
    Ok(())
}

/// Downloads `file_name` into `dest` from the first of `mirrors` (base URLs
/// ending in `/`) that delivers it with the right `checksum`.
///
/// The file is written to a temporary name in the same folder and renamed
/// into place only when verified; on failure nothing is left behind and the
/// error lists every mirror tried.
pub fn download_verified(
    mirrors: &[String],
    file_name: &str,
    checksum: &Checksum,
    dest: &Path,
) -> Result<()> {
    let mut failures = Vec::new();
    for mirror in mirrors {
        let sep = if mirror.ends_with('/') { "" } else { "/" };
        let url = format!("{mirror}{sep}{file_name}");
        match http_get(&url).and_then(|bytes| {
            verify(&url, &bytes, checksum)?;
            write_atomic(dest, &bytes)
        }) {
            Ok(()) => return Ok(()),
            Err(e) => failures.push(format!("  {e}")),
        }
    }
    Err(Error::Download(format!(
        "could not get {file_name} for {}:\n{}",
        dest.display(),
        failures.join("\n")
    )))
}
