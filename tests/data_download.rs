//! Downloads against a local HTTP server on 127.0.0.1 that serves the shared
//! dataset files (no dataset host is reachable here): verified files are
//! kept, corrupt or truncated ones are refused with nothing left behind.
//!
//! The shared `.gz` files are recompressed copies, so their `.gz` MD5 is not
//! torchvision's: the tests inject the MD5 of the decompressed data from
//! `shared/datasets/README.md`, except where the canonical default must hold.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cnn_lab::data::{Checksum, FashionMNIST, MNIST};

/// How the server mangles what it sends.
#[derive(Clone, Copy)]
enum Mode {
    Faithful,
    /// Announces the full length, sends half, closes.
    Truncated,
    /// Full length, one byte flipped in the middle.
    Corrupt,
    /// Every request is a 404.
    NotFound,
}

/// A one-thread HTTP/1.1 server on a free port serving `files` by name;
/// returns its base URL and a request counter.
fn serve(files: HashMap<String, Vec<u8>>, mode: Mode) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            let name = request
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/');
            match (files.get(name), mode) {
                (Some(body), Mode::Faithful | Mode::Truncated | Mode::Corrupt) => {
                    let mut body = body.clone();
                    let announced = body.len();
                    match mode {
                        Mode::Truncated => body.truncate(announced / 2),
                        Mode::Corrupt => body[announced / 2] ^= 0xff,
                        _ => {}
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                         Content-Length: {announced}\r\nConnection: close\r\n\r\n"
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(&body);
                }
                _ => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
        }
    });
    (base, hits)
}

/// The shared `<name>/raw/*.gz` files, by file name.
fn shared_files(name: &str) -> HashMap<String, Vec<u8>> {
    let raw = common::datasets_root().join(name).join("raw");
    std::fs::read_dir(&raw)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "gz"))
        .map(|p| {
            (
                p.file_name().unwrap().to_str().unwrap().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// MD5 of the decompressed MNIST test files, from shared/datasets/README.md.
const T10K_IMAGES_MD5: &str = "2646ac647ad5339dbf082846283269ea";
const T10K_LABELS_MD5: &str = "27ae3e4e09519cfbb04c329615203637";

fn mnist_test_with_readme_checksums(
    root: &Path,
    mirrors: Vec<String>,
) -> cnn_lab::data::DatasetOptions {
    MNIST::new(root)
        .train(false)
        .download(true)
        .mirrors(mirrors)
        .checksum(
            "t10k-images-idx3-ubyte.gz",
            Checksum::Decompressed(T10K_IMAGES_MD5.into()),
        )
        .checksum(
            "t10k-labels-idx1-ubyte.gz",
            Checksum::Decompressed(T10K_LABELS_MD5.into()),
        )
}

/// Names of the files in `dir` (empty when it does not exist).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn download_writes_verified_files_and_loads_them() {
    let (base, hits) = serve(shared_files("MNIST"), Mode::Faithful);
    let root = common::scratch_dir("data_download_ok");
    let ds = mnist_test_with_readme_checksums(&root, vec![base.clone()])
        .load()
        .unwrap();
    assert_eq!(
        listing(&root.join("MNIST/raw")),
        ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    );
    let shared = MNIST::new(common::datasets_root())
        .train(false)
        .load()
        .unwrap();
    assert!(ds.data.equal(&shared.data));
    assert!(ds.targets.equal(&shared.targets));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    // Present files are not fetched again.
    mnist_test_with_readme_checksums(&root, vec![base])
        .load()
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[test]
fn canonical_checksums_are_the_default_and_refuse_other_bytes() {
    // The shared .gz bytes are not the canonical mirror's: torchvision's MD5
    // must reject them when no checksum is injected.
    let (base, _) = serve(shared_files("MNIST"), Mode::Faithful);
    let root = common::scratch_dir("data_download_canonical");
    let text = MNIST::new(&root)
        .train(false)
        .download(true)
        .mirrors([base.clone()])
        .load()
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(&format!(
            "{base}t10k-images-idx3-ubyte.gz: checksum mismatch (MD5): expected 9fb629c4189551a2d022fa330f9573f3, found "
        )),
        "{text}"
    );
    assert!(text.contains(&format!("Put t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or the unzipped files) in {}", root.join("MNIST/raw").display())), "{text}");
    assert_eq!(listing(&root.join("MNIST/raw")), Vec::<String>::new());
}

#[test]
fn fashion_labels_pass_the_canonical_checksum() {
    // Fashion-MNIST's shared label files are the canonical ones, so
    // torchvision's own MD5s accept them; the rebuilt images need the
    // README's decompressed MD5.
    let (base, _) = serve(shared_files("FashionMNIST"), Mode::Faithful);
    let root = common::scratch_dir("data_download_fashion");
    let ds = FashionMNIST::new(&root)
        .train(false)
        .download(true)
        .mirrors([base])
        .checksum(
            "t10k-images-idx3-ubyte.gz",
            Checksum::Decompressed("b381b677e63e3de2271935df7df8a242".into()),
        )
        .load()
        .unwrap();
    assert_eq!(ds.len(), 10_000);
    assert_eq!(
        listing(&root.join("FashionMNIST/raw")),
        ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    );
}

#[test]
fn truncated_download_leaves_nothing_behind() {
    let (base, _) = serve(shared_files("MNIST"), Mode::Truncated);
    let root = common::scratch_dir("data_download_truncated");
    let text = mnist_test_with_readme_checksums(&root, vec![base.clone()])
        .load()
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(&format!(
            "could not get t10k-images-idx3-ubyte.gz for {}",
            root.join("MNIST/raw/t10k-images-idx3-ubyte.gz").display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{base}t10k-images-idx3-ubyte.gz: reading the response failed"
        )),
        "{text}"
    );
    assert_eq!(listing(&root.join("MNIST/raw")), Vec::<String>::new());
}

#[test]
fn corrupt_download_leaves_nothing_behind() {
    let (base, _) = serve(shared_files("MNIST"), Mode::Corrupt);
    let root = common::scratch_dir("data_download_corrupt");
    let text = mnist_test_with_readme_checksums(&root, vec![base.clone()])
        .load()
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(&format!("{base}t10k-images-idx3-ubyte.gz: ")),
        "{text}"
    );
    assert!(
        text.contains("corrupt gzip data") || text.contains("checksum mismatch (MD5 of the decompressed data): expected 2646ac647ad5339dbf082846283269ea"),
        "{text}"
    );
    assert_eq!(listing(&root.join("MNIST/raw")), Vec::<String>::new());
}

