//! The complex calls' part of the kit: complex problems, the textbook definition in f64, and the
//! check of `convolve_complex_with` / `correlate_complex_with` on any backend.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

use super::SEED;
use crate::backend::ConvBackend;
use crate::error::ConvError;
use crate::num::ConvNum;
use crate::spec::{Kind, Mode};

/// A complex convolution request with its data (values drawn in `[-2, 2]` for both parts).
#[derive(Clone, Debug, PartialEq)]
pub struct ComplexCase {
    /// Shape of the first operand (1 or 2 axes).
    pub in1_shape: Vec<usize>,
    /// Shape of the second operand (same rank).
    pub in2_shape: Vec<usize>,
    /// scipy's mode.
    pub mode: Mode,
    /// Convolution or correlation (which conjugates the second operand).
    pub kind: Kind,
    /// `(re, im)` of the first operand, row-major.
    pub in1: Vec<(f64, f64)>,
    /// `(re, im)` of the second operand, row-major.
    pub in2: Vec<(f64, f64)>,
}

/// Complex problems: 1-D and 2-D, every mode, both kinds, sizes 1..12 (first operand) and
/// 1..6 (second); `Valid` draws where neither operand covers the other are left out.
pub fn complex_cases() -> impl Strategy<Value = ComplexCase> {
    let shapes = (1usize..=2).prop_flat_map(|rank| {
        (proptest::collection::vec(1usize..=12, rank), proptest::collection::vec(1usize..=6, rank))
    });
    let mode = prop_oneof![Just(Mode::Full), Just(Mode::Same), Just(Mode::Valid)];
    let kind = prop_oneof![Just(Kind::Convolution), Just(Kind::Correlation)];
    (shapes, mode, kind)
        .prop_filter("valid mode needs one operand to cover the other", |((a, b), mode, _)| {
            *mode != Mode::Valid
                || a.iter().zip(b).all(|(x, y)| x >= y)
                || a.iter().zip(b).all(|(x, y)| x <= y)
        })
        .prop_flat_map(|((in1_shape, in2_shape), mode, kind)| {
            let value = (-2.0f64..2.0, -2.0f64..2.0);
            let n1 = in1_shape.iter().product::<usize>();
            let n2 = in2_shape.iter().product::<usize>();
            (proptest::collection::vec(value.clone(), n1), proptest::collection::vec(value, n2)).prop_map(
                move |(in1, in2)| ComplexCase {
                    in1_shape: in1_shape.clone(),
                    in2_shape: in2_shape.clone(),
                    mode,
                    kind,
                    in1,
                    in2,
                },
            )
        })
}

/// The textbook definition, in f64: the full complex convolution
/// `y[n] = sum_j in1[j] * k[n - j]` (with `k = conj(reverse(in2))` for correlation), then the
/// centred slice scipy keeps for `mode`. Returns the output shape and `(re, im)` values.
pub fn complex_reference(case: &ComplexCase) -> (Vec<usize>, Vec<(f64, f64)>) {
    let rank = case.in1_shape.len();
    let pad = |s: &[usize]| if rank == 1 { vec![1, s[0]] } else { s.to_vec() };
    let (a, b) = (pad(&case.in1_shape), pad(&case.in2_shape));
    let kernel_at = |i: usize, j: usize| {
        let (re, im) = if case.kind == Kind::Correlation {
            let (re, im) = case.in2[(b[0] - 1 - i) * b[1] + b[1] - 1 - j];
            (re, -im)
        } else {
            case.in2[i * b[1] + j]
        };
        (re, im)
    };
    let full = [a[0] + b[0] - 1, a[1] + b[1] - 1];
    let mut y = vec![(0.0, 0.0); full[0] * full[1]];
    for i in 0..a[0] {
        for j in 0..a[1] {
            let (xr, xi) = case.in1[i * a[1] + j];
            for p in 0..b[0] {
                for q in 0..b[1] {
                    let (kr, ki) = kernel_at(p, q);
                    let out = &mut y[(i + p) * full[1] + j + q];
                    out.0 += xr * kr - xi * ki;
                    out.1 += xr * ki + xi * kr;
                }
            }
        }
    }
    let keep: Vec<usize> = (0..2)
        .map(|axis| match case.mode {
            Mode::Full => full[axis],
            Mode::Same => a[axis],
            Mode::Valid => a[axis].abs_diff(b[axis]) + 1,
        })
        .collect();
    let start: Vec<usize> = (0..2).map(|axis| (full[axis] - keep[axis]) / 2).collect();
    let mut values = Vec::with_capacity(keep[0] * keep[1]);
    for i in 0..keep[0] {
        for j in 0..keep[1] {
            values.push(y[(start[0] + i) * full[1] + start[1] + j]);
        }
    }
    let shape = if rank == 1 { vec![keep[1]] } else { keep };
    (shape, values)
}

