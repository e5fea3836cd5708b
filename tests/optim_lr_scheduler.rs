//! Every scheduler against `torch.optim.lr_scheduler` (tests/python/
//! sched_reference.py): the learning rate after construction and after each
//! of 30 steps, and OneCycleLR's momentum (Adam's beta1), within 1e-12.

mod common;

use cnn_lab::optim::lr_scheduler::LrScheduler;
use cnn_lab::{
    CosineAnnealingLR, ExponentialLR, MultiStepLR, OneCycleLR, ReduceLROnPlateau, StepLR,
};
use serde_json::Value;

const STEPS: usize = 30;

fn case(name: &str) -> Box<dyn LrScheduler> {
    match name {
        "StepLR" => Box::new(StepLR::new(4).gamma(0.5)),
        "StepLR_default" => Box::new(StepLR::new(7)),
        "MultiStepLR" => Box::new(MultiStepLR::new([3, 8, 8, 20]).gamma(0.3)),
        "ExponentialLR" => Box::new(ExponentialLR::new(0.87)),
        "CosineAnnealingLR" => Box::new(CosineAnnealingLR::new(12).eta_min(0.001)),
        "CosineAnnealingLR_default" => Box::new(CosineAnnealingLR::new(30)),
        "OneCycleLR" => Box::new(OneCycleLR::new(0.05).total_steps(30)),
        "OneCycleLR_linear_3phase" => Box::new(
            OneCycleLR::new(0.2)
                .total_steps(40)
                .anneal_strategy("linear")
                .three_phase(true)
                .pct_start(0.25)
                .div_factor(10.0)
                .final_div_factor(100.0),
        ),
        "ReduceLROnPlateau" => {
            Box::new(ReduceLROnPlateau::new().patience(2).factor(0.5).cooldown(1))
        }
        "ReduceLROnPlateau_abs_min" => Box::new(
            ReduceLROnPlateau::new()
                .patience(0)
                .threshold(0.01)
                .threshold_mode("abs")
                .min_lr(0.02),
        ),
        other => panic!("unknown case {other}"),
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn every_scheduler_gives_pytorchs_rates_over_30_steps() {
    let out = common::run_python("sched_reference.py", &[&STEPS.to_string()]);
    let reference: Value = serde_json::from_str(&out).expect("one JSON object");
    let metrics = floats(&reference["metrics"]);
    let mut worst = 0.0f64;
    let mut cases = 0;
    for (name, want) in reference.as_object().unwrap() {
        if name == "metrics" {
            continue;
        }
        cases += 1;
        let (want_lr, want_m) = (floats(&want["lr"]), floats(&want["momentum"]));
        let mut s = case(name);
        let one_cycle = name.starts_with("OneCycle");
        let first = s.start(0.1, STEPS).unwrap();
        let (mut lrs, mut moms) = (vec![first.lr], vec![first.momentum]);
        for metric in &metrics {
            let step = s.step(Some(*metric)).unwrap();
            lrs.push(step.lr);
            moms.push(step.momentum);
            assert_eq!(step.lr, s.last_lr());
        }
        assert_eq!(lrs.len(), want_lr.len(), "{name}");
        for (i, (got, want)) in lrs.iter().zip(&want_lr).enumerate() {
            let diff = (got - want).abs();
            worst = worst.max(diff);
            assert!(diff <= 1e-12, "{name} step {i}: {got} vs PyTorch {want}");
        }
        for (i, (got, want)) in moms.iter().zip(&want_m).enumerate() {
            if one_cycle {
                let got = got.expect("OneCycleLR cycles the momentum by default");
                assert!(
                    (got - want).abs() <= 1e-12,
                    "{name} momentum {i}: {got} vs {want}"
                );
            } else {
                assert!(got.is_none(), "{name} sets no momentum");
            }
        }
    }
    assert_eq!(cases, 10);
    println!("{cases} schedulers, 31 rates each: max |diff| vs torch = {worst:e}");
}

#[test]
fn wrong_arguments_are_errors_that_say_what_pytorch_says() {
    let err = ReduceLROnPlateau::new()
        .factor(1.5)
        .start(0.1, 3)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Factor should be < 1.0."), "{err}");
    let err = OneCycleLR::new(0.1)
        .pct_start(1.5)
        .start(0.1, 3)
        .unwrap_err()
        .to_string();
    assert!(err.contains("pct_start"), "{err}");
    let mut s = OneCycleLR::new(0.1).total_steps(2);
    s.start(0.1, 0).unwrap();
    s.step(None).unwrap();
    s.step(None).unwrap();
    let err = s.step(None).unwrap_err().to_string();
    assert!(err.contains("Tried to step 3 times"), "{err}");
    assert!(ReduceLROnPlateau::new()
        .start(0.1, 3)
        .and_then(|_| ReduceLROnPlateau::new().step(None))
        .is_err());
}
