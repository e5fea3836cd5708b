//! The one grid layout behind every tensor picture: images, feature maps,
//! kernels and pooling are all "matrices shown as small titled tiles".

use plotters::prelude::*;
use plotters::style::RGBColor;

use crate::display::{drawing_error, register_fonts, render_png, Canvas, Png};
use crate::error::{Error, Result};

/// Title text size in pixels (readable at a notebook's default zoom).
pub(crate) const TITLE_PX: u32 = 14;
/// Height of one title line.
const LINE_PX: u32 = 18;
/// Space around each tile (twice this between neighbours).
const PAD_PX: u32 = 8;
/// Height of the whole picture's heading band.
const HEADING_PX: u32 = 30;

/// Maps a value in `[0, 1]` to a colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Palette {
    /// Black (0) to white (1): dataset images.
    Gray,
    /// Dark purple (0) through teal to yellow (1), viridis-like: activations.
    Viridis,
    /// Blue (0) through white (0.5) to red (1): signed weights, 0.5 = zero.
    Diverging,
    /// White (0) through light blue to dark blue (1): shares, counts.
    Blues,
    /// Colour photos: a tile holds three values per pixel (red, green, blue,
    /// interleaved, each in `[0, 1]`), drawn as they are.
    Rgb,
}

impl Palette {
    pub(crate) fn color(self, v: f32) -> [u8; 3] {
        let v = if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let stops: &[[f32; 3]] = match self {
            Palette::Gray | Palette::Rgb => &[[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]],
            // Five samples of matplotlib's viridis, linearly interpolated.
            Palette::Viridis => &[
                [68.0, 1.0, 84.0],
                [59.0, 82.0, 139.0],
                [33.0, 145.0, 140.0],
                [94.0, 201.0, 98.0],
                [253.0, 231.0, 37.0],
            ],
            Palette::Diverging => &[
                [33.0, 102.0, 172.0],
                [255.0, 255.0, 255.0],
                [178.0, 24.0, 43.0],
            ],
            Palette::Blues => &[
                [255.0, 255.0, 255.0],
                [107.0, 174.0, 214.0],
                [8.0, 48.0, 107.0],
            ],
        };
        let t = v * (stops.len() - 1) as f32;
        let i = (t.floor() as usize).min(stops.len() - 2);
        let f = t - i as f32;
        let mix = |k: usize| (stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f).round() as u8;
        [mix(0), mix(1), mix(2)]
    }
}

/// One matrix with its title lines.
pub(crate) struct Tile {
    /// Row-major values, already scaled to `[0, 1]` for the palette.
    pub values: Vec<f32>,
    pub height: usize,
    pub width: usize,
    /// Title lines above the tile, each with its colour.
    pub title: Vec<(String, RGBColor)>,
    /// Text written on each value (row-major), e.g. a small kernel's weights.
    pub annotations: Option<Vec<String>>,
}

/// How to lay tiles out.
pub(crate) struct Layout<'a> {
    pub columns: usize,
    /// Size in pixels of the box each matrix is stretched into (nearest
    /// neighbour, so every value stays a visible square).
    pub cell: (u32, u32),
    pub palette: Palette,
    /// A heading over the whole grid.
    pub heading: Option<&'a str>,
}

/// Width in pixels of `text` at the title size.
pub(crate) fn text_width(text: &str, px: u32) -> u32 {
    register_fonts();
    ("sans-serif", px)
        .into_font()
        .box_size(text)
        .map(|(w, _)| w)
        .unwrap_or(text.len() as u32 * px * 6 / 10)
}

/// Renders `tiles` as a grid.
pub(crate) fn render_tiles(tiles: &[Tile], layout: &Layout<'_>) -> Result<Png> {
    if tiles.is_empty() {
        return Err(Error::InvalidArgument("no images to draw".into()));
    }
    let geometry = Geometry::new(tiles, layout);
    render_png(geometry.width, geometry.height, |area| {
        if let Some(h) = layout.heading {
            let style = ("sans-serif", TITLE_PX + 2)
                .into_font()
                .color(&BLACK)
                .pos(text_anchor_center());
            area.draw(&Text::new(
                h.to_string(),
                ((geometry.width / 2) as i32, (geometry.heading_h / 2) as i32),
                style,
            ))
            .map_err(drawing_error("heading"))?;
        }
        for (k, tile) in tiles.iter().enumerate() {
            draw_tile(area, tile, geometry.origin(k), &geometry, layout)?;
        }
        Ok(())
    })
}

/// Sizes in pixels of the grid's parts.
struct Geometry {
    columns: usize,
    /// Title lines above every tile (the most any tile has).
    lines: u32,
    cell_w: u32,
    cell_h: u32,
    heading_h: u32,
    width: u32,
    height: u32,
}

