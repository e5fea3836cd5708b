//! The argument types of the transforms: what torchvision accepts in one
//! keyword (an int or a pair, a number or one per channel), kept as the
//! user gave it so that the printout is torchvision's.

use std::fmt;

use crate::error::{Error, Result};
use crate::pyfmt::py_float;

/// torchvision's `InterpolationMode` (the tensor path's modes).
///
/// ```
/// use cnn_lab::data::transforms::{InterpolationMode, Resize};
/// let t = Resize::new(64).interpolation(InterpolationMode::Bicubic);
/// assert!(t.to_string().contains("interpolation=bicubic"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterpolationMode {
    /// `InterpolationMode.NEAREST` (`"nearest"`).
    Nearest,
    /// `InterpolationMode.BILINEAR` (`"bilinear"`).
    Bilinear,
    /// `InterpolationMode.BICUBIC` (`"bicubic"`).
    Bicubic,
}

impl InterpolationMode {
    /// The mode's `.value`, as torchvision prints it.
    pub fn value(self) -> &'static str {
        match self {
            InterpolationMode::Nearest => "nearest",
            InterpolationMode::Bilinear => "bilinear",
            InterpolationMode::Bicubic => "bicubic",
        }
    }

    /// The member's name, `InterpolationMode.BILINEAR.name == "BILINEAR"`
    /// (how a weights preset prints it).
    pub fn name(self) -> &'static str {
        match self {
            InterpolationMode::Nearest => "NEAREST",
            InterpolationMode::Bilinear => "BILINEAR",
            InterpolationMode::Bicubic => "BICUBIC",
        }
    }
}

impl fmt::Display for InterpolationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.value())
    }
}

/// torchvision's `padding_mode`: `"constant"`, `"edge"`, `"reflect"` or
/// `"symmetric"`.
///
/// ```
/// use cnn_lab::data::transforms::{Pad, PaddingMode};
/// assert_eq!(Pad::new(2).padding_mode(PaddingMode::Edge).to_string(),
///            "Pad(padding=2, fill=0, padding_mode=edge)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaddingMode {
    /// The `fill` value.
    Constant,
    /// The last pixel repeated.
    Edge,
    /// Mirrored without repeating the edge pixel.
    Reflect,
    /// Mirrored, repeating the edge pixel.
    Symmetric,
}

impl fmt::Display for PaddingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PaddingMode::Constant => "constant",
            PaddingMode::Edge => "edge",
            PaddingMode::Reflect => "reflect",
            PaddingMode::Symmetric => "symmetric",
        })
    }
}

/// A number as Python holds it: an `int` prints `0`, a `float` prints `0.0`.
///
/// ```
/// use cnn_lab::data::transforms::PyNum;
/// assert_eq!(PyNum::from(2).to_string(), "2");
/// assert_eq!(PyNum::from(2.0).to_string(), "2.0");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PyNum {
    /// A Python `int`.
    Int(i64),
    /// A Python `float`.
    Float(f64),
}

impl PyNum {
    /// The value as `f64`.
    pub fn get(self) -> f64 {
        match self {
            PyNum::Int(i) => i as f64,
            PyNum::Float(x) => x,
        }
    }
}

impl From<i32> for PyNum {
    fn from(v: i32) -> Self {
        PyNum::Int(v as i64)
    }
}
impl From<i64> for PyNum {
    fn from(v: i64) -> Self {
        PyNum::Int(v)
    }
}
impl From<f64> for PyNum {
    fn from(v: f64) -> Self {
        PyNum::Float(v)
    }
}

impl fmt::Display for PyNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PyNum::Int(i) => write!(f, "{i}"),
            PyNum::Float(x) => f.write_str(&py_float(*x)),
        }
    }
}

/// A tuple as Python prints it: `(1, 2)`, `(0.5,)`.
pub(crate) fn py_tuple<T: fmt::Display>(items: &[T]) -> String {
    let parts: Vec<String> = items.iter().map(|x| x.to_string()).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// A list of floats as Python prints it: `[-30.0, 30.0]`.
pub(crate) fn py_float_list(items: &[f64]) -> String {
    let parts: Vec<String> = items.iter().map(|&x| py_float(x)).collect();
    format!("[{}]", parts.join(", "))
}

/// A pair of floats as a Python tuple: `(0.08, 1.0)`.
pub(crate) fn py_pair(p: (f64, f64)) -> String {
    format!("({}, {})", py_float(p.0), py_float(p.1))
}

/// An output size: one `int` (`Resize`: the smaller edge; the crops: a
/// square) or `(h, w)`.
///
/// ```
/// use cnn_lab::data::transforms::ImageSize;
/// assert_eq!(ImageSize::from(224).to_string(), "224");
/// assert_eq!(ImageSize::from((224, 320)).to_string(), "(224, 320)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageSize {
    /// One number.
    Int(i64),
    /// `(height, width)`.
    Pair(i64, i64),
}