/// Checks one complex case through [`convolve_complex_with`](crate::convolve_complex_with) /
/// [`correlate_complex_with`](crate::correlate_complex_with) against [`complex_reference`].
///
/// # Errors
/// The mismatch, or the error the backend returned although it supports the problem.
pub fn check_complex_case<T: ConvNum>(
    backend: &dyn ConvBackend<T>,
    case: &ComplexCase,
) -> Result<(), String> {
    use num_complex::Complex;
    let to_array = |shape: &[usize], values: &[(f64, f64)]| {
        let data: Vec<Complex<T>> = values
            .iter()
            .map(|&(re, im)| Complex::new(T::from_f64_lossy(re), T::from_f64_lossy(im)))
            .collect();
        ndarray::ArrayD::from_shape_vec(shape.to_vec(), data).expect("case data matches its shape")
    };
    let (in1, in2) = (to_array(&case.in1_shape, &case.in1), to_array(&case.in2_shape, &case.in2));
    let result = match case.kind {
        Kind::Convolution => crate::convolve_complex_with(&in1, &in2, case.mode, backend),
        Kind::Correlation => crate::correlate_complex_with(&in1, &in2, case.mode, backend),
    };
    let got = match result {
        Ok(got) => got,
        // A refusal is conforming when the backend refuses the real problem behind it.
        Err(ConvError::Unsupported { .. } | ConvError::TooLarge { .. }) => return Ok(()),
        Err(other) => return Err(format!("unexpected error {other}")),
    };
    let (shape, want) = complex_reference(case);
    if got.shape() != shape.as_slice() {
        return Err(format!("output shape {:?}, expected {shape:?}", got.shape()));
    }
    let terms = case.in2.len() as f64;
    let tol = 4.0 * 4.0 * terms * T::epsilon().to_f64_lossy() * (1.0 + terms.log2()) * 8.0;
    for (index, (g, w)) in got.iter().zip(&want).enumerate() {
        let error = (g.re.to_f64_lossy() - w.0).abs().max((g.im.to_f64_lossy() - w.1).abs());
        if error.is_nan() || error > tol {
            return Err(format!("output {index}: got {g}, expected {} + {}i (tolerance {tol:e})", w.0, w.1));
        }
    }
    Ok(())
}

/// Complex conformance: `cases` draws of [`complex_cases`] (fixed seed) through `backend`,
/// each compared with [`complex_reference`].
///
/// # Panics
/// With the backend, the shrunk case and the first differing output.
#[track_caller]
pub fn assert_complex_conforms<T: ConvNum>(backend: &dyn ConvBackend<T>, cases: u32) {
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED));
    let outcome =
        runner.run(&complex_cases(), |case| check_complex_case(backend, &case).map_err(TestCaseError::fail));
    if let Err(failure) = outcome {
        panic!(
            "backend `{}` ({}) fails on complex input: {failure}",
            backend.name(),
            std::any::type_name::<T>()
        );
    }
}
