//! Complex signals: scipy-computed values (`tests/data/make_complex_golden.py`) and the complex
//! conformance kit, on every built-in backend.

use conv_core::{ConvError, Mode, builtin_backends, convolve_complex_with, correlate_complex_with, testkit};
use ndarray::ArrayD;
use num_complex::Complex64;
use serde::Deserialize;

#[derive(Deserialize)]
struct Tensor {
    shape: Vec<usize>,
    re: Vec<f64>,
    im: Vec<f64>,
}

impl Tensor {
    fn array(&self) -> ArrayD<Complex64> {
        let values = self.re.iter().zip(&self.im).map(|(&re, &im)| Complex64::new(re, im)).collect();
        ArrayD::from_shape_vec(self.shape.clone(), values).expect("shape matches data")
    }
}

#[derive(Deserialize)]
struct Case {
    func: String,
    mode: String,
    in1: Tensor,
    in2: Tensor,
    expected: Tensor,
}

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

#[test]
fn every_backend_matches_scipy_on_complex_arrays() {
    let golden: Golden = serde_json::from_str(include_str!("data/complex_golden.json")).expect("valid json");
    assert_eq!(golden.cases.len(), 42);
    for backend in builtin_backends::<f64>() {
        for case in &golden.cases {
            let mode = match case.mode.as_str() {
                "full" => Mode::Full,
                "same" => Mode::Same,
                _ => Mode::Valid,
            };
            let (in1, in2) = (case.in1.array(), case.in2.array());
            let result = if case.func == "convolve" {
                convolve_complex_with(&in1, &in2, mode, backend.as_ref())
            } else {
                correlate_complex_with(&in1, &in2, mode, backend.as_ref())
            };
            let got = match result {
                Ok(got) => got,
                Err(ConvError::Unsupported { .. }) => continue,
                Err(other) => panic!("{} {} {:?}: {other}", backend.name(), case.func, in1.shape()),
            };
            let want = case.expected.array();
            assert_eq!(got.shape(), want.shape(), "{} {} {}", backend.name(), case.func, case.mode);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).norm() < 1e-12,
                    "{} {} {} {:?}: {g} vs {w}",
                    backend.name(),
                    case.func,
                    case.mode,
                    in1.shape()
                );
            }
        }
    }
}

#[test]
fn every_backend_conforms_on_complex_input() {
    for backend in builtin_backends::<f64>() {
        testkit::assert_complex_conforms(backend.as_ref(), 64);
    }
    for backend in builtin_backends::<f32>() {
        testkit::assert_complex_conforms(backend.as_ref(), 64);
    }
}

#[test]
fn complex_errors_are_the_real_ones() {
    let empty = ArrayD::<Complex64>::zeros(vec![0]);
    let one = ArrayD::<Complex64>::ones(vec![3]);
    assert!(matches!(
        convolve_complex_with(&empty, &one, Mode::Full, &conv_core::Direct),
        Err(ConvError::Empty { .. })
    ));
    let hypercube = ArrayD::<Complex64>::ones(vec![2, 2, 2, 2]);
    assert!(matches!(
        correlate_complex_with(&hypercube, &hypercube, Mode::Full, &conv_core::Direct),
        Err(ConvError::UnsupportedRank { .. })
    ));
    let (a, b) = (ArrayD::<Complex64>::ones(vec![2, 5]), ArrayD::<Complex64>::ones(vec![3, 3]));
    assert!(matches!(
        convolve_complex_with(&a, &b, Mode::Valid, &conv_core::Direct),
        Err(ConvError::ValidModeShapes { .. })
    ));
}

/// A backend that solves every batch item with the first item's data: right on any single
/// real signal, wrong on complex input (whose imaginary part is the second item).
struct BatchBlind;

impl conv_core::ConvBackend<f64> for BatchBlind {
    fn name(&self) -> &str {
        "batch-blind"
    }

    fn supports(&self, _geometry: &conv_core::Geometry) -> Result<(), ConvError> {
        Ok(())
    }

    fn execute(
        &self,
        problem: &conv_core::ConvProblem<'_, f64>,
        output: &mut [f64],
    ) -> Result<(), ConvError> {
        let g = *problem.geometry();
        let item = g.input_len() / g.batch();
        let copied: Vec<f64> = (0..g.batch()).flat_map(|_| problem.input()[..item].to_vec()).collect();
        conv_core::Direct.execute(&conv_core::ConvProblem::new(g, &copied, problem.kernel())?, output)
    }
}

#[test]
fn the_complex_kit_catches_a_backend_that_mixes_up_batch_items() {
    let caught = std::panic::catch_unwind(|| testkit::assert_complex_conforms::<f64>(&BatchBlind, 64));
    let message = caught.expect_err("the complex kit let a batch-blind backend through");
    let text = message.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.contains("batch-blind") && text.contains("expected"), "{text}");
}
