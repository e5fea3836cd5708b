//! The lecture's pictures: decoded, sized, not blank, coloured as promised.
//! Each is also saved once to `target/pictures/` for a human to look at.

mod common;

use std::io::Read;

use cnn_lab::*;

struct Decoded {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Decoded {
    fn of(png: &Png) -> Decoded {
        let mut reader = png::Decoder::new(png.bytes())
            .read_info()
            .expect("PNG header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("PNG data");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        assert_eq!((info.width, info.height), (png.width(), png.height()));
        Decoded {
            width: info.width,
            height: info.height,
            rgb: buf,
        }
    }

    fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y * self.width + x) as usize * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Pixels within a small distance of `color` in the columns `xs`.
    fn count_near(&self, color: [u8; 3], xs: std::ops::Range<u32>) -> usize {
        let mut n = 0;
        for y in 0..self.height {
            for x in xs.clone() {
                let p = self.pixel(x, y);
                let d: i32 = (0..3).map(|k| (p[k] as i32 - color[k] as i32).abs()).sum();
                if d < 30 {
                    n += 1;
                }
            }
        }
        n
    }

    fn non_white(&self) -> usize {
        self.rgb.chunks(3).filter(|p| p != &[255, 255, 255]).count()
    }
}

fn save(png: &Png, name: &str) {
    let dir = common::repo_root().join("target/pictures");
    std::fs::create_dir_all(&dir).unwrap();
    png.save(dir.join(name)).unwrap();
}

const TRAIN_BLUE: [u8; 3] = [31, 119, 180];
const VAL_ORANGE: [u8; 3] = [255, 127, 14];
const WRONG_RED: [u8; 3] = [210, 20, 20];

#[test]
fn plot_fit_result_draws_train_and_validation_in_both_charts() {
    let png = plot_fit_result(&(
        &[0.62, 0.31, 0.24, 0.20, 0.17],
        &[0.78, 0.89, 0.91, 0.93, 0.94],
        &[0.40, 0.30, 0.27, 0.26, 0.27],
        &[0.85, 0.89, 0.90, 0.91, 0.905],
    ))
    .unwrap();
    save(&png, "fit_result.png");
    let d = Decoded::of(&png);
    assert_eq!((d.width, d.height), (1000, 400));
    assert!(d.non_white() > 10_000, "{} non-white pixels", d.non_white());
    let half = d.width / 2;
    for (chart, xs) in [("loss", 0..half), ("accuracy", half..d.width)] {
        let blue = d.count_near(TRAIN_BLUE, xs.clone());
        let orange = d.count_near(VAL_ORANGE, xs);
        assert!(
            blue > 300 && orange > 300,
            "{chart}: blue {blue}, orange {orange}"
        );
    }
}

#[test]
fn plot_fit_result_shows_a_single_epoch_as_markers() {
    let png = plot_fit_result(&(&[0.5], &[0.8], &[0.45], &[0.82])).unwrap();
    save(&png, "fit_result_one_epoch.png");
    let d = Decoded::of(&png);
    let half = d.width / 2;
    for xs in [0..half, half..d.width] {
        // A 4-pixel-radius dot has about 50 pixels; the legend's line is
        // 20×2 more. Without markers only the legend would be there.
        assert!(d.count_near(TRAIN_BLUE, xs.clone()) > 70);
        assert!(d.count_near(VAL_ORANGE, xs) > 70);
    }
}

#[test]
fn plot_fit_result_skips_nan_epochs() {
    let png = plot_fit_result(&(
        &[0.5, f64::NAN, 0.3],
        &[0.8, 0.1, 0.9],
        &[0.4, 0.35, 0.3],
        &[0.8, 0.85, 0.9],
    ))
    .unwrap();
    let d = Decoded::of(&png);
    assert!(d.count_near(TRAIN_BLUE, 0..d.width / 2) > 70);
}

#[test]
fn plot_fit_result_names_the_bad_history() {
    let err = plot_fit_result(&(&[1.0], &[0.5], &[1.0], &[0.0f64; 0])).unwrap_err();
    assert!(err.to_string().contains("val_acc is empty"), "{err}");
    let err = plot_fit_result(&(&[1.0, 0.5], &[0.5, 0.6], &[1.0], &[0.5, 0.6])).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("val_loss has 1 values but train_loss has 2"),
        "{text}"
    );
}

