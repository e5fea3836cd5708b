//! Parameter groups, frozen parameters and SGD against `torch.optim`
//! (tests/python/optim_groups_reference.py): the same two-layer net, initial
//! weights and batch, trained a few steps by each case's optimizer, ends
//! with PyTorch's weights within 1e-6 — SGD with momentum, dampening,
//! Nesterov and weight decay, groups with their own `lr`/`momentum`/
//! `weight_decay`, Adam (both implementations) with groups; a frozen layer
//! stays bit for bit as it was. And every scheduler sets each group's rate
//! as PyTorch's `param_groups[i]["lr"]` through 30 steps.

mod common;

use std::collections::HashMap;

use cnn_lab::optim::lr_scheduler::LrScheduler;
use cnn_lab::{
    load_state_dict, Adam, CosineAnnealingLR, CrossEntropyLoss, ExponentialLR, Linear, Loss,
    Module, ModuleExt, MultiStepLR, OneCycleLR, Optimizer, ParamGroup, ReLU, ReduceLROnPlateau,
    Sequential, StepLR, Tensor, SGD,
};
use serde_json::Value;

const STEPS: usize = 5;

fn reference() -> (HashMap<String, Tensor>, Value) {
    let dir = common::scratch_dir("optim_groups");
    let out = common::run_python(
        "optim_groups_reference.py",
        &[dir.to_str().unwrap(), &STEPS.to_string()],
    );
    let tensors = Tensor::read_safetensors(dir.join("optim_groups.safetensors"))
        .unwrap()
        .into_iter()
        .collect();
    (
        tensors,
        serde_json::from_str(&out).expect("one JSON object"),
    )
}

fn state(all: &HashMap<String, Tensor>, prefix: &str) -> Vec<(String, Tensor)> {
    ["0.weight", "0.bias", "2.weight", "2.bias"]
        .iter()
        .map(|k| (k.to_string(), all[&format!("{prefix}.{k}")].shallow_clone()))
        .collect()
}

fn net(all: &HashMap<String, Tensor>) -> Sequential {
    let net = Sequential::new()
        .add(Linear::new(4, 3))
        .add(ReLU::new())
        .add(Linear::new(3, 2));
    load_state_dict(&net, &state(all, "init")).unwrap();
    net
}

fn cat(a: Vec<Tensor>, b: Vec<Tensor>) -> Vec<Tensor> {
    a.into_iter().chain(b).collect()
}

fn shallow(tensors: &[Tensor]) -> Vec<Tensor> {
    tensors.iter().map(Tensor::shallow_clone).collect()
}

type Make = fn(Vec<Tensor>, Vec<Tensor>) -> Box<dyn Optimizer>;

fn cases() -> Vec<(&'static str, bool, Make)> {
    vec![
        ("sgd_plain", false, |b, h| {
            Box::new(SGD::new(cat(b, h), 0.1))
        }),
        ("sgd_momentum", false, |b, h| {
            Box::new(SGD::new(cat(b, h), 0.1).momentum(0.9))
        }),
        ("sgd_dampening", false, |b, h| {
            Box::new(SGD::new(cat(b, h), 0.1).momentum(0.9).dampening(0.3))
        }),
        ("sgd_nesterov_wd", false, |b, h| {
            Box::new(
                SGD::new(cat(b, h), 0.05)
                    .momentum(0.9)
                    .nesterov(true)
                    .weight_decay(0.01),
            )
        }),
        ("sgd_groups", false, |b, h| {
            Box::new(
                SGD::new(
                    vec![
                        ParamGroup::new(b).lr(0.01).momentum(0.5),
                        ParamGroup::new(h),
                    ],
                    0.1,
                )
                .momentum(0.9)
                .weight_decay(1e-3),
            )
        }),
        ("sgd_frozen", true, |b, h| {
            Box::new(SGD::new(cat(b, h), 0.1).momentum(0.9).weight_decay(0.01))
        }),
        ("adam_groups", false, |b, h| {
            Box::new(Adam::new(
                vec![
                    ParamGroup::new(b).lr(1e-3),
                    ParamGroup::new(h).weight_decay(0.01),
                ],
                1e-2,
            ))
        }),
        ("adam_frozen", true, |b, h| {
            Box::new(
                Adam::new(vec![ParamGroup::new(b).lr(1e-3), ParamGroup::new(h)], 1e-2)
                    .weight_decay(0.01),
            )
        }),
    ]
}

