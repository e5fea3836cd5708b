//! Pretrained weights as torchvision describes them (`ResNet18_Weights.IMAGENET1K_V1`):
//! where the file comes from, what it is called in PyTorch's hub cache, and
//! how it is loaded into a model.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::nn::ModuleExt;

/// One set of published weights (torchvision's `WeightsEnum` member).
///
/// ```
/// use cnn_lab::models::Weights;
/// let w = Weights {
///     name: "Demo_Weights.IMAGENET1K_V1",
///     url: "https://download.pytorch.org/models/demo-0123abcd.pth",
///     num_classes: 1000,
/// };
/// assert_eq!(w.file_name(), "demo-0123abcd.pth");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    /// torchvision's name, `"ResNet18_Weights.IMAGENET1K_V1"`.
    pub name: &'static str,
    /// Where torchvision downloads the file from.
    pub url: &'static str,
    /// How many classes the weights' head has (`len(meta["categories"])`).
    pub num_classes: i64,
}

impl Weights {
    /// The file's name: the URL's last part, as `torch.hub` names it in its cache.
    pub fn file_name(&self) -> &'static str {
        self.url.rsplit('/').next().unwrap_or(self.url)
    }

    /// PyTorch's hub cache folder for weights: `$TORCH_HOME/hub/checkpoints`
    /// (`TORCH_HOME` defaults to `$XDG_CACHE_HOME/torch`, then `~/.cache/torch`).
    pub fn cache_dir() -> PathBuf {
        let torch_home = std::env::var_os("TORCH_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let cache = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| {
                        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
                    });
                cache.join("torch")
            });
        torch_home.join("hub").join("checkpoints")
    }

    /// The file in the hub cache, if it is there.
    pub fn state_dict_path(&self) -> Result<PathBuf> {
        let path = Self::cache_dir().join(self.file_name());
        if path.is_file() {
            Ok(path)
        } else {
            Err(Error::InvalidArgument(format!(
                "{}: {} is not in {}; download {} into that folder",
                self.name,
                self.file_name(),
                Self::cache_dir().display(),
                self.url
            )))
        }
    }

    /// Loads the weights into `model` (strict, as torchvision's
    /// `model.load_state_dict(weights.get_state_dict(...))`).
    pub fn load_into<M: ModuleExt + ?Sized>(&self, model: &M) -> Result<()> {
        crate::checkpoint::load_model(model, self.state_dict_path()?)
    }
}
