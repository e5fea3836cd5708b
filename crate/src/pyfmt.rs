//! Values printed the way Python, PyTorch and torchinfo print them, so that
//! a printout reads like the lecture's: `repr(float)`, `True`/`False`,
//! `f"{n:,}"`, `torch.Size([…])`, a shape as a list.

/// `f64` as Python's `repr(float)` prints it (`inf`, `1.0`, `1e-05`,
/// `0.11539805261418223`), so printed values read like the lecture's.
pub(crate) fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Rust's shortest round-trip digits, in Python's exponent style.
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').expect("{:e} has an exponent");
        let exp: i32 = exp.parse().expect("integer exponent");
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let s = format!("{x}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// Python's `str(bool)`: `True` / `False`.
pub(crate) fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// `620,234` (Python's `f"{n:,}"`).
pub(crate) fn group_int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A shape as Python prints a list: `[2, 4, 8, 8]` (torchinfo's column).
pub(crate) fn py_list(size: &[i64]) -> String {
    let dims: Vec<String> = size.iter().map(i64::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// `torch.Size([32, 1, 3, 3])`, as PyTorch's messages print shapes.
pub(crate) fn torch_size(size: &[i64]) -> String {
    format!("torch.Size({})", py_list(size))
}

/// A shape as a picture's caption writes it: `1×32×28×28`.
pub(crate) fn dims_text(size: &[i64]) -> String {
    size.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join("×")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_float_matches_python_repr() {
        // Values from Python 3.11: repr(float(v)).
        let cases = [
            (f64::INFINITY, "inf"),
            (0.11539805261418223, "0.11539805261418223"),
            (164.44112515449524, "164.44112515449524"),
            (1.0, "1.0"),
            (0.0, "0.0"),
            (1e-5, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (123456789012345.0, "123456789012345.0"),
            (-2.5e-7, "-2.5e-07"),
            (0.1, "0.1"),
            (0.3, "0.3"),
            (123.25, "123.25"),
            (-2.5, "-2.5"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float(x), want, "{x}");
        }
    }

    #[test]
    fn group_int_inserts_commas_like_python() {
        assert_eq!(group_int(0), "0");
        assert_eq!(group_int(999), "999");
        assert_eq!(group_int(620_234), "620,234");
        assert_eq!(group_int(-1_234_567), "-1,234,567");
    }

    #[test]
    fn torch_size_prints_like_pytorch() {
        assert_eq!(torch_size(&[32, 1, 3, 3]), "torch.Size([32, 1, 3, 3])");
        assert_eq!(torch_size(&[]), "torch.Size([])");
    }
}
