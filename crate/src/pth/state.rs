//! Finding the `state_dict` in what a `.pth` holds: a `state_dict` itself, a
//! whole pickled module, or a general checkpoint dict holding either.

use tch::Tensor;

use super::PyValue;

/// Keys the PyTorch recipes use for the model in a general checkpoint, in
/// the order they are preferred when a file holds several state dicts.
const MODEL_KEYS: &[&str] = &["model_state_dict", "state_dict", "model"];

/// Deepest module nesting followed.
const MAX_MODULE_DEPTH: usize = 256;

/// The `(name, tensor)` pairs of the model in `value`, named as
/// `model.state_dict()` names them.
///
/// `value` is what [`super::load_pth`] returned:
/// - a `state_dict` (`torch.save(model.state_dict(), p)`);
/// - a module object (`torch.save(model, p)`): its parameters, persistent
///   buffers and submodules' ones, joined with `.`; non-persistent buffers
///   skipped;
/// - a dict holding one of those under a key (PyTorch's "general
///   checkpoint"): `entry` names the key; without it, the only entry that is
///   a state dict or a module, else the first of `model_state_dict`,
///   `state_dict`, `model` among several.
///
/// ```
/// use cnn_lab::pth::{state_dict_of, PyValue};
/// use cnn_lab::Tensor;
///
/// let sd = PyValue::state_dict(&[("w".to_string(), Tensor::from_slice(&[1.0f32]))]);
/// let checkpoint = PyValue::dict([("epoch", PyValue::from(2)), ("model_state_dict", sd)]);
/// let found = state_dict_of(&checkpoint, None).unwrap();
/// assert_eq!(found[0].0, "w");
/// assert!(state_dict_of(&checkpoint, Some("optimizer")).is_err());
/// ```
pub fn state_dict_of(
    value: &PyValue,
    entry: Option<&str>,
) -> Result<Vec<(String, Tensor)>, String> {
    if let Some(key) = entry {
        let inner = value.get(key).ok_or_else(|| {
            format!(
                "no entry {key:?}; the file's top-level keys are {}",
                keys(value)
            )
        })?;
        return direct(inner).ok_or_else(|| {
            format!(
                "the entry {key:?} is a {}, not a state_dict or a module",
                inner.type_name()
            )
        });
    }
    if let Some(found) = direct(value) {
        return Ok(found);
    }
    let entries = value.entries().ok_or_else(|| {
        format!(
            "holds a {}, not a state_dict, a module or a checkpoint dict",
            value.type_name()
        )
    })?;
    let candidates: Vec<(&str, Vec<(String, Tensor)>)> = entries
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, direct(v)?)))
        .collect();
    match candidates.len() {
        0 => Err(format!(
            "holds a dict without a state_dict or a module in it (keys {})",
            keys(value)
        )),
        1 => Ok(candidates.into_iter().next().expect("one").1),
        _ => {
            let names: Vec<String> = candidates.iter().map(|(k, _)| format!("{k:?}")).collect();
            MODEL_KEYS
                .iter()
                .find_map(|m| candidates.iter().find(|(k, _)| k == m))
                .map(|(_, sd)| {
                    sd.iter()
                        .map(|(n, t)| (n.clone(), t.shallow_clone()))
                        .collect()
                })
                .ok_or_else(|| {
                    format!(
                        "holds several state dicts ({}); name the one to load, e.g. \
                         load_model_entry(&model, path, {})",
                        names.join(", "),
                        names[0]
                    )
                })
        }
    }
}

/// `value` itself as a state dict: a dict of tensors or a module.
fn direct(value: &PyValue) -> Option<Vec<(String, Tensor)>> {
    if let Some(sd) = value.state_dict_tensors() {
        return Some(sd);
    }
    let mut out = Vec::new();
    module_tensors(value, "", &mut out, 0)?;
    Some(out)
}

/// A module's `state_dict()`: own parameters, own persistent buffers, then
/// each submodule's, as `Module._save_to_state_dict` orders them.
fn module_tensors(
    module: &PyValue,
    prefix: &str,
    out: &mut Vec<(String, Tensor)>,
    depth: usize,
) -> Option<()> {
    let PyValue::Object {
        state: Some(state), ..
    } = module
    else {
        return None;
    };
    if depth > MAX_MODULE_DEPTH {
        return None;
    }
    let params = state.get("_parameters")?.entries()?;
    let buffers = state.get("_buffers")?.entries()?;
    let modules = state.get("_modules")?.entries()?;
    let skipped: Vec<&str> = state
        .get("_non_persistent_buffers_set")
        .and_then(PyValue::items)
        .map(|s| s.iter().filter_map(PyValue::as_str).collect())
        .unwrap_or_default();
    let persistent_buffers = buffers
        .iter()
        .filter(|(k, _)| k.as_str().is_some_and(|k| !skipped.contains(&k)));
    for (name, value) in params.iter().chain(persistent_buffers) {
        match value {
            PyValue::None => {}
            PyValue::Tensor(t) => {
                out.push((format!("{prefix}{}", name.as_str()?), t.shallow_clone()))
            }
            _ => return None,
        }
    }
    for (name, child) in modules {
        let name = name.as_str()?;
        if matches!(child, PyValue::None) {
            continue;
        }
        module_tensors(child, &format!("{prefix}{name}."), out, depth + 1)?;
    }
    Some(())
}

fn keys(value: &PyValue) -> String {
    match value.entries() {
        Some(e) => {
            let k: Vec<String> = e
                .iter()
                .map(|(k, _)| match k.as_str() {
                    Some(s) => format!("{s:?}"),
                    None => k.type_name().to_string(),
                })
                .collect();
            format!("[{}]", k.join(", "))
        }
        None => format!("(none: it is a {})", value.type_name()),
    }
}
