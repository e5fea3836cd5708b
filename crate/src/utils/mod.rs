//! Pictures for the lecture (lecture: `module.utils`): training curves,
//! image grids, feature maps, kernels, pooling and the confusion matrix.
//!
//! Every function draws with plotters into a [`Png`](crate::display::Png)
//! (text in the bundled DejaVu Sans, see
//! [`register_fonts`](crate::display::register_fonts)), which shows inline
//! when it is a notebook cell's last expression and can be
//! [`save`](crate::display::Png::save)d elsewhere.

mod classes;
mod confusion;
mod features;
mod grid;
pub(crate) mod history;
mod images;
pub(crate) mod lr_plot;
mod predict;

pub use confusion::{confusion_matrix, confusion_matrix_of, ConfusionMatrix};
pub use features::{conv_kernels, feature_maps, pooling_before_after};
pub use history::{plot_fit_result, FitCurves};
pub use images::{show_augmented, show_images, ImageGrid};
pub use predict::{predict, predict_folder, FolderPrediction, Prediction};
