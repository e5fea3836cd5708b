//! Which Python names a `.pth` pickle may mention, and what each one builds.
//!
//! The policy of PyTorch's `weights_only=True` unpickler, plus module classes
//! as inert names: a function is only ever *recognised* (its effect rebuilt
//! in Rust), never looked up or called. Anything else is refused by name.

use tch::Kind;

/// Callables whose effect the reader rebuilds (PyTorch's `weights_only`
/// allow-list, the parts a `state_dict`, a whole module or a general
/// checkpoint use).
pub(super) const CALLABLES: &[&str] = &[
    "collections.OrderedDict",
    "builtins.set",
    "builtins.frozenset",
    "builtins.bytearray",
    "builtins.bytes",
    "_codecs.encode",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._tensor._rebuild_from_type_v2",
    "torch.device",
    "torch.Size",
    "copyreg._reconstructor",
];

/// Names PyTorch's `weights_only` allows but this reader does not rebuild;
/// refused with what they are rather than as unknown.
pub(super) const UNSUPPORTED: &[(&str, &str)] = &[
    ("torch._utils._rebuild_qtensor", "a quantized tensor"),
    ("torch._utils._rebuild_sparse_tensor", "a sparse tensor"),
    ("torch._utils._rebuild_sparse_csr_tensor", "a sparse tensor"),
    (
        "torch._utils._rebuild_meta_tensor_no_storage",
        "a meta tensor",
    ),
    (
        "torch._utils._rebuild_wrapper_subclass",
        "a tensor subclass",
    ),
    ("torch._utils._rebuild_nested_tensor", "a nested tensor"),
    (
        "torch._utils._rebuild_device_tensor_from_numpy",
        "a numpy-backed tensor",
    ),
    ("numpy.core.multiarray._reconstruct", "a numpy array"),
    ("numpy._core.multiarray._reconstruct", "a numpy array"),
    ("numpy.core.multiarray.scalar", "a numpy scalar"),
    ("numpy._core.multiarray.scalar", "a numpy scalar"),
];

/// Module roots whose names are refused even as class names: the standard
/// library's doors to the system, code and other pickles.
const DENIED_ROOTS: &[&str] = &[
    "os",
    "posix",
    "nt",
    "subprocess",
    "sys",
    "builtins",
    "shutil",
    "socket",
    "importlib",
    "runpy",
    "pickle",
    "_pickle",
    "marshal",
    "ctypes",
    "pty",
    "code",
    "codeop",
    "webbrowser",
    "multiprocessing",
    "threading",
    "signal",
    "pathlib",
    "io",
    "_io",
    "codecs",
    "types",
    "functools",
    "operator",
    "inspect",
    "platform",
    "tempfile",
    "urllib",
    "http",
];

/// torch's storage classes (`torch.FloatStorage`, …) and the element kind
/// each holds.
const STORAGES: &[(&str, Kind)] = &[
    ("torch.FloatStorage", Kind::Float),
    ("torch.DoubleStorage", Kind::Double),
    ("torch.HalfStorage", Kind::Half),
    ("torch.BFloat16Storage", Kind::BFloat16),
    ("torch.LongStorage", Kind::Int64),
    ("torch.IntStorage", Kind::Int),
    ("torch.ShortStorage", Kind::Int16),
    ("torch.CharStorage", Kind::Int8),
    ("torch.ByteStorage", Kind::Uint8),
    ("torch.BoolStorage", Kind::Bool),
    ("torch.ComplexFloatStorage", Kind::ComplexFloat),
    ("torch.ComplexDoubleStorage", Kind::ComplexDouble),
    ("torch.UntypedStorage", Kind::Uint8),
    ("torch.storage.UntypedStorage", Kind::Uint8),
];

/// The storage class torch names for tensors of `kind`, for writing.
pub(super) fn storage_name(kind: Kind) -> Option<&'static str> {
    STORAGES
        .iter()
        .find(|(n, k)| *k == kind && !n.contains("Untyped"))
        .map(|(n, _)| &n["torch.".len()..])
}

/// The element kind of the storage class `name` (`"torch.HalfStorage"`).
pub(super) fn storage_kind(name: &str) -> Option<Kind> {
    STORAGES.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// `module.name` with Python 2's `__builtin__` (what protocol 2 writes for
/// `set`) read as `builtins`.
pub(super) fn full_name(module: &str, name: &str) -> String {
    let module = match module {
        "__builtin__" => "builtins",
        "copy_reg" => "copyreg",
        m => m,
    };
    format!("{module}.{name}")
}

/// Whether the pickle may name `full` (from [`full_name`]): a recognised
/// callable, a storage class, a dtype, or a class of a module that is not
/// one of the system's (a `Module` subclass, to be rebuilt as an inert
/// [`super::PyValue::Object`]). Errors with PyTorch's wording and the name.
pub(super) fn check(full: &str) -> Result<(), String> {
    if CALLABLES.contains(&full)
        || storage_kind(full).is_some()
        || UNSUPPORTED.iter().any(|(n, _)| *n == full)
        || is_dtype(full)
    {
        return Ok(());
    }
    let (module, name) = full.rsplit_once('.').unwrap_or(("", full));
    let root = module.split('.').next().unwrap_or("");
    let class_like = name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !module.is_empty()
        && module
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if class_like && !DENIED_ROOTS.contains(&root) {
        return Ok(());
    }
    Err(refusal(full))
}

/// The error for a global the reader will not use.
pub(super) fn refusal(full: &str) -> String {
    format!(
        "Unsupported global: GLOBAL {full} — the file names `{full}`, which is neither a tensor, \
         a container nor a module class; it was refused and nothing in the file was run"
    )
}

fn is_dtype(full: &str) -> bool {
    const DTYPES: &[&str] = &[
        "float32",
        "float",
        "float64",
        "double",
        "float16",
        "half",
        "bfloat16",
        "int64",
        "long",
        "int32",
        "int",
        "int16",
        "short",
        "int8",
        "uint8",
        "bool",
        "complex64",
        "complex128",
    ];
    full.strip_prefix("torch.")
        .is_some_and(|d| DTYPES.contains(&d))
}
