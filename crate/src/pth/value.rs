//! [`PyValue`]: the Python values a `.pth` file holds, as a Rust tree.

use tch::Tensor;

/// A Python value read from (or to be written to) a `.pth` file: what
/// `torch.load(path, weights_only=True)` returns, as a tree of Rust values.
///
/// Containers keep Python's order. Dictionaries are lists of `(key, value)`
/// pairs because Python keys need not be strings (an optimizer's `state` is
/// keyed by parameter index). Tensors are on the CPU.
///
/// ```
/// use cnn_lab::pth::PyValue;
/// use cnn_lab::Tensor;
///
/// let checkpoint = PyValue::dict([
///     ("epoch", PyValue::from(3)),
///     ("model_state_dict", PyValue::state_dict(&[("w".to_string(), Tensor::from_slice(&[1.0f32]))])),
/// ]);
/// assert_eq!(checkpoint.get("epoch").and_then(PyValue::as_int), Some(3));
/// assert!(checkpoint.get("model_state_dict").unwrap().get("w").unwrap().as_tensor().is_some());
/// ```
#[derive(Debug)]
pub enum PyValue {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int` (one that fits 64 bits; larger ones are a read error).
    Int(i64),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(String),
    /// `bytes` or `bytearray`.
    Bytes(Vec<u8>),
    /// A `tuple` (also `torch.Size`).
    Tuple(Vec<PyValue>),
    /// A `list`.
    List(Vec<PyValue>),
    /// A `dict`, in insertion order.
    Dict(Vec<(PyValue, PyValue)>),
    /// A `collections.OrderedDict` (what `state_dict()` returns).
    OrderedDict(Vec<(PyValue, PyValue)>),
    /// A `set` or `frozenset`.
    Set(Vec<PyValue>),
    /// A tensor or `nn.Parameter` (its storage shared with the other
    /// tensors of the file that shared it).
    Tensor(Tensor),
    /// An object rebuilt without running any code: its class's dotted name
    /// (`"torch.nn.modules.conv.Conv2d"`, `"__main__.MnistCNNModel"`,
    /// `"torch.device"`), the arguments it was created with and the state
    /// pickle gave it (a module's `__dict__`). Read only; not written.
    Object {
        /// `module.Class`.
        class: String,
        /// The constructor's arguments (`torch.device("cuda", 0)`: `"cuda", 0`).
        args: Vec<PyValue>,
        /// The `__setstate__` argument, usually the object's `__dict__`.
        state: Option<Box<PyValue>>,
    },
    /// A name used as a value (e.g. `torch.float32`). Read only; not written.
    Global(String),
}

impl PyValue {
    /// A `dict` with string keys.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// let d = PyValue::dict([("lr", PyValue::from(0.001))]);
    /// assert_eq!(d.get("lr").and_then(PyValue::as_float), Some(0.001));
    /// ```
    pub fn dict<K: Into<String>>(entries: impl IntoIterator<Item = (K, PyValue)>) -> PyValue {
        PyValue::Dict(
            entries
                .into_iter()
                .map(|(k, v)| (PyValue::Str(k.into()), v))
                .collect(),
        )
    }

    /// A `state_dict`: an `OrderedDict` of names to tensors, as
    /// `model.state_dict()` returns it.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// # use cnn_lab::Tensor;
    /// let sd = PyValue::state_dict(&[("bias".to_string(), Tensor::from_slice(&[0.5f32]))]);
    /// assert_eq!(sd.state_dict_tensors().unwrap()[0].0, "bias");
    /// ```
    pub fn state_dict(tensors: &[(String, Tensor)]) -> PyValue {
        PyValue::OrderedDict(
            tensors
                .iter()
                .map(|(k, t)| (PyValue::Str(k.clone()), PyValue::Tensor(t.shallow_clone())))
                .collect(),
        )
    }

    /// The value under the string key `key` of a `dict` / `OrderedDict`
    /// (`checkpoint["epoch"]`), or `None`.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// let d = PyValue::dict([("epoch", PyValue::from(7))]);
    /// assert!(d.get("epoch").is_some());
    /// assert!(d.get("loss").is_none());
    /// ```
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        self.entries()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The value under any key (`state[0]`), compared as Python would for
    /// ints, strings, bools and `None`.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// let state = PyValue::Dict(vec![(PyValue::from(0), PyValue::from("first"))]);
    /// assert_eq!(state.get_item(&PyValue::from(0)).and_then(PyValue::as_str), Some("first"));
    /// ```
    pub fn get_item(&self, key: &PyValue) -> Option<&PyValue> {
        self.entries()?
            .iter()
            .find(|(k, _)| k.same_key(key))
            .map(|(_, v)| v)
    }