/// The first `n` images and labels of a gzipped IDX split.
fn idx_head(dataset: &str, split: &str, n: usize) -> (Tensor, Tensor) {
    let raw = common::datasets_root().join(dataset).join("raw");
    let read = |name: String| {
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(raw.join(&name)).unwrap())
            .read_to_end(&mut bytes)
            .unwrap();
        bytes
    };
    let images = read(format!("{split}-images-idx3-ubyte.gz"));
    let labels = read(format!("{split}-labels-idx1-ubyte.gz"));
    let pixels = &images[16..16 + n * 784];
    let x = Tensor::from_slice(pixels)
        .reshape([n as i64, 1, 28, 28])
        .to_kind(Kind::Float)
        / 255.0;
    let y = Tensor::from_slice(&labels[8..8 + n]).to_kind(Kind::Int64);
    (x, y)
}

const FASHION: [&str; 10] = cnn_lab::FashionMNIST::CLASSES;

#[test]
fn show_images_grid_has_requested_layout_and_marks_wrong_predictions_red() {
    let (x, y) = idx_head("FashionMNIST", "t10k", 12);
    let plain = show_images(&x, &y)
        .class_names(&FASHION)
        .columns(6)
        .render()
        .unwrap();
    save(&plain, "images.png");
    let d = Decoded::of(&plain);
    assert!(d.non_white() > 20_000);
    assert_eq!(d.count_near(WRONG_RED, 0..d.width), 0);

    // Normalised input (MNIST's mean/std) draws like the [0, 1] original.
    let normalised = show_images(&((&x - 0.1307) / 0.3081), &y)
        .class_names(&FASHION)
        .columns(6)
        .render()
        .unwrap();
    assert_eq!(normalised.width(), plain.width());
    let n = Decoded::of(&normalised);
    let differing = n
        .rgb
        .iter()
        .zip(&d.rgb)
        .filter(|(a, b)| a.abs_diff(**b) > 2)
        .count();
    assert!(differing < d.rgb.len() / 100, "{differing} bytes differ");

    // uint8 pixels are divided by 255, not stretched.
    let bytes = (&x * 255.0).round().to_kind(Kind::Uint8);
    let from_bytes = show_images(&bytes, &y)
        .class_names(&FASHION)
        .columns(6)
        .render()
        .unwrap();
    assert_eq!(from_bytes.bytes(), plain.bytes());

    let all_right = show_images(&x, &y)
        .predictions(&y)
        .columns(6)
        .render()
        .unwrap();
    assert_eq!(
        Decoded::of(&all_right).count_near(WRONG_RED, 0..all_right.width()),
        0
    );

    let mut p = Vec::<i64>::try_from(&y).unwrap();
    p[1] = (p[1] + 1) % 10;
    p[7] = (p[7] + 3) % 10;
    let preds = Tensor::from_slice(&p);
    let marked = show_images(&x, &y)
        .predictions(&preds)
        .class_names(&FASHION)
        .columns(6)
        .render()
        .unwrap();
    save(&marked, "images_predictions.png");
    let m = Decoded::of(&marked);
    // Only the two wrong tiles' titles are red: tile 1 in the first row,
    // tile 7 (second column) in the second row.
    let cell_w = m.width / 6;
    let red_in = |col: u32| m.count_near(WRONG_RED, col * cell_w..(col + 1) * cell_w);
    assert!(red_in(1) > 50, "{}", red_in(1));
    for col in [0, 2, 3, 4, 5] {
        assert_eq!(red_in(col), 0, "column {col}");
    }
}

#[test]
fn show_images_errors_name_the_mismatch() {
    let x = Tensor::rand([3, 28, 28], (Kind::Float, Device::Cpu));
    let err = show_images(&x, &Tensor::from_slice(&[1i64, 2]))
        .render()
        .unwrap_err();
    assert!(err.to_string().contains("3 images but 2 labels"), "{err}");
    let err = show_images(
        &Tensor::rand([3, 2, 28, 28], (Kind::Float, Device::Cpu)),
        &x,
    )
    .render()
    .unwrap_err();
    assert!(err.to_string().contains("[3, 2, 28, 28]"), "{err}");
}

/// A small conv layer written over tch ops: identity, horizontal and
/// vertical Sobel, and their ReLU'd sum.
struct EdgeConv {
    weight: Tensor,
}

