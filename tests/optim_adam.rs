//! `Adam` against `torch.optim.Adam` (tests/python/optim_reference.py): the
//! C++ implementation and the fused one, three settings, 30 steps on the
//! same problem, same final parameters.

mod common;

use cnn_lab::{Adam, Kind, Optimizer, Tensor};

const STEPS: usize = 30;
const SHAPES: [&[i64]; 3] = [&[4, 3], &[7], &[2, 2, 2]];

fn params() -> Vec<Tensor> {
    SHAPES
        .iter()
        .enumerate()
        .map(|(k, shape)| {
            let n: i64 = shape.iter().product();
            (Tensor::arange(n, (Kind::Float, cnn_lab::Device::Cpu)) * 0.37 + k as f64)
                .sin()
                .reshape(*shape)
                .set_requires_grad(true)
        })
        .collect()
}

fn loss(ps: &[Tensor]) -> Tensor {
    ps.iter()
        .map(|p| {
            let t = (Tensor::arange(p.numel() as i64, (Kind::Float, p.device())) * 0.11)
                .cos()
                .reshape(p.size());
            (p - t).square().sum(Kind::Float) + p.pow_tensor_scalar(4).sum(Kind::Float) * 0.1
        })
        .reduce(|a, b| a + b)
        .expect("three tensors")
}

fn adam(setting: &str, params: Vec<Tensor>) -> Adam {
    match setting {
        "default" => Adam::new(params, 0.01),
        "decay_amsgrad" => Adam::new(params, 0.05).weight_decay(0.01).amsgrad(true),
        "betas_eps" => Adam::new(params, 0.02).betas(0.8, 0.99).eps(1e-6),
        other => panic!("unknown setting {other}"),
    }
}

fn run(setting: &str, fused: bool) -> (Vec<f64>, bool) {
    let ps = params();
    let mut opt = adam(setting, ps.iter().map(Tensor::shallow_clone).collect()).fused(fused);
    for _ in 0..STEPS {
        opt.zero_grad().unwrap();
        loss(&ps).backward();
        opt.step().unwrap();
    }
    (values(&ps), opt.is_fused())
}

/// The parameters' values, flattened into one list.
fn values(ps: &[Tensor]) -> Vec<f64> {
    let flat = Tensor::cat(
        &ps.iter()
            .map(|p| p.detach().flatten(0, -1))
            .collect::<Vec<_>>(),
        0,
    );
    Vec::<f64>::try_from(flat.to_kind(Kind::Double)).unwrap()
}

#[test]
fn both_implementations_match_pytorch_plain_and_fused() {
    let out = common::run_python("optim_reference.py", &[&STEPS.to_string()]);
    let mut checked = 0;
    for line in out.lines() {
        let mut words = line.split(' ');
        let (setting, fused) = (words.next().unwrap(), words.next().unwrap() == "True");
        let theirs: Vec<f64> = words.map(|v| v.parse().unwrap()).collect();
        let (mine, used_fused) = run(setting, fused);
        assert_eq!(
            used_fused, fused,
            "{setting}: Adam::fused({fused}) was not followed"
        );
        assert_eq!(mine.len(), theirs.len(), "{setting}");
        let worst = mine
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        // Float32 arithmetic in a different order: a few ulps after 30 steps.
        assert!(worst < 1e-6, "{setting} fused={fused}: off by {worst}");
        // The test must be able to fail: the steps moved the parameters.
        let start = values(&params());
        assert!(mine.iter().zip(&start).any(|(a, b)| (a - b).abs() > 0.05));
        checked += 1;
    }
    assert_eq!(checked, 6, "{out}");
}

#[test]
fn the_default_is_the_cpp_adam_on_the_cpu_and_fused_zero_grad_sets_none() {
    let ps = params();
    let mut plain = Adam::new(
        ps.iter().map(Tensor::shallow_clone).collect::<Vec<_>>(),
        0.01,
    );
    assert!(!plain.is_fused(), "CPU parameters keep libtorch's C++ Adam");
    plain.step().unwrap(); // no gradients yet: nothing to do
    assert!(!plain.is_fused());

    let mut fused = Adam::new(
        ps.iter().map(Tensor::shallow_clone).collect::<Vec<_>>(),
        0.01,
    )
    .fused(true);
    loss(&ps).backward();
    assert!(ps.iter().all(|p| p.grad().defined()));
    fused.zero_grad().unwrap();
    assert!(
        ps.iter().all(|p| !p.grad().defined()),
        "set_to_none, as PyTorch"
    );
    // No gradient: a step leaves the parameters as they are.
    let before = values(&ps);
    fused.step().unwrap();
    assert_eq!(values(&ps), before);
}
