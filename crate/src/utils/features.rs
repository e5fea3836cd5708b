//! What a CNN layer sees and does: feature maps, kernels, pooling (the
//! lecture's "Feature Map" and pooling parts).

use plotters::style::RGBColor;
use tch::Tensor;

use super::classes::to_vec;
use super::grid::{min_max, render_tiles, Layout, Palette, Tile};
use crate::display::Png;
use crate::error::{catch_torch, Error, Result};
use crate::nn::{Module, ModuleExt};
use crate::pyfmt::dims_text;

const TITLE_COLOR: RGBColor = RGBColor(20, 20, 20);
/// At most this many channels are drawn (the first ones).
const MAX_CHANNELS: usize = 64;
/// Side of the box a small matrix is stretched into.
const BOX_PX: u32 = 112;

/// `image` as one batch of one: `[H,W]`, `[C,H,W]` or `[1,C,H,W]` → `[1,C,H,W]`.
fn as_batch_of_one(image: &Tensor, what: &str) -> Result<Tensor> {
    let size = image.size();
    match size.len() {
        2 => Ok(image.f_unsqueeze(0)?.f_unsqueeze(0)?),
        3 => Ok(image.f_unsqueeze(0)?),
        4 if size[0] == 1 => Ok(image.shallow_clone()),
        _ => Err(Error::Shape(format!(
            "{what}: expected one image [H, W], [C, H, W] or [1, C, H, W], got {size:?}"
        ))),
    }
}

/// Runs `layer` on one image (moved to the device of the layer's first
/// parameter, if it has one) in eval mode without gradients; the output
/// must be `[1, C, H, W]`.
fn run_layer(layer: &dyn Module, image: &Tensor, what: &str) -> Result<(Tensor, Tensor)> {
    let mut input = as_batch_of_one(image, what)?;
    // A dataset image lives on the CPU while the model may be on the GPU.
    if let Some(first) = layer.named_tensors().first() {
        input = input.f_to_device(first.tensor.device())?;
    }
    let context = format!("{what}: {} forward pass", layer.type_name());
    let output = catch_torch(&context, || {
        let _guard = tch::no_grad_guard();
        layer.forward_t(&input, false)
    })?;
    if output.dim() != 4 {
        return Err(Error::Shape(format!(
            "{what}: {} returned shape {:?}; expected feature maps [1, C, H, W]",
            layer.type_name(),
            output.size()
        )));
    }
    Ok((input, output))
}

/// A box that makes an `h`×`w` matrix about [`BOX_PX`] on its long side,
/// in whole pixels per value.
fn box_for(h: usize, w: usize) -> (u32, u32) {
    let s = (BOX_PX / h.max(w).max(1) as u32).max(1);
    (w as u32 * s, h as u32 * s)
}

/// `[1, C, H, W]` → `C` row-major matrices.
fn channels(t: &Tensor, what: &str) -> Result<(Vec<Vec<f32>>, usize, usize)> {
    let size = t.size();
    let (h, w) = (size[2] as usize, size[3] as usize);
    let values = to_vec::<f32>(t, what)?;
    Ok((values.chunks(h * w).map(<[f32]>::to_vec).collect(), h, w))
}

/// The output channels of `layer` for one `image`, as a grid (each channel
/// scaled by its own minimum and maximum; dark purple = low, yellow = high).
///
/// `layer` is any [`Module`]: a single `Conv2d`, a block, or the first part
/// of a model. `image` is `[H, W]`, `[C, H, W]` or `[1, C, H, W]`; the
/// layer runs in eval mode without gradients, and its output must be
/// `[1, C, H, W]`. At most the first 64 channels are drawn, 8 per row.
///
/// ```
/// use cnn_lab::*;
///
/// struct Edges;
/// impl Module for Edges {
///     fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
///         let k = Tensor::from_slice(&[-1f32, 0., 1., -2., 0., 2., -1., 0., 1.])
///             .reshape([1, 1, 3, 3]);
///         xs.conv2d(&k, None::<Tensor>, [1], [1], [1], 1)
///     }
/// }
/// let image = Tensor::rand([28, 28], (Kind::Float, Device::Cpu));
/// let png = feature_maps(&Edges, &image)?;
/// assert!(png.height() > 0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn feature_maps(layer: &dyn Module, image: &Tensor) -> Result<Png> {
    let (_, output) = run_layer(layer, image, "feature_maps")?;
    let (maps, h, w) = channels(&output, "feature_maps: output")?;
    let total = maps.len();
    let tiles: Vec<Tile> = maps
        .into_iter()
        .take(MAX_CHANNELS)
        .enumerate()
        .map(|(c, m)| Tile {
            values: min_max(&m),
            height: h,
            width: w,
            title: vec![(format!("ch {c}"), TITLE_COLOR)],
            annotations: None,
        })
        .collect();
    let shown = if total > MAX_CHANNELS {
        format!(", first {MAX_CHANNELS} shown")
    } else {
        String::new()
    };
    let heading = format!(
        "{} output {} ({total} feature maps of {h}×{w}{shown})",
        layer.type_name(),
        dims_text(&output.size())
    );
    render_tiles(
        &tiles,
        &Layout {
            columns: 8,
            cell: box_for(h, w),
            palette: Palette::Viridis,
            heading: Some(&heading),
        },
    )
}

