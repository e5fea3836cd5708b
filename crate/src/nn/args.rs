//! The arguments layers take as PyTorch spells them (an int or an `(h, w)`
//! pair, `"same"`/`"valid"` padding), and the output-size arithmetic of
//! convolution and pooling that the lecture works through by hand.

use std::fmt;

use crate::error::{Error, Result};

/// A 2-d size given as PyTorch accepts it: one int for both dimensions or an
/// `(h, w)` pair. It remembers which, because PyTorch's printout does
/// (`MaxPool2d(kernel_size=2, …)` vs `MaxPool2d(kernel_size=(2, 3), …)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size2 {
    /// The same value for height and width (`kernel_size=3`).
    Int(i64),
    /// `(height, width)` (`kernel_size=(3, 5)`).
    Pair(i64, i64),
}

impl Size2 {
    /// `(height, width)`.
    pub fn pair(self) -> (i64, i64) {
        match self {
            Size2::Int(v) => (v, v),
            Size2::Pair(h, w) => (h, w),
        }
    }

    pub(crate) fn list(self) -> [i64; 2] {
        let (h, w) = self.pair();
        [h, w]
    }
}

impl fmt::Display for Size2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Size2::Int(v) => write!(f, "{v}"),
            Size2::Pair(h, w) => write!(f, "({h}, {w})"),
        }
    }
}

impl From<i64> for Size2 {
    fn from(v: i64) -> Self {
        Size2::Int(v)
    }
}
impl From<i32> for Size2 {
    fn from(v: i32) -> Self {
        Size2::Int(v.into())
    }
}
impl From<(i64, i64)> for Size2 {
    fn from((h, w): (i64, i64)) -> Self {
        Size2::Pair(h, w)
    }
}
impl From<(i32, i32)> for Size2 {
    fn from((h, w): (i32, i32)) -> Self {
        Size2::Pair(h.into(), w.into())
    }
}
impl From<[i64; 2]> for Size2 {
    fn from([h, w]: [i64; 2]) -> Self {
        Size2::Pair(h, w)
    }
}

/// A convolution's `padding`: `"same"`, `"valid"`, or explicit zeros on each
/// side (`padding=1` or `padding=(1, 2)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Output as large as the input (stride 1 only). For an even kernel the
    /// extra row/column of zeros goes at the bottom/right, as in PyTorch.
    Same,
    /// No padding.
    Valid,
    /// This many zeros on both sides of each dimension.
    Explicit(Size2),
}

impl Padding {
    /// Parses PyTorch's padding strings `"same"` and `"valid"`.
    pub fn parse(s: &str) -> Result<Padding> {
        match s {
            "same" => Ok(Padding::Same),
            "valid" => Ok(Padding::Valid),
            other => Err(Error::InvalidArgument(format!(
                "padding must be \"same\", \"valid\", an int or an (h, w) tuple, got {other:?}"
            ))),
        }
    }

    /// Zeros added before and after, per dimension `((top, bottom), (left, right))`,
    /// PyTorch's rule for `"same"`: total `dilation * (kernel - 1)`, the
    /// smaller half first.
    pub fn amounts(self, kernel: Size2, dilation: Size2) -> [(i64, i64); 2] {
        let (k, d) = (kernel.list(), dilation.list());
        match self {
            Padding::Valid => [(0, 0); 2],
            Padding::Explicit(p) => {
                let (h, w) = p.pair();
                [(h, h), (w, w)]
            }
            Padding::Same => {
                let one = |i: usize| {
                    let total = d[i] * (k[i] - 1);
                    (total / 2, total - total / 2)
                };
                [one(0), one(1)]
            }
        }
    }
}

impl fmt::Display for Padding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Padding::Same => f.write_str("same"),
            Padding::Valid => f.write_str("valid"),
            Padding::Explicit(p) => write!(f, "{p}"),
        }
    }
}

/// What `Conv2d::padding` and [`conv_output_size`] accept: `"same"`,
/// `"valid"`, an int, an `(h, w)` tuple or a [`Padding`].
pub trait IntoPadding {
    /// The padding, or why the value is not one.
    fn into_padding(self) -> Result<Padding>;
}