#[test]
fn mirrors_are_tried_in_order_and_all_failures_reported() {
    let (missing, _) = serve(HashMap::new(), Mode::NotFound);
    let (good, hits) = serve(shared_files("MNIST"), Mode::Faithful);
    let root = common::scratch_dir("data_download_fallback");
    mnist_test_with_readme_checksums(&root, vec![missing.clone(), good])
        .load()
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // A closed port: connection refused.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    let root = common::scratch_dir("data_download_all_fail");
    let text = mnist_test_with_readme_checksums(&root, vec![missing.clone(), closed.clone()])
        .load()
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(&format!(
            "{missing}t10k-images-idx3-ubyte.gz: http status: 404"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{closed}t10k-images-idx3-ubyte.gz: ")),
        "{text}"
    );
    assert_eq!(listing(&root.join("MNIST/raw")), Vec::<String>::new());
}

#[test]
fn mirrors_env_var_replaces_the_canonical_mirrors() {
    let (base, hits) = serve(shared_files("FashionMNIST"), Mode::Faithful);
    std::env::set_var("CNN_LAB_FASHION_MNIST_MIRRORS", format!(" {base} ,"));
    let root = common::scratch_dir("data_download_env");
    let opts = FashionMNIST::new(&root).train(false).download(true);
    assert_eq!(opts.effective_mirrors(), std::slice::from_ref(&base));
    // No injected checksum: the rebuilt images fail torchvision's MD5, which
    // shows the request went to the env var's server.
    let err = opts.load().unwrap_err().to_string();
    std::env::remove_var("CNN_LAB_FASHION_MNIST_MIRRORS");
    assert!(
        err.contains(&format!(
            "{base}t10k-images-idx3-ubyte.gz: checksum mismatch"
        )),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        FashionMNIST::new(&root).effective_mirrors(),
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    );
}
