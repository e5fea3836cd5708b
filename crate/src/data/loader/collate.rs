//! PyTorch's `default_collate` for `(image, label)` samples: both stacked
//! along a new first dimension.

use tch::Tensor;

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};

/// The samples `(index, image, label)` stacked into `(images, labels)`.
/// Images (and labels) of different shapes or kinds are an error naming
/// the first two samples that differ.
pub(crate) fn stack(
    dataset: &dyn Dataset,
    samples: Vec<(usize, Tensor, Tensor)>,
) -> Result<(Tensor, Tensor)> {
    let Some((first, x0, y0)) = samples.first() else {
        return Err(Error::InvalidArgument("DataLoader: an empty batch".into()));
    };
    for (i, x, y) in &samples[1..] {
        for (what, a, b) in [("image", x0, x), ("label", y0, y)] {
            if a.size() != b.size() || a.kind() != b.kind() {
                let name = |i: usize, t: &Tensor| match dataset.describe(i) {
                    Some(d) => format!("sample {i} ({d}): {what} {:?} {:?}", t.size(), t.kind()),
                    None => format!("sample {i}: {what} {:?} {:?}", t.size(), t.kind()),
                };
                let hint = if what == "image" && a.kind() == b.kind() {
                    " — photos of different sizes need a resize in the transforms"
                } else {
                    ""
                };
                return Err(Error::Shape(format!(
                    "DataLoader: cannot stack the samples of a batch, whose {what}s must have \
                     one shape and kind: {} but {}{hint}",
                    name(*first, a),
                    name(*i, b)
                )));
            }
        }
    }
    let images: Vec<&Tensor> = samples.iter().map(|(_, x, _)| x).collect();
    let labels: Vec<&Tensor> = samples.iter().map(|(_, _, y)| y).collect();
    Ok((Tensor::f_stack(&images, 0)?, Tensor::f_stack(&labels, 0)?))
}