impl ImageSize {
    /// `(h, w)`, one number standing for both (torchvision's `_setup_size`).
    pub fn hw(self) -> (i64, i64) {
        match self {
            ImageSize::Int(s) => (s, s),
            ImageSize::Pair(h, w) => (h, w),
        }
    }

    pub(crate) fn check(self, name: &str) -> Result<()> {
        let (h, w) = self.hw();
        if h <= 0 || w <= 0 {
            return Err(Error::InvalidArgument(format!(
                "{name}: size must be positive, got {self}"
            )));
        }
        Ok(())
    }
}

impl From<i32> for ImageSize {
    fn from(v: i32) -> Self {
        ImageSize::Int(v as i64)
    }
}
impl From<i64> for ImageSize {
    fn from(v: i64) -> Self {
        ImageSize::Int(v)
    }
}
impl From<(i32, i32)> for ImageSize {
    fn from((h, w): (i32, i32)) -> Self {
        ImageSize::Pair(h as i64, w as i64)
    }
}
impl From<(i64, i64)> for ImageSize {
    fn from((h, w): (i64, i64)) -> Self {
        ImageSize::Pair(h, w)
    }
}

impl fmt::Display for ImageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageSize::Int(s) => write!(f, "{s}"),
            ImageSize::Pair(h, w) => write!(f, "({h}, {w})"),
        }
    }
}

/// A `fill` (or `RandomErasing`'s `value`): one number for every channel
/// or one per channel.
///
/// ```
/// use cnn_lab::data::transforms::Fill;
/// assert_eq!(Fill::from(0).to_string(), "0");
/// assert_eq!(Fill::from([0.5, 0.5, 0.5]).to_string(), "(0.5, 0.5, 0.5)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Fill {
    /// One value for all channels.
    Num(PyNum),
    /// One value per channel (printed as a tuple).
    PerChannel(Vec<PyNum>),
}

impl Fill {
    /// The values, one or one per channel.
    pub fn values(&self) -> Vec<f64> {
        match self {
            Fill::Num(n) => vec![n.get()],
            Fill::PerChannel(v) => v.iter().map(|n| n.get()).collect(),
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        matches!(self, Fill::Num(n) if n.get() == 0.0)
    }
}

impl From<i32> for Fill {
    fn from(v: i32) -> Self {
        Fill::Num(v.into())
    }
}
impl From<i64> for Fill {
    fn from(v: i64) -> Self {
        Fill::Num(v.into())
    }
}
impl From<f64> for Fill {
    fn from(v: f64) -> Self {
        Fill::Num(v.into())
    }
}
impl<T: Into<PyNum> + Copy, const N: usize> From<[T; N]> for Fill {
    fn from(v: [T; N]) -> Self {
        Fill::PerChannel(v.iter().map(|&x| x.into()).collect())
    }
}
impl<T: Into<PyNum> + Copy> From<Vec<T>> for Fill {
    fn from(v: Vec<T>) -> Self {
        Fill::PerChannel(v.iter().map(|&x| x.into()).collect())
    }
}

impl fmt::Display for Fill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fill::Num(n) => write!(f, "{n}"),
            Fill::PerChannel(v) => f.write_str(&py_tuple(v)),
        }
    }
}

/// A `padding`: one int for every side, `(left/right, top/bottom)` or
/// `(left, top, right, bottom)`.
///
/// ```
/// use cnn_lab::data::transforms::PadWidths;
/// assert_eq!(PadWidths::from(4).ltrb(), [4, 4, 4, 4]);
/// assert_eq!(PadWidths::from((1, 2)).ltrb(), [1, 2, 1, 2]);
/// assert_eq!(PadWidths::from((1, 2, 3, 4)).to_string(), "(1, 2, 3, 4)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadWidths {
    /// All sides.
    All(i64),
    /// `(left and right, top and bottom)`.
    Two(i64, i64),
    /// `(left, top, right, bottom)`.
    Four(i64, i64, i64, i64),
}