impl EdgeConv {
    fn new() -> EdgeConv {
        let k: [f32; 36] = [
            0., 0., 0., 0., 1., 0., 0., 0., 0., //
            -1., 0., 1., -2., 0., 2., -1., 0., 1., //
            -1., -2., -1., 0., 0., 0., 1., 2., 1., //
            1., 1., 1., 1., -8., 1., 1., 1., 1.,
        ];
        EdgeConv {
            weight: Tensor::from_slice(&k).reshape([4, 1, 3, 3]),
        }
    }
}

impl Module for EdgeConv {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        xs.conv2d(&self.weight, None::<Tensor>, [1], [1], [1], 1)
            .relu()
    }
}

struct Pool;
impl Module for Pool {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        xs.max_pool2d_default(2)
    }
    fn type_name(&self) -> String {
        "MaxPool2d".into()
    }
}

#[test]
fn feature_maps_kernels_and_pooling_of_a_real_digit() {
    let (x, _) = idx_head("MNIST", "train", 1);
    let image = x.get(0);
    let maps = feature_maps(&EdgeConv::new(), &image).unwrap();
    save(&maps, "feature_maps.png");
    let d = Decoded::of(&maps);
    assert!(d.non_white() > 4 * 80 * 80, "{}", d.non_white());
    // Four tiles in one row: as wide as four cells, not eight.
    assert!(d.width < 4 * 140, "{}", d.width);

    let kernels = conv_kernels(&EdgeConv::new().weight, 0).unwrap();
    save(&kernels, "kernels.png");
    let k = Decoded::of(&kernels);
    // One colour scale for all: -8, the most negative weight, is the
    // palette's full blue and sits only in the last tile (out 3); the
    // identity kernel (out 0) has no negative weight, so no blue at all.
    let blue = [33, 102, 172];
    let tile = k.width.min(4 * 112) / 4;
    assert!(k.count_near(blue, 3 * tile..4 * tile) > 500);
    assert_eq!(k.count_near(blue, 0..3 * tile), 0);

    let pooled = pooling_before_after(&Pool, &image).unwrap();
    save(&pooled, "pooling.png");
    let p = Decoded::of(&pooled);
    assert!(p.non_white() > 2 * 150 * 150);
}

/// A conv layer with `n` random 3×3 kernels that owns its weight, so
/// `feature_maps` can find its device.
struct RandomConv {
    weight: Tensor,
}

impl Module for RandomConv {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        xs.conv2d(&self.weight, None::<Tensor>, [1], [1], [1], 1)
    }
    fn own_tensors(&self) -> Vec<NamedTensor> {
        vec![NamedTensor {
            name: "weight".into(),
            tensor: self.weight.shallow_clone(),
            trainable: true,
        }]
    }
}

#[test]
fn feature_maps_draw_at_most_64_channels_eight_per_row() {
    tch::manual_seed(0);
    let image = Tensor::rand([28, 28], (Kind::Float, Device::Cpu));
    let height = |n: i64| {
        let layer = RandomConv {
            weight: Tensor::randn([n, 1, 3, 3], (Kind::Float, Device::Cpu)),
        };
        let png = feature_maps(&layer, &image).unwrap();
        Decoded::of(&png);
        (png.width(), png.height())
    };
    let (w8, h8) = height(8);
    let (w70, h70) = height(70);
    assert_eq!(w70, w8);
    // 30 px of heading, then 8 rows of the one row that 8 channels need.
    assert_eq!(h70 - 30, 8 * (h8 - 30));
}

#[test]
fn feature_maps_report_layer_errors_instead_of_panicking() {
    struct Flatten;
    impl Module for Flatten {
        fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
            xs.flatten(1, -1)
        }
    }
    let image = Tensor::rand([1, 28, 28], (Kind::Float, Device::Cpu));
    let err = feature_maps(&Flatten, &image).unwrap_err().to_string();
    assert!(err.contains("returned shape [1, 784]"), "{err}");

    let three_channels = EdgeConv::new(); // expects 1 input channel
    let rgb = Tensor::rand([3, 28, 28], (Kind::Float, Device::Cpu));
    let err = feature_maps(&three_channels, &rgb).unwrap_err().to_string();
    assert!(
        err.starts_with("feature_maps: EdgeConv forward pass:"),
        "{err}"
    );

    let err = conv_kernels(&Tensor::zeros([4, 3], (Kind::Float, Device::Cpu)), 0).unwrap_err();
    assert!(err.to_string().contains("[4, 3]"), "{err}");
}