#[test]
fn optimizers_with_groups_and_frozen_layers_match_pytorch() {
    let (all, _) = reference();
    let (x, y) = (&all["x"], &all["y"]);
    let mut worst = 0.0f64;
    let mut runs = 0;
    for (name, freeze, make) in cases() {
        // Adam runs both ways: libtorch's C++ step and the fused one.
        for fused in [false, true] {
            if fused && !name.starts_with("adam") {
                continue;
            }
            let model = net(&all);
            let (body, head) = (model[0].parameters(), model[2].parameters());
            if freeze {
                model[0].requires_grad_(false);
            }
            let before: Vec<Tensor> = body.iter().map(|t| t.detach().copy()).collect();
            let mut opt = make(shallow(&body), shallow(&head));
            if fused {
                // The same groups, through Adam's fused step.
                opt.keep_state_readable().unwrap();
            }
            for _ in 0..STEPS {
                opt.zero_grad().unwrap();
                CrossEntropyLoss::new()
                    .forward(&model.forward_t(x, true), y)
                    .backward();
                opt.step().unwrap();
            }
            for (k, want) in state(&all, name) {
                let got = model
                    .state_dict()
                    .into_iter()
                    .find(|(n, _)| *n == k)
                    .unwrap()
                    .1;
                let diff = common::max_abs_diff(&got, &want);
                worst = worst.max(diff);
                assert!(diff <= 1e-6, "{name} (fused {fused}) {k}: |diff| {diff:e}");
            }
            if freeze {
                for (b, t) in before.iter().zip(&body) {
                    assert!(b.equal(t), "{name}: a frozen tensor changed");
                }
            } else {
                assert!(!before[0].equal(&body[0]), "{name}: the body did not train");
            }
            runs += 1;
        }
    }
    assert_eq!(runs, 10);
    println!("{runs} optimizer runs, {STEPS} steps: max |diff| vs torch = {worst:e}");
}

fn scheduler(name: &str) -> Box<dyn LrScheduler> {
    match name {
        "StepLR" => Box::new(StepLR::new(4).gamma(0.5)),
        "MultiStepLR" => Box::new(MultiStepLR::new([3, 8, 8, 20]).gamma(0.3)),
        "ExponentialLR" => Box::new(ExponentialLR::new(0.87)),
        "CosineAnnealingLR" => Box::new(CosineAnnealingLR::new(12).eta_min(0.001)),
        "OneCycleLR" => Box::new(OneCycleLR::new([0.005, 0.05]).total_steps(30)),
        "OneCycleLR_one_max" => Box::new(OneCycleLR::new(0.05).total_steps(30).three_phase(true)),
        "ReduceLROnPlateau" => Box::new(
            ReduceLROnPlateau::new()
                .patience(1)
                .factor(0.5)
                .min_lr([0.004, 0.0]),
        ),
        other => panic!("unknown case {other}"),
    }
}

#[test]
fn every_scheduler_sets_each_groups_rate_as_pytorch() {
    let (_, rates) = reference();
    let metrics: Vec<f64> = rates["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_f64().unwrap())
        .collect();
    let mut cases = 0;
    for (name, want) in rates.as_object().unwrap() {
        if name == "metrics" {
            continue;
        }
        cases += 1;
        let want_lrs: Vec<Vec<f64>> = serde_json::from_value(want["lrs"].clone()).unwrap();
        let want_m: Vec<f64> = serde_json::from_value(want["momentum"].clone()).unwrap();
        // The optimizer the schedule drives, as fit drives it.
        let w = || vec![Tensor::zeros([1], cnn_lab::FLOAT_CPU)];
        let mut opt = SGD::new(
            vec![ParamGroup::new(w()).lr(0.01), ParamGroup::new(w())],
            0.1,
        )
        .momentum(0.9);
        let mut s = scheduler(name);
        let apply = |opt: &mut SGD, step: cnn_lab::optim::lr_scheduler::LrStep| {
            for (g, lr) in step.lrs.iter().enumerate() {
                opt.set_group_learning_rate(g, *lr).unwrap();
            }
            if let Some(m) = step.momentum {
                opt.set_momentum(m).unwrap();
            }
        };
        let first = s.start_groups(&opt.learning_rates(), 30).unwrap();
        apply(&mut opt, first);
        let mut got = vec![(opt.learning_rates(), Optimizer::momentum(&opt).unwrap())];
        for m in &metrics {
            let step = s.step(Some(*m)).unwrap();
            assert_eq!(step.lrs, s.last_lrs());
            apply(&mut opt, step);
            got.push((opt.learning_rates(), Optimizer::momentum(&opt).unwrap()));
        }
        assert_eq!(got.len(), want_lrs.len(), "{name}");
        for (i, ((lrs, m), (want, want_m))) in
            got.iter().zip(want_lrs.iter().zip(&want_m)).enumerate()
        {
            assert_eq!(lrs.len(), 2, "{name}");
            for (a, b) in lrs.iter().zip(want) {
                assert!(
                    (a - b).abs() <= 1e-12,
                    "{name} step {i}: {lrs:?} vs PyTorch {want:?}"
                );
            }
            assert!(
                (m - want_m).abs() <= 1e-12,
                "{name} momentum {i}: {m} vs {want_m}"
            );
        }
    }
    assert_eq!(cases, 7);
}

#[test]
fn a_list_of_the_wrong_length_is_pytorchs_error() {
    let err = OneCycleLR::new([0.1, 0.2, 0.3])
        .start_groups(&[0.1, 0.1], 10)
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected 2 values for max_lr, got 3"), "{err}");
    let err = ReduceLROnPlateau::new()
        .min_lr([0.1])
        .start_groups(&[0.1, 0.1], 10)
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected 2 min_lrs, got 1"), "{err}");
    let mut opt = SGD::new(vec![Tensor::zeros([1], cnn_lab::FLOAT_CPU)], 0.1);
    let err = opt.set_group_learning_rate(1, 0.1).unwrap_err().to_string();
    assert!(err.contains("no parameter group 1"), "{err}");
}