/// The kernels of a convolution weight `[out, in, kh, kw]` (e.g. a
/// `Conv2d`'s `weight`): one tile per output channel, for input channel
/// `in_channel`, on one colour scale shared by all tiles — blue negative,
/// white zero, red positive. At most the first 64 output channels are drawn.
///
/// ```
/// use cnn_lab::*;
///
/// let weight = Tensor::randn([8, 1, 3, 3], (Kind::Float, Device::Cpu));
/// let png = conv_kernels(&weight, 0)?;
/// assert!(png.width() > 0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn conv_kernels(weight: &Tensor, in_channel: usize) -> Result<Png> {
    let size = weight.size();
    let [out, inp, kh, kw] = size[..] else {
        return Err(Error::Shape(format!(
            "conv_kernels: expected a weight [out, in, kh, kw], got {size:?}"
        )));
    };
    if in_channel as i64 >= inp {
        return Err(Error::InvalidArgument(format!(
            "conv_kernels: in_channel {in_channel} out of range for weight {size:?} \
             ({inp} input channels)"
        )));
    }
    let slice = weight.f_select(1, in_channel as i64)?;
    let values = to_vec::<f32>(&slice, "conv_kernels: weight")?;
    let bound = values
        .iter()
        .fold(0f32, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
    let bound = if bound > 0.0 { bound } else { 1.0 };
    let (kh, kw) = (kh as usize, kw as usize);
    let tiles: Vec<Tile> = values
        .chunks(kh * kw)
        .take(MAX_CHANNELS)
        .enumerate()
        .map(|(o, k)| Tile {
            values: k.iter().map(|v| 0.5 + v / (2.0 * bound)).collect(),
            height: kh,
            width: kw,
            title: vec![(format!("out {o}"), TITLE_COLOR)],
            // Up to 5×5 the weights fit as numbers, which is what the
            // lecture's "a kernel is a small matrix" needs.
            annotations: (kh <= 5 && kw <= 5)
                .then(|| k.iter().map(|v| format!("{v:.2}")).collect()),
        })
        .collect();
    let heading = format!(
        "{out} kernels {kh}×{kw} (weight {}, input channel {in_channel}), \
         blue < 0 < red, |max| = {bound:.3}",
        dims_text(&size)
    );
    render_tiles(
        &tiles,
        &Layout {
            columns: 8,
            cell: box_for(kh, kw),
            palette: Palette::Diverging,
            heading: Some(&heading),
        },
    )
}

/// A pooling layer's input and output side by side, drawn at the same size
/// so that the coarser grid is visible, with their sizes in the titles
/// (the lecture's `MaxPool2d` part). Input and output of a channel share one
/// gray scale. `image` is `[H, W]`, `[C, H, W]` or `[1, C, H, W]`; at most
/// the first 4 channels are drawn, one per row.
///
/// ```
/// use cnn_lab::*;
///
/// struct Pool;
/// impl Module for Pool {
///     fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
///         xs.max_pool2d_default(2)
///     }
/// }
/// let image = Tensor::rand([1, 28, 28], (Kind::Float, Device::Cpu));
/// let png = pooling_before_after(&Pool, &image)?;
/// assert!(png.width() > 0);
/// # Ok::<(), cnn_lab::Error>(())
/// ```
pub fn pooling_before_after(pool: &dyn Module, image: &Tensor) -> Result<Png> {
    let (input, output) = run_layer(pool, image, "pooling_before_after")?;
    let (before, h, w) = channels(&input, "pooling_before_after: input")?;
    let (after, oh, ow) = channels(&output, "pooling_before_after: output")?;
    let mut tiles = Vec::new();
    for (c, (b, a)) in before.iter().zip(&after).take(4).enumerate() {
        // One scale for both so that a kept maximum keeps its shade.
        let joint = min_max(&[b.as_slice(), a.as_slice()].concat());
        let (b_scaled, a_scaled) = joint.split_at(b.len());
        tiles.push(Tile {
            values: b_scaled.to_vec(),
            height: h,
            width: w,
            title: vec![(format!("ch {c} before: {h}×{w}"), TITLE_COLOR)],
            annotations: None,
        });
        tiles.push(Tile {
            values: a_scaled.to_vec(),
            height: oh,
            width: ow,
            title: vec![(format!("ch {c} after: {oh}×{ow}"), TITLE_COLOR)],
            annotations: None,
        });
    }
    let heading = format!(
        "{}: {} → {}",
        pool.type_name(),
        dims_text(&input.size()),
        dims_text(&output.size())
    );
    let side = (2 * BOX_PX / h.max(w).max(1) as u32).max(1);
    render_tiles(
        &tiles,
        &Layout {
            columns: 2,
            cell: (w as u32 * side, h as u32 * side),
            palette: Palette::Gray,
            heading: Some(&heading),
        },
    )
}