impl PadWidths {
    /// `[left, top, right, bottom]`.
    pub fn ltrb(self) -> [i64; 4] {
        match self {
            PadWidths::All(p) => [p; 4],
            PadWidths::Two(lr, tb) => [lr, tb, lr, tb],
            PadWidths::Four(l, t, r, b) => [l, t, r, b],
        }
    }
}

impl From<i32> for PadWidths {
    fn from(v: i32) -> Self {
        PadWidths::All(v as i64)
    }
}
impl From<i64> for PadWidths {
    fn from(v: i64) -> Self {
        PadWidths::All(v)
    }
}
impl From<(i32, i32)> for PadWidths {
    fn from((a, b): (i32, i32)) -> Self {
        PadWidths::Two(a as i64, b as i64)
    }
}
impl From<(i64, i64)> for PadWidths {
    fn from((a, b): (i64, i64)) -> Self {
        PadWidths::Two(a, b)
    }
}
impl From<(i32, i32, i32, i32)> for PadWidths {
    fn from((l, t, r, b): (i32, i32, i32, i32)) -> Self {
        PadWidths::Four(l as i64, t as i64, r as i64, b as i64)
    }
}
impl From<(i64, i64, i64, i64)> for PadWidths {
    fn from((l, t, r, b): (i64, i64, i64, i64)) -> Self {
        PadWidths::Four(l, t, r, b)
    }
}

impl fmt::Display for PadWidths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PadWidths::All(p) => write!(f, "{p}"),
            PadWidths::Two(a, b) => write!(f, "({a}, {b})"),
            PadWidths::Four(l, t, r, b) => write!(f, "({l}, {t}, {r}, {b})"),
        }
    }
}

/// A range of degrees (`degrees`, `shear`): `d` means `[-d, d]`, a pair is
/// `[lo, hi]`; a shear also takes four values (x range, then y range).
///
/// ```
/// use cnn_lab::data::transforms::Angles;
/// assert_eq!(Angles::from(30).to_string(), "[-30.0, 30.0]");
/// assert_eq!(Angles::from((0.0, 90.0)).to_string(), "[0.0, 90.0]");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Angles(pub Vec<f64>);

impl From<f64> for Angles {
    fn from(d: f64) -> Self {
        Angles(vec![-d, d])
    }
}
impl From<i32> for Angles {
    fn from(d: i32) -> Self {
        // Python negates the int, then floats it: 0 gives [0.0, 0.0].
        Angles(vec![(-d) as f64, d as f64])
    }
}
impl From<(f64, f64)> for Angles {
    fn from((lo, hi): (f64, f64)) -> Self {
        Angles(vec![lo, hi])
    }
}
impl From<(i32, i32)> for Angles {
    fn from((lo, hi): (i32, i32)) -> Self {
        Angles(vec![lo as f64, hi as f64])
    }
}
impl From<[f64; 4]> for Angles {
    fn from(v: [f64; 4]) -> Self {
        Angles(v.to_vec())
    }
}
impl From<[i32; 4]> for Angles {
    fn from(v: [i32; 4]) -> Self {
        Angles(v.iter().map(|&x| x as f64).collect())
    }
}

impl Angles {
    /// torchvision's `_setup_angle` checks: a single number is not
    /// negative, a sequence has an allowed length.
    pub(crate) fn check(&self, name: &str, what: &str, lens: &[usize]) -> Result<()> {
        if !lens.contains(&self.0.len()) {
            return Err(Error::InvalidArgument(format!(
                "{name}: {what} should be a number or a sequence of length {}, got {:?}",
                lens.iter()
                    .map(|l| l.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
                self.0
            )));
        }
        if self.0.iter().any(|x| !x.is_finite()) || (self.0.len() == 2 && self.0[0] > self.0[1]) {
            return Err(Error::InvalidArgument(format!(
                "{name}: {what} must be finite, a non-negative number or (min, max), got {}",
                py_float_list(&self.0)
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Angles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&py_float_list(&self.0))
    }
}

/// Python's `round()`: halves to even (`round(38.5) == 38`), as
/// torchvision's `int(round(...))` in `center_crop` and the `get_params`.
pub(crate) fn py_round(x: f64) -> i64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && (r as i64) % 2 != 0 {
        (r - x.signum()) as i64
    } else {
        r as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_round_goes_to_even_at_halves() {
        assert_eq!(py_round(38.5), 38);
        assert_eq!(py_round(39.5), 40);
        assert_eq!(py_round(-0.5), 0);
        assert_eq!(py_round(-1.5), -2);
        assert_eq!(py_round(2.4999), 2);
        assert_eq!(py_round(2.6), 3);
    }
}
