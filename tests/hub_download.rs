//! torch.hub's cache and downloads against an HTTP/1.1 server inside the test
//! on 127.0.0.1: files land in `$TORCH_HOME/hub/checkpoints` under the URL's
//! name, wrong hashes and broken transfers leave nothing behind, cached files
//! are used without a request, errors name the URL and the folder, and
//! weights files torchvision writes load by the weights' name.
//!
//! Every test sets `TORCH_HOME` (and the other variables `get_dir` reads)
//! while holding `ENV`, so the threads `cargo test` runs them on do not race.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use cnn_lab::hub::{
    cached_file_from_url, download_url_to_file, get_dir, hash_prefix, load_state_dict_from_url,
    HubOptions,
};
use cnn_lab::models::{get_model_weights, DenseNet121_Weights, SqueezeNet1_1_Weights, Weights};
use cnn_lab::{read_state_dict, Module, NamedTensor, Tensor};
use sha2::{Digest, Sha256};

static ENV: Mutex<()> = Mutex::new(());

/// Holds the environment lock with `TORCH_HOME` set to a fresh folder.
fn torch_home(name: &str) -> (MutexGuard<'static, ()>, PathBuf) {
    let guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let home = common::scratch_dir(name);
    std::env::set_var("TORCH_HOME", &home);
    (guard, home)
}

/// How the server answers.
#[derive(Clone, Copy)]
enum Mode {
    Faithful,
    /// Announces the full length, sends half, closes.
    CutMidBody,
}

/// A one-thread HTTP/1.1 server on 127.0.0.1 serving `files` by path
/// (`/models/x.pth`), 404 for anything else; its base URL and a request
/// counter.
fn serve(files: HashMap<String, Vec<u8>>, mode: Mode) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            match files.get(path) {
                Some(body) => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let sent = match mode {
                        Mode::Faithful => &body[..],
                        Mode::CutMidBody => &body[..body.len() / 2],
                    };
                    let _ = stream.write_all(sent);
                    let _ = stream.flush();
                }
                None => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
        }
    });
    (base, hits)
}

/// The names in `dir` (temporary files included), sorted.
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

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reference files from torchvision (`weights_reference.py files`): the
/// weights files go into `torch_home`'s cache, the expected tensors into
/// the returned folder.
fn reference_files(torch_home: &Path, name: &str) -> PathBuf {
    let out = common::scratch_dir(name);
    common::run_python(
        "weights_reference.py",
        &["files", torch_home.to_str().unwrap(), out.to_str().unwrap()],
    );
    out
}

/// A module holding named tensors with the given keys and shapes (zeros):
/// the state_dict of a torchvision model without its architecture.
struct Bag(Vec<(String, Tensor)>);

impl Bag {
    fn like(reference: &[(String, Tensor)]) -> Bag {
        Bag(reference
            .iter()
            .map(|(k, t)| (k.clone(), t.zeros_like()))
            .collect())
    }
}

impl Module for Bag {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        xs.shallow_clone()
    }

    fn own_tensors(&self) -> Vec<NamedTensor> {
        self.0
            .iter()
            .map(|(name, tensor)| NamedTensor {
                name: name.clone(),
                tensor: tensor.shallow_clone(),
                trainable: tensor.is_floating_point(),
            })
            .collect()
    }
}

/// The same keys with equal tensors (safetensors files keep their own
/// order, so by key).
fn assert_same_tensors(ours: &[(String, Tensor)], theirs: &[(String, Tensor)]) {
    let theirs: HashMap<&str, &Tensor> = theirs.iter().map(|(k, t)| (k.as_str(), t)).collect();
    assert_eq!(ours.len(), theirs.len());
    for (k, a) in ours {
        let b = theirs
            .get(k.as_str())
            .unwrap_or_else(|| panic!("{k} unexpected"));
        assert!(a.equal(b), "{k} differs");
    }
}