#[test]
fn confusion_matrix_matches_torch_bincount() {
    let preds: Vec<i64> = (0..200).map(|i| (i * 7 + i / 3) % 10).collect();
    let labels: Vec<i64> = (0..200).map(|i| (i * 3) % 10).collect();
    let join = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let expected = common::run_python("utils_confusion.py", &["10", &join(&preds), &join(&labels)]);
    let expected: Vec<Vec<i64>> = expected
        .trim()
        .trim_start_matches("[[")
        .trim_end_matches("]]")
        .split("], [")
        .map(|row| row.split(", ").map(|v| v.parse().unwrap()).collect())
        .collect();
    let cm = confusion_matrix(
        &Tensor::from_slice(&preds),
        &Tensor::from_slice(&labels),
        10,
    )
    .unwrap();
    assert_eq!(cm.counts, expected);

    // [N, C] scores count by their arg-max.
    let scores = Tensor::from_slice(&preds).one_hot(10).to_kind(Kind::Float);
    let from_scores = confusion_matrix(&scores, &Tensor::from_slice(&labels), 10).unwrap();
    assert_eq!(from_scores.counts, expected);

    let err = confusion_matrix(
        &Tensor::from_slice(&[0i64, 12]),
        &Tensor::from_slice(&[0i64, 1]),
        10,
    )
    .unwrap_err();
    assert!(err.to_string().contains("prediction 12"), "{err}");
}

/// A nearest-class-mean classifier (scores = minus squared distance to each
/// class's mean training image) that records the mode it ran in.
struct NearestMean {
    means: Tensor,
    saw_train: std::cell::Cell<bool>,
    saw_grad: std::cell::Cell<bool>,
    probe: Tensor,
}

impl NearestMean {
    fn fit(x: &Tensor, y: &Tensor) -> NearestMean {
        let flat = x.flatten(1, -1);
        let means: Vec<Tensor> = (0..10)
            .map(|c| {
                flat.index_select(0, &y.eq(c).nonzero().squeeze_dim(1))
                    .mean_dim(0, false, Kind::Float)
            })
            .collect();
        NearestMean {
            means: Tensor::stack(&means, 0),
            saw_train: false.into(),
            saw_grad: false.into(),
            probe: Tensor::ones([1], (Kind::Float, Device::Cpu)).set_requires_grad(true),
        }
    }
}

impl Module for NearestMean {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.saw_train.set(self.saw_train.get() | train);
        self.saw_grad
            .set(self.saw_grad.get() | (&self.probe * 2.0).requires_grad());
        -Tensor::cdist(&xs.flatten(1, -1), &self.means, 2.0, None::<i64>)
    }
}

#[test]
fn confusion_matrix_of_runs_the_model_over_the_loader_in_eval_mode() {
    let (train_x, train_y) = idx_head("FashionMNIST", "train", 2000);
    let model = NearestMean::fit(&train_x, &train_y);
    let (x, y) = idx_head("FashionMNIST", "t10k", 500);
    let loader = DataLoader::new(x.shallow_clone(), y.shallow_clone(), 64).unwrap();
    let cm = confusion_matrix_of(&model, &loader, 10)
        .unwrap()
        .class_names(&FASHION);
    assert!(!model.saw_train.get(), "model ran in train mode");
    assert!(!model.saw_grad.get(), "gradients were recorded");
    let direct = confusion_matrix(&model.forward_t(&x, false), &y, 10).unwrap();
    assert_eq!(cm.counts, direct.counts);
    assert_eq!(cm.counts.iter().flatten().sum::<i64>(), 500);
    let direct_acc = model
        .forward_t(&x, false)
        .argmax(1, false)
        .eq_tensor(&y)
        .to_kind(Kind::Double)
        .mean(Kind::Double)
        .double_value(&[]);
    assert!(
        (cm.accuracy() - direct_acc).abs() < 1e-12,
        "{} vs {direct_acc}",
        cm.accuracy()
    );
    assert!(direct_acc > 0.5, "nearest-mean accuracy {direct_acc}");

    let png = cm.plot().unwrap();
    save(&png, "confusion.png");
    let d = Decoded::of(&png);
    assert!(d.non_white() > 10_000);
}