impl IntoPadding for Padding {
    fn into_padding(self) -> Result<Padding> {
        Ok(self)
    }
}
impl IntoPadding for &str {
    fn into_padding(self) -> Result<Padding> {
        Padding::parse(self)
    }
}
impl IntoPadding for String {
    fn into_padding(self) -> Result<Padding> {
        Padding::parse(&self)
    }
}
impl IntoPadding for Size2 {
    fn into_padding(self) -> Result<Padding> {
        Ok(Padding::Explicit(self))
    }
}
impl IntoPadding for i64 {
    fn into_padding(self) -> Result<Padding> {
        Ok(Padding::Explicit(self.into()))
    }
}
impl IntoPadding for i32 {
    fn into_padding(self) -> Result<Padding> {
        Ok(Padding::Explicit(self.into()))
    }
}
impl IntoPadding for (i64, i64) {
    fn into_padding(self) -> Result<Padding> {
        Ok(Padding::Explicit(self.into()))
    }
}
impl IntoPadding for (i32, i32) {
    fn into_padding(self) -> Result<Padding> {
        Ok(Padding::Explicit(self.into()))
    }
}

/// A shape as PyTorch accepts one: an int or a list of ints
/// (`LayerNorm`'s `normalized_shape`, `Unflatten`'s `unflattened_size`).
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(8.into_shape(), [8]);
/// assert_eq!([4, 5].into_shape(), [4, 5]);
/// ```
pub trait IntoShape {
    /// The sizes.
    fn into_shape(self) -> Vec<i64>;
}

impl IntoShape for i64 {
    fn into_shape(self) -> Vec<i64> {
        vec![self]
    }
}
impl IntoShape for i32 {
    fn into_shape(self) -> Vec<i64> {
        vec![self.into()]
    }
}
impl IntoShape for &[i64] {
    fn into_shape(self) -> Vec<i64> {
        self.to_vec()
    }
}
impl IntoShape for Vec<i64> {
    fn into_shape(self) -> Vec<i64> {
        self
    }
}
impl<const N: usize> IntoShape for [i64; N] {
    fn into_shape(self) -> Vec<i64> {
        self.to_vec()
    }
}
impl<const N: usize> IntoShape for [i32; N] {
    fn into_shape(self) -> Vec<i64> {
        self.iter().map(|&v| v.into()).collect()
    }
}

/// Output height and width of a convolution (`nn.Conv2d`) on an input of
/// `input` = `(h, w)`: `floor((in + pad_before + pad_after - dilation*(kernel-1) - 1) / stride) + 1`
/// per dimension. `"same"` keeps the size (stride 1 only, as in PyTorch).
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(conv_output_size(28, 3, 1, "same", 1)?, (28, 28));
/// assert_eq!(conv_output_size(28, 3, 1, "valid", 1)?, (26, 26));
/// assert_eq!(conv_output_size((28, 28), 5, 2, 1, 1)?, (13, 13));
/// assert!(conv_output_size(28, 3, 2, "same", 1).is_err());
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn conv_output_size(
    input: impl Into<Size2>,
    kernel_size: impl Into<Size2>,
    stride: impl Into<Size2>,
    padding: impl IntoPadding,
    dilation: impl Into<Size2>,
) -> Result<(i64, i64)> {
    let (kernel, stride, dilation) = (kernel_size.into(), stride.into(), dilation.into());
    let padding = padding.into_padding()?;
    if let Some(problem) = conv_problem(kernel, stride, padding, dilation) {
        return Err(Error::InvalidArgument(problem));
    }
    let pads = padding.amounts(kernel, dilation);
    let (i, k, s, d) = (
        input.into().list(),
        kernel.list(),
        stride.list(),
        dilation.list(),
    );
    let one =
        |n: usize| (i[n] + pads[n].0 + pads[n].1 - d[n] * (k[n] - 1) - 1).div_euclid(s[n]) + 1;
    let out = (one(0), one(1));
    if out.0 < 1 || out.1 < 1 {
        return Err(Error::Shape(format!(
            "convolution on a {:?} input with kernel {kernel}, stride {stride}, padding {padding}, dilation {dilation}: output size {out:?} is too small",
            (i[0], i[1])
        )));
    }
    Ok(out)
}