#[test]
fn a_download_lands_in_torch_home_under_the_urls_name_and_is_then_used_without_a_request() {
    let (_env, home) = torch_home("hub_download_lands");
    let refs = reference_files(&home.join("source"), "hub_download_lands_ref");
    let bytes =
        std::fs::read(home.join("source/hub/checkpoints/squeezenet1_1-b8a52dc0.pth")).unwrap();
    let hash = sha256_hex(&bytes);
    let name = format!("squeezenet1_1-{}.pth", &hash[..8]);
    let (base, hits) = serve(
        HashMap::from([(format!("/models/{name}"), bytes.clone())]),
        Mode::Faithful,
    );
    let url = format!("{base}/models/{name}");
    let checkpoints = home.join("hub/checkpoints");
    assert_eq!(get_dir(), home.join("hub"));

    let state_dict =
        load_state_dict_from_url(&url, &HubOptions::default().check_hash(true)).unwrap();
    assert_eq!(
        listing(&checkpoints),
        std::slice::from_ref(&name),
        "the file, no temporary"
    );
    assert_eq!(std::fs::read(checkpoints.join(&name)).unwrap(), bytes);
    assert_same_tensors(
        &state_dict,
        &read_state_dict(refs.join("squeezenet1_1.safetensors")).unwrap(),
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // In the cache: used as it is, no request (and no hash check: torch.hub
    // checks only what it downloads).
    std::fs::write(checkpoints.join(&name), b"not what was served").unwrap();
    let path = cached_file_from_url(&url, &HubOptions::default().check_hash(true)).unwrap();
    assert_eq!(path, checkpoints.join(&name));
    assert_eq!(std::fs::read(&path).unwrap(), b"not what was served");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // model_dir and file_name, as torch.hub's keywords.
    let elsewhere = home.join("elsewhere");
    let path = cached_file_from_url(
        &url,
        &HubOptions::default()
            .model_dir(&elsewhere)
            .file_name("renamed.pth")
            .progress(false),
    )
    .unwrap();
    assert_eq!(path, elsewhere.join("renamed.pth"));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[test]
fn a_wrong_hash_is_refused_and_leaves_no_file() {
    let (_env, home) = torch_home("hub_download_hash");
    let bytes = b"weights that are not what the name promises".repeat(1000);
    let hash = sha256_hex(&bytes);
    let wrong = if hash.starts_with("0000") {
        "1111"
    } else {
        "0000"
    };
    let name = format!("net-{wrong}abcd.pth");
    let (base, hits) = serve(
        HashMap::from([(format!("/models/{name}"), bytes.clone())]),
        Mode::Faithful,
    );
    let url = format!("{base}/models/{name}");
    let checkpoints = home.join("hub/checkpoints");

    let err = cached_file_from_url(&url, &HubOptions::default().check_hash(true))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "{url}: invalid hash value (expected \"{wrong}abcd\", got \"{hash}\")"
        )),
        "{err}"
    );
    assert!(
        err.contains(&checkpoints.display().to_string()),
        "names the folder: {err}"
    );
    assert_eq!(
        listing(&checkpoints),
        Vec::<String>::new(),
        "not even a temporary"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // torch.hub's default, check_hash=False, keeps it.
    let path = cached_file_from_url(&url, &HubOptions::default()).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), bytes);

    // download_url_to_file with the right prefix, anywhere.
    let dst = home.join("direct/net.pth");
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    download_url_to_file(&url, &dst, Some(&hash[..12]), false).unwrap();
    assert_eq!(std::fs::read(&dst).unwrap(), bytes);
    assert_eq!(listing(dst.parent().unwrap()), ["net.pth"]);
}

#[test]
fn a_connection_cut_mid_body_leaves_no_partial_file() {
    let (_env, home) = torch_home("hub_download_cut");
    let bytes = vec![7u8; 3 << 20];
    let name = "net-0123abcd.pth";
    let (base, _) = serve(
        HashMap::from([(format!("/models/{name}"), bytes)]),
        Mode::CutMidBody,
    );
    let url = format!("{base}/models/{name}");
    let checkpoints = home.join("hub/checkpoints");
    for check_hash in [true, false] {
        let err = cached_file_from_url(&url, &HubOptions::default().check_hash(check_hash))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&url), "{err}");
        assert!(err.contains(&checkpoints.display().to_string()), "{err}");
        assert_eq!(listing(&checkpoints), Vec::<String>::new(), "{err}");
    }
}

#[test]
fn a_404_and_a_refused_connection_name_the_url_and_the_folder() {
    let (_env, home) = torch_home("hub_download_errors");
    let checkpoints = home.join("hub/checkpoints");
    let (base, hits) = serve(HashMap::new(), Mode::Faithful);
    let url = format!("{base}/models/missing-0123abcd.pth");
    let err = cached_file_from_url(&url, &HubOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("{url}: http status: 404")), "{err}");
    assert!(
        err.contains(&format!(
            "fetch {url} some other way and put it, named missing-0123abcd.pth, in {}",
            checkpoints.display()
        )),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(listing(&checkpoints), Vec::<String>::new());

    // A port nobody listens on: bound, then released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/models/net-0123abcd.pth");
    let err = cached_file_from_url(&url, &HubOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&url), "{err}");
    assert!(err.to_lowercase().contains("refused"), "{err}");
    assert!(err.contains(&checkpoints.display().to_string()), "{err}");
    assert_eq!(listing(&checkpoints), Vec::<String>::new());
}