impl Geometry {
    fn new(tiles: &[Tile], layout: &Layout<'_>) -> Geometry {
        let columns = layout.columns.clamp(1, tiles.len());
        let rows = tiles.len().div_ceil(columns);
        let lines = tiles.iter().map(|t| t.title.len()).max().unwrap_or(0) as u32;
        let widest_title = tiles
            .iter()
            .flat_map(|t| t.title.iter())
            .map(|(s, _)| text_width(s, TITLE_PX))
            .max()
            .unwrap_or(0);
        let (box_w, box_h) = layout.cell;
        let cell_w = box_w.max(widest_title) + 2 * PAD_PX;
        let cell_h = box_h + lines * LINE_PX + 2 * PAD_PX;
        let heading_h = if layout.heading.is_some() {
            HEADING_PX
        } else {
            0
        };
        let mut width = cell_w * columns as u32;
        if let Some(h) = layout.heading {
            width = width.max(text_width(h, TITLE_PX + 2) + 2 * PAD_PX);
        }
        Geometry {
            columns,
            lines,
            cell_w,
            cell_h,
            heading_h,
            width,
            height: heading_h + cell_h * rows as u32,
        }
    }

    /// The top-left corner of the `k`-th tile's cell.
    fn origin(&self, k: usize) -> (u32, u32) {
        (
            (k % self.columns) as u32 * self.cell_w,
            self.heading_h + (k / self.columns) as u32 * self.cell_h,
        )
    }
}

/// One tile: its title lines, the stretched matrix, any value labels and a
/// thin frame (so that black or white tiles stay visible).
fn draw_tile(
    area: &Canvas<'_>,
    tile: &Tile,
    (x0, y0): (u32, u32),
    geometry: &Geometry,
    layout: &Layout<'_>,
) -> Result<()> {
    let (box_w, box_h) = layout.cell;
    for (line, (text, color)) in tile.title.iter().enumerate() {
        let style = ("sans-serif", TITLE_PX)
            .into_font()
            .color(color)
            .pos(text_anchor_center());
        let y = y0 + PAD_PX + line as u32 * LINE_PX + LINE_PX / 2;
        area.draw(&Text::new(
            text.clone(),
            ((x0 + geometry.cell_w / 2) as i32, y as i32),
            style,
        ))
        .map_err(drawing_error("tile title"))?;
    }
    let bx = x0 + (geometry.cell_w - box_w) / 2;
    let by = y0 + PAD_PX + geometry.lines * LINE_PX;
    let rgb = stretch(tile, box_w, box_h, layout.palette);
    let element = BitMapElement::with_owned_buffer((bx as i32, by as i32), (box_w, box_h), rgb)
        .ok_or_else(|| Error::InvalidArgument("tile buffer size".into()))?;
    area.draw(&element).map_err(drawing_error("tile"))?;
    if let Some(texts) = &tile.annotations {
        annotate(area, tile, texts, (bx, by), (box_w, box_h), layout.palette)?;
    }
    area.draw(&Rectangle::new(
        [
            (bx as i32 - 1, by as i32 - 1),
            ((bx + box_w) as i32, (by + box_h) as i32),
        ],
        RGBColor(160, 160, 160).stroke_width(1),
    ))
    .map_err(drawing_error("tile frame"))?;
    Ok(())
}

/// Writes `texts[i]` centred on value `i` of `tile`, in black or white,
/// whichever stands out on that value's colour.
fn annotate(
    area: &Canvas<'_>,
    tile: &Tile,
    texts: &[String],
    (bx, by): (u32, u32),
    (box_w, box_h): (u32, u32),
    palette: Palette,
) -> Result<()> {
    let (cw, ch) = (
        box_w as f32 / tile.width as f32,
        box_h as f32 / tile.height as f32,
    );
    for (i, text) in texts.iter().enumerate().take(tile.values.len()) {
        let (r, c) = (i / tile.width, i % tile.width);
        let [red, green, blue] = palette.color(tile.values[i]);
        let light = 0.299 * red as f32 + 0.587 * green as f32 + 0.114 * blue as f32 > 140.0;
        let ink = if light { RGBColor(20, 20, 20) } else { WHITE };
        let x = bx as f32 + (c as f32 + 0.5) * cw;
        let y = by as f32 + (r as f32 + 0.5) * ch;
        let style = ("sans-serif", TITLE_PX - 2)
            .into_font()
            .color(&ink)
            .pos(text_anchor_center());
        area.draw(&Text::new(text.clone(), (x as i32, y as i32), style))
            .map_err(drawing_error("value label"))?;
    }
    Ok(())
}

fn text_anchor_center() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Center, VPos::Center)
}

/// Nearest-neighbour upscaling of a tile into an RGB buffer of `w`×`h`.
fn stretch(tile: &Tile, w: u32, h: u32, palette: Palette) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
    for y in 0..h as usize {
        let sy = (y * tile.height / h as usize).min(tile.height - 1);
        for x in 0..w as usize {
            let sx = (x * tile.width / w as usize).min(tile.width - 1);
            let at = sy * tile.width + sx;
            if palette == Palette::Rgb {
                let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                let px = tile.values.get(at * 3..at * 3 + 3).unwrap_or(&[0.0; 3]);
                rgb.extend_from_slice(&[byte(px[0]), byte(px[1]), byte(px[2])]);
            } else {
                rgb.extend_from_slice(&palette.color(tile.values[at]));
            }
        }
    }
    rgb
}

/// Scales `values` to `[0, 1]` by their own minimum and maximum (a constant
/// matrix becomes all 0, so a dead channel looks dark rather than random).
pub(crate) fn min_max(values: &[f32]) -> Vec<f32> {
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return vec![0.0; values.len()];
    }
    values.iter().map(|v| (v - lo) / (hi - lo)).collect()
}