/// Output height and width of max pooling (`nn.MaxPool2d`), PyTorch's
/// `pooling_output_shape` including its `ceil_mode` rule (the last window
/// must start inside the input or its left padding).
///
/// ```
/// use cnn_lab::*;
/// assert_eq!(pool_output_size(28, 2, 2, 0, 1, false)?, (14, 14));
/// assert_eq!(pool_output_size(7, 2, 2, 1, 1, false)?, (4, 4));
/// assert_eq!(pool_output_size(7, 2, 2, 0, 1, true)?, (4, 4));
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn pool_output_size(
    input: impl Into<Size2>,
    kernel_size: impl Into<Size2>,
    stride: impl Into<Size2>,
    padding: impl Into<Size2>,
    dilation: impl Into<Size2>,
    ceil_mode: bool,
) -> Result<(i64, i64)> {
    let (kernel, stride, padding, dilation) = (
        kernel_size.into(),
        stride.into(),
        padding.into(),
        dilation.into(),
    );
    if let Some(problem) = pool_problem(kernel, stride, padding, dilation) {
        return Err(Error::InvalidArgument(problem));
    }
    let (i, k, s, p, d) = (
        input.into().list(),
        kernel.list(),
        stride.list(),
        padding.list(),
        dilation.list(),
    );
    let one = |n: usize| {
        let extra = if ceil_mode { s[n] - 1 } else { 0 };
        let mut out = (i[n] + 2 * p[n] - d[n] * (k[n] - 1) - 1 + extra).div_euclid(s[n]) + 1;
        if ceil_mode && (out - 1) * s[n] >= i[n] + p[n] {
            out -= 1;
        }
        out
    };
    let out = (one(0), one(1));
    if out.0 < 1 || out.1 < 1 {
        return Err(Error::Shape(format!(
            "max pooling on a {:?} input with kernel_size={kernel}, stride={stride}, padding={padding}, dilation={dilation}: output size {out:?} is too small",
            (i[0], i[1])
        )));
    }
    Ok(out)
}

fn positive(what: &str, s: Size2) -> Option<String> {
    let (h, w) = s.pair();
    (h <= 0 || w <= 0).then(|| format!("{what} must be positive, got {s}"))
}

pub(crate) fn conv_problem(
    kernel: Size2,
    stride: Size2,
    padding: Padding,
    dilation: Size2,
) -> Option<String> {
    positive("kernel_size", kernel)
        .or_else(|| positive("stride", stride))
        .or_else(|| positive("dilation", dilation))
        .or_else(|| match padding {
            Padding::Same if stride.pair() != (1, 1) => Some(format!(
                "padding='same' is not supported for strided convolutions (stride={stride})"
            )),
            Padding::Explicit(p) if p.pair().0 < 0 || p.pair().1 < 0 => {
                Some(format!("padding must be non-negative, got {p}"))
            }
            _ => None,
        })
}

pub(crate) fn pool_problem(
    kernel: Size2,
    stride: Size2,
    padding: Size2,
    dilation: Size2,
) -> Option<String> {
    positive("kernel_size", kernel)
        .or_else(|| positive("stride", stride))
        .or_else(|| positive("dilation", dilation))
        .or_else(|| {
            let (k, p, d) = (kernel.list(), padding.list(), dilation.list());
            (0..2).find_map(|n| {
                let half = ((k[n] - 1) * d[n] + 1) / 2;
                (p[n] < 0 || p[n] > half).then(|| {
                    format!(
                        "pad should be at most half of effective kernel size, but got pad={}, kernel_size={} and dilation={}",
                        p[n], k[n], d[n]
                    )
                })
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_extra_zero_after() {
        let p = Padding::Same.amounts(Size2::Pair(4, 3), Size2::Pair(1, 2));
        assert_eq!(p, [(1, 2), (2, 2)]);
    }
}