    fn same_key(&self, other: &PyValue) -> bool {
        match (self, other) {
            (PyValue::None, PyValue::None) => true,
            (PyValue::Str(a), PyValue::Str(b)) => a == b,
            (PyValue::Bytes(a), PyValue::Bytes(b)) => a == b,
            (PyValue::Float(a), PyValue::Float(b)) => a == b,
            (PyValue::Tuple(a), PyValue::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_key(y))
            }
            _ => match (self.as_int(), other.as_int()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }

    /// The `(key, value)` pairs of a `dict` or `OrderedDict`.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// assert_eq!(PyValue::dict([("a", PyValue::None)]).entries().unwrap().len(), 1);
    /// assert!(PyValue::from(1).entries().is_none());
    /// ```
    pub fn entries(&self) -> Option<&[(PyValue, PyValue)]> {
        match self {
            PyValue::Dict(e) | PyValue::OrderedDict(e) => Some(e),
            _ => None,
        }
    }

    /// The items of a `list`, `tuple` or `set`.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// let l = PyValue::from(vec![PyValue::from(1), PyValue::from(2)]);
    /// assert_eq!(l.items().unwrap().len(), 2);
    /// ```
    pub fn items(&self) -> Option<&[PyValue]> {
        match self {
            PyValue::List(v) | PyValue::Tuple(v) | PyValue::Set(v) => Some(v),
            _ => None,
        }
    }

    /// The integer of an `int` or a `bool`.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// assert_eq!(PyValue::from(true).as_int(), Some(1));
    /// ```
    pub fn as_int(&self) -> Option<i64> {
        match self {
            PyValue::Int(i) => Some(*i),
            PyValue::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    /// The number of a `float` or an `int`.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// assert_eq!(PyValue::from(2).as_float(), Some(2.0));
    /// ```
    pub fn as_float(&self) -> Option<f64> {
        match self {
            PyValue::Float(f) => Some(*f),
            PyValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The value of a `bool`.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// assert_eq!(PyValue::from(false).as_bool(), Some(false));
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            PyValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The text of a `str`.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// assert_eq!(PyValue::from("adam").as_str(), Some("adam"));
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The tensor of a `Tensor` value.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// # use cnn_lab::Tensor;
    /// assert!(PyValue::from(Tensor::from_slice(&[1i64])).as_tensor().is_some());
    /// ```
    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            PyValue::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// The `(name, tensor)` pairs of a `state_dict`: a `dict`/`OrderedDict`
    /// whose keys are all strings and whose values are all tensors (`None`
    /// for an empty dict or anything else).
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// assert!(PyValue::dict([("epoch", PyValue::from(1))]).state_dict_tensors().is_none());
    /// ```
    pub fn state_dict_tensors(&self) -> Option<Vec<(String, Tensor)>> {
        let entries = self.entries().filter(|e| !e.is_empty())?;
        entries
            .iter()
            .map(|(k, v)| Some((k.as_str()?.to_string(), v.as_tensor()?.shallow_clone())))
            .collect()
    }

    /// Python's name for this value's type (`"dict"`, `"Tensor"`, the class
    /// of an object), for error messages.
    ///
    /// ```
    /// # use cnn_lab::pth::PyValue;
    /// assert_eq!(PyValue::from(1.5).type_name(), "float");
    /// ```
    pub fn type_name(&self) -> &str {
        match self {
            PyValue::None => "NoneType",
            PyValue::Bool(_) => "bool",
            PyValue::Int(_) => "int",
            PyValue::Float(_) => "float",
            PyValue::Str(_) => "str",
            PyValue::Bytes(_) => "bytes",
            PyValue::Tuple(_) => "tuple",
            PyValue::List(_) => "list",
            PyValue::Dict(_) => "dict",
            PyValue::OrderedDict(_) => "OrderedDict",
            PyValue::Set(_) => "set",
            PyValue::Tensor(_) => "Tensor",
            PyValue::Object { class, .. } => class,
            PyValue::Global(name) => name,
        }
    }
}

impl Clone for PyValue {
    /// A deep copy of the tree; tensors are shallow clones (same storage).
    fn clone(&self) -> Self {
        match self {
            PyValue::None => PyValue::None,
            PyValue::Bool(b) => PyValue::Bool(*b),
            PyValue::Int(i) => PyValue::Int(*i),
            PyValue::Float(f) => PyValue::Float(*f),
            PyValue::Str(s) => PyValue::Str(s.clone()),
            PyValue::Bytes(b) => PyValue::Bytes(b.clone()),
            PyValue::Tuple(v) => PyValue::Tuple(v.clone()),
            PyValue::List(v) => PyValue::List(v.clone()),
            PyValue::Dict(e) => PyValue::Dict(e.clone()),
            PyValue::OrderedDict(e) => PyValue::OrderedDict(e.clone()),
            PyValue::Set(v) => PyValue::Set(v.clone()),
            PyValue::Tensor(t) => PyValue::Tensor(t.shallow_clone()),
            PyValue::Object { class, args, state } => PyValue::Object {
                class: class.clone(),
                args: args.clone(),
                state: state.clone(),
            },
            PyValue::Global(g) => PyValue::Global(g.clone()),
        }
    }
}

impl From<bool> for PyValue {
    fn from(v: bool) -> Self {
        PyValue::Bool(v)
    }
}

impl From<i64> for PyValue {
    fn from(v: i64) -> Self {
        PyValue::Int(v)
    }
}

impl From<i32> for PyValue {
    fn from(v: i32) -> Self {
        PyValue::Int(v.into())
    }
}

impl From<usize> for PyValue {
    fn from(v: usize) -> Self {
        PyValue::Int(v as i64)
    }
}

impl From<f64> for PyValue {
    fn from(v: f64) -> Self {
        PyValue::Float(v)
    }
}

impl From<f32> for PyValue {
    fn from(v: f32) -> Self {
        PyValue::Float(v.into())
    }
}

impl From<&str> for PyValue {
    fn from(v: &str) -> Self {
        PyValue::Str(v.to_string())
    }
}

impl From<String> for PyValue {
    fn from(v: String) -> Self {
        PyValue::Str(v)
    }
}

impl From<Tensor> for PyValue {
    fn from(v: Tensor) -> Self {
        PyValue::Tensor(v)
    }
}

impl From<Vec<PyValue>> for PyValue {
    fn from(v: Vec<PyValue>) -> Self {
        PyValue::List(v)
    }
}

impl<T: Into<PyValue>> From<Option<T>> for PyValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(PyValue::None, Into::into)
    }
}
