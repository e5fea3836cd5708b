//! `notebook_cell!("notebooks/x.ipynb", "marker")`: the source of the code
//! cell of that notebook (path from the repository root) that contains
//! `marker`, as Rust items. cnn_lab's tests use it so that a test of the
//! lecture's model compiles the notebook's own cell, not a copy of it.
//! The expansion also `include_str!`s the notebook, so a changed notebook
//! recompiles the test.

use proc_macro::TokenStream;

/// See the crate documentation.
#[proc_macro]
pub fn notebook_cell(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(tokens) => tokens,
        Err(message) => format!("compile_error!({message:?});").parse().unwrap(),
    }
}

fn expand(input: TokenStream) -> Result<TokenStream, String> {
    let args: Vec<String> = input
        .to_string()
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let [path, marker] = args.as_slice() else {
        return Err("usage: notebook_cell!(\"notebooks/x.ipynb\", \"marker\")".into());
    };
    let root =
        std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?)
            .join("..");
    let file = root.join(path);
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let nb: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let cells = nb["cells"].as_array().ok_or(format!("{path}: no cells"))?;
    let sources: Vec<String> = cells
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .map(|c| match &c["source"] {
            serde_json::Value::Array(lines) => lines.iter().filter_map(|l| l.as_str()).collect(),
            serde_json::Value::String(s) => s.clone(),
            _ => String::new(),
        })
        .filter(|s| s.contains(marker.as_str()))
        .collect();
    let [source] = sources.as_slice() else {
        return Err(format!(
            "{path}: {} code cells contain {marker:?}, expected one",
            sources.len()
        ));
    };
    let code = format!(
        "const _: &str = include_str!({:?});\n{source}",
        file.canonicalize().map_err(|e| e.to_string())?.display()
    );
    code.parse()
        .map_err(|e| format!("{path}: the cell with {marker:?} does not parse: {e:?}"))
}