#[test]
fn weights_files_torchvision_wrote_load_by_the_weights_name() {
    let (_env, home) = torch_home("hub_weights_by_name");
    let refs = reference_files(&home, "hub_weights_by_name_ref");
    let checkpoints = home.join("hub/checkpoints");
    assert_eq!(Weights::cache_dir(), checkpoints);

    // squeezenet1_1(weights=None).state_dict(), torch.save'd under the hub's
    // name: found, read without running anything, loaded strictly. The
    // URL's host is never asked (the file is in the cache).
    let w = SqueezeNet1_1_Weights::DEFAULT;
    assert_eq!(
        w.state_dict_path().unwrap(),
        checkpoints.join("squeezenet1_1-b8a52dc0.pth")
    );
    let expected = read_state_dict(refs.join("squeezenet1_1.safetensors")).unwrap();
    assert_same_tensors(&w.get_state_dict(false).unwrap(), &expected);
    let model = Bag::like(&expected);
    w.load_into(&model).unwrap();
    assert_same_tensors(&model.0, &expected);

    // DenseNet's published files: old key names, no num_batches_tracked.
    let expected = read_state_dict(refs.join("densenet.safetensors")).unwrap();
    let model = Bag::like(&expected);
    DenseNet121_Weights::DEFAULT.load_into(&model).unwrap();
    assert_same_tensors(&model.0, &expected);

    // A model with other keys: PyTorch's strict message.
    let err = SqueezeNet1_1_Weights::DEFAULT
        .load_into(&Bag(vec![(
            "w".into(),
            Tensor::zeros([1], cnn_lab::FLOAT_CPU),
        )]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Missing key(s) in state_dict: \"w\"."),
        "{err}"
    );

    // Absent: state_dict_path names the URL and the folder; nothing downloads.
    std::fs::remove_file(checkpoints.join("squeezenet1_1-b8a52dc0.pth")).unwrap();
    let err = w.state_dict_path().unwrap_err().to_string();
    assert!(
        err.contains(w.url) && err.contains(&checkpoints.display().to_string()),
        "{err}"
    );
}

#[test]
fn get_dir_follows_torchs_environment_rules() {
    let (_env, home) = torch_home("hub_get_dir");
    let p = |rel: &str| Some(home.join(rel).to_str().unwrap().to_string());
    let me = p("me");
    // (TORCH_HOME, XDG_CACHE_HOME, HOME); None: unset.
    let cases: Vec<[Option<String>; 3]> = vec![
        [p("th"), p("xdg"), me.clone()],
        [None, p("xdg"), me.clone()],
        [None, None, me.clone()],
        [Some("~/th".into()), None, me.clone()],
        [None, Some("~/xdg".into()), me.clone()],
    ];
    let names = ["TORCH_HOME", "XDG_CACHE_HOME", "HOME"];
    let json = serde_json::to_string(
        &cases
            .iter()
            .map(|case| names.iter().zip(case).collect::<HashMap<_, _>>())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let torch: Vec<PathBuf> = serde_json::from_str(&common::run_python(
        "weights_reference.py",
        &["get_dir", &json],
    ))
    .unwrap();

    let saved: Vec<_> = names.iter().map(|k| (*k, std::env::var_os(k))).collect();
    let ours: Vec<PathBuf> = cases
        .iter()
        .map(|case| {
            for (k, v) in names.iter().zip(case) {
                match v {
                    Some(v) => std::env::set_var(k, v),
                    None => std::env::remove_var(k),
                }
            }
            assert_eq!(Weights::cache_dir(), get_dir().join("checkpoints"));
            get_dir()
        })
        .collect();
    for (k, v) in saved {
        match v {
            Some(v) => std::env::set_var(k, v),
            None => std::env::remove_var(k),
        }
    }
    assert_eq!(ours, torch);
}

#[test]
fn hash_prefixes_are_found_as_torch_hubs_regex_finds_them() {
    let mut names: Vec<String> = [
        "resnet18",
        "alexnet",
        "vgg16",
        "densenet121",
        "efficientnet_b0",
        "regnet_y_400mf",
    ]
    .iter()
    .flat_map(|m| get_model_weights(m).unwrap().iter())
    .map(|w| w.file_name().to_string())
    .collect();
    names.extend(
        [
            "a-.pth",
            "a-ab.cd-12.pth",
            "a-ABC.pth",
            "a-abc",
            "model.pth",
            "näme-é.pth",
            "x-12-34.pth",
            "-beef.",
            "vgg16_features-amdegroot-88682ab5.pth",
        ]
        .map(String::from),
    );
    let json = serde_json::to_string(&names).unwrap();
    let torch: Vec<Option<String>> = serde_json::from_str(&common::run_python(
        "weights_reference.py",
        &["hash_prefix", &json],
    ))
    .unwrap();
    let ours: Vec<Option<String>> = names
        .iter()
        .map(|n| hash_prefix(n).map(String::from))
        .collect();
    assert_eq!(ours, torch, "{names:?}");
}
