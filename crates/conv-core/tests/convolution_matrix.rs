//! `convolution_matrix` against `scipy.linalg.convolution_matrix` (golden data made by
//! `tests/data/make_convolution_matrix_golden.py`), and against `convolve` itself.

use conv_core::{ConvError, Mode, convolution_matrix, convolve_with};
use ndarray::{Array1, Array2};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    kernel: Vec<f64>,
    n: usize,
    mode: String,
    shape: [usize; 2],
    matrix: Vec<f64>,
}

fn mode(name: &str) -> Mode {
    match name {
        "full" => Mode::Full,
        "same" => Mode::Same,
        _ => Mode::Valid,
    }
}

#[test]
fn matches_scipy_in_every_mode() {
    let cases: Vec<Case> =
        serde_json::from_str(include_str!("data/convolution_matrix_golden.json")).expect("golden data parse");
    assert_eq!(cases.len(), 27);
    for case in cases {
        let kernel = Array1::from(case.kernel.clone());
        let ours = convolution_matrix(&kernel, case.n, mode(&case.mode)).unwrap();
        let scipy = Array2::from_shape_vec(case.shape, case.matrix).unwrap();
        // Each entry is a copy of a kernel value or zero: equal to the bit.
        assert_eq!(ours, scipy, "m = {}, n = {}, mode {}", kernel.len(), case.n, case.mode);
    }
}

#[test]
fn full_matrix_times_a_signal_is_the_convolution() {
    let kernel = Array1::from_shape_fn(5, |i| (i as f64 * 0.7).sin());
    let x = Array1::from_shape_fn(12, |i| (i as f64 * 0.3).cos());
    let t = convolution_matrix(&kernel, 12, Mode::Full).unwrap();
    let direct = convolve_with(&x, &kernel, Mode::Full, &conv_core::Direct).unwrap();
    assert!(t.dot(&x).iter().zip(&direct).all(|(a, b)| (a - b).abs() < 1e-12));
}

#[test]
fn empty_and_huge_requests_are_typed_errors_before_allocating() {
    let kernel = ndarray::array![1.0_f32, 2.0];
    assert!(matches!(convolution_matrix(&kernel, 0, Mode::Full), Err(ConvError::Empty { .. })));
    assert!(matches!(
        convolution_matrix(&Array1::<f64>::zeros(0), 3, Mode::Same),
        Err(ConvError::Empty { .. })
    ));
    assert!(matches!(convolution_matrix(&kernel, 1 << 40, Mode::Full), Err(ConvError::TooLarge { .. })));
    assert!(matches!(convolution_matrix(&kernel, usize::MAX, Mode::Full), Err(ConvError::Overflow { .. })));
}
