//! Parameter groups: PyTorch's
//! `optim.Adam([{"params": body, "lr": 1e-4}, {"params": head}], lr=1e-3)`.

use tch::Tensor;

use crate::error::{Error, Result};

/// One parameter group (PyTorch's `{"params": …, "lr": …}` dict): its
/// tensors and the settings in which it differs from the optimizer's
/// defaults. A setting left unset takes the optimizer's (`lr` given to
/// `new`, `weight_decay`/`momentum` from its builder methods), as a key
/// missing from PyTorch's dict does.
///
/// ```
/// use cnn_lab::{Adam, Linear, ModuleExt, Optimizer, ParamGroup};
/// let (body, head) = (Linear::new(4, 8), Linear::new(8, 2));
/// // optim.Adam([{"params": body.parameters(), "lr": 1e-4}, {"params": head.parameters()}], lr=1e-3)
/// let optimizer = Adam::new(
///     vec![ParamGroup::new(body.parameters()).lr(1e-4), ParamGroup::new(head.parameters())],
///     1e-3,
/// );
/// assert_eq!(optimizer.learning_rates(), [1e-4, 1e-3]);
/// ```
#[derive(Debug)]
pub struct ParamGroup {
    pub(crate) params: Vec<Tensor>,
    pub(crate) lr: Option<f64>,
    pub(crate) weight_decay: Option<f64>,
    pub(crate) momentum: Option<f64>,
}

impl ParamGroup {
    /// `{"params": params}`: the optimizer's settings for every key.
    pub fn new(params: Vec<Tensor>) -> ParamGroup {
        ParamGroup {
            params,
            lr: None,
            weight_decay: None,
            momentum: None,
        }
    }

    /// `"lr":` this group's learning rate.
    pub fn lr(mut self, lr: f64) -> Self {
        self.lr = Some(lr);
        self
    }

    /// `"weight_decay":` this group's L2 penalty.
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = Some(weight_decay);
        self
    }

    /// `"momentum":` this group's momentum (SGD; Adam's is `betas`, shared).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = Some(momentum);
        self
    }

    /// The group's tensors.
    pub fn params(&self) -> &[Tensor] {
        &self.params
    }
}

/// What an optimizer's `new` takes: `model.parameters()` (one group, as
/// PyTorch's `Adam(model.parameters())`) or a list of [`ParamGroup`]s.
///
/// ```
/// use cnn_lab::{ParamGroup, ParamGroups, Tensor};
/// let w = Tensor::zeros([3], cnn_lab::FLOAT_CPU);
/// let one: ParamGroups = vec![w.shallow_clone()].into();
/// let two: ParamGroups = vec![ParamGroup::new(vec![w.shallow_clone()]), ParamGroup::new(vec![])].into();
/// assert_eq!((one.len(), two.len()), (1, 2));
/// ```
#[derive(Debug)]
pub struct ParamGroups(pub(crate) Vec<ParamGroup>);

impl ParamGroups {
    /// How many groups.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<Tensor>> for ParamGroups {
    fn from(params: Vec<Tensor>) -> Self {
        ParamGroups(vec![ParamGroup::new(params)])
    }
}

impl From<Vec<ParamGroup>> for ParamGroups {
    fn from(groups: Vec<ParamGroup>) -> Self {
        ParamGroups(groups)
    }
}

impl From<ParamGroup> for ParamGroups {
    fn from(group: ParamGroup) -> Self {
        ParamGroups(vec![group])
    }
}

impl<const N: usize> From<[ParamGroup; N]> for ParamGroups {
    fn from(groups: [ParamGroup; N]) -> Self {
        ParamGroups(groups.into())
    }
}

/// The groups an optimizer holds, with the flat index PyTorch's
/// `state_dict()` gives each parameter (counted across the groups in order).
#[derive(Debug)]
pub(crate) struct Groups(pub Vec<ParamGroup>);

impl Groups {
    /// Every parameter in order, with its group.
    pub fn flat(&self) -> impl Iterator<Item = (usize, &Tensor)> {
        self.0
            .iter()
            .enumerate()
            .flat_map(|(g, group)| group.params.iter().map(move |p| (g, p)))
    }

    /// The number of parameters over all groups.
    pub fn num_params(&self) -> usize {
        self.0.iter().map(|g| g.params.len()).sum()
    }

    /// The flat index of group `g`'s first parameter.
    pub fn offset(&self, g: usize) -> usize {
        self.0[..g].iter().map(|g| g.params.len()).sum()
    }

    /// The error of an optimizer built on no parameters; PyTorch's
    /// constructor says `optimizer got an empty parameter list`.
    pub fn check_not_empty(&self, name: &str) -> Result<()> {
        if self.num_params() == 0 {
            return Err(Error::InvalidArgument(format!(
                "{name}: optimizer got an empty parameter list (the model has no trainable \
                 tensors, or the list was taken before the layers were added)"
            )));
        }
        Ok(())
    }

    /// Checks a group index.
    pub fn check_group(&self, name: &str, group: usize) -> Result<()> {
        if group >= self.0.len() {
            return Err(Error::InvalidArgument(format!(
                "{name}: no parameter group {group} (the optimizer has {})",
                self.0.len()
            )));
        }
        Ok(())
    }
}
