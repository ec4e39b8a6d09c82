//! Hand-worked cases from the mathematics, and reference values computed with scipy.signal
//! (`tests/data/make_golden.py` writes `tests/data/golden.json`), replayed on every backend.

use conv_core::{
    Boundary, ConvBackend, ConvSpec, Direct, Fft, Im2col, Mode, Toeplitz, builtin_backends, conv2d_with,
    convolve, convolve_with, convolve2d_with, correlate_with, correlate2d_with,
};
use ndarray::{Array1, Array2, array};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(untagged)]
enum Values {
    OneD(Vec<f64>),
    TwoD(Vec<Vec<f64>>),
}

#[derive(Deserialize)]
struct Case {
    name: String,
    func: String,
    mode: String,
    boundary: String,
    fillvalue: f64,
    in1: Values,
    in2: Values,
    expected: Values,
}

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

fn mode(name: &str) -> Mode {
    match name {
        "full" => Mode::Full,
        "same" => Mode::Same,
        "valid" => Mode::Valid,
        other => panic!("unknown mode {other}"),
    }
}

fn boundary(name: &str, fill: f64) -> Boundary {
    match name {
        "zeros" => Boundary::Zeros,
        "constant" => Boundary::Constant(fill),
        "circular" => Boundary::Circular,
        "symmetric" => Boundary::Symmetric,
        "reflect" => Boundary::Reflect,
        "replicate" => Boundary::Replicate,
        other => panic!("unknown boundary {other}"),
    }
}

fn to_2d(rows: &[Vec<f64>]) -> Array2<f64> {
    let cols = rows.first().map_or(0, Vec::len);
    Array2::from_shape_vec((rows.len(), cols), rows.concat()).expect("rectangular")
}

fn assert_close(name: &str, backend: &str, got: &[f64], want: &[f64], shape: (&[usize], &[usize])) {
    assert_eq!(shape.0, shape.1, "{name} on {backend}: shape");
    let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-10 * scale, "{name} on {backend}: element {i} is {g}, scipy gives {w}");
    }
}

#[test]
fn scipy_reference_values_on_every_backend() {
    let text = include_str!("data/golden.json");
    let golden: Golden = serde_json::from_str(text).expect("golden.json parses");
    assert!(golden.cases.len() > 200);
    for backend in builtin_backends::<f64>() {
        for case in &golden.cases {
            let m = mode(&case.mode);
            let b = boundary(&case.boundary, case.fillvalue);
            let backend: &dyn ConvBackend<f64> = backend.as_ref();
            match (&case.in1, &case.in2, &case.expected) {
                (Values::OneD(a), Values::OneD(v), Values::OneD(want)) => {
                    let (a, v) = (Array1::from(a.clone()), Array1::from(v.clone()));
                    let got = match case.func.as_str() {
                        "convolve" => convolve_with(&a, &v, m, backend),
                        "correlate" => correlate_with(&a, &v, m, backend),
                        other => panic!("unknown 1-D function {other}"),
                    };
                    let Some(got) = answered(&case.name, backend.name(), got) else { continue };
                    let got = got.to_vec();
                    assert_close(&case.name, backend.name(), &got, want, (&[got.len()], &[want.len()]));
                }
                (Values::TwoD(a), Values::TwoD(k), Values::TwoD(want)) => {
                    let (a, k, want) = (to_2d(a), to_2d(k), to_2d(want));
                    let got = match case.func.as_str() {
                        "convolve2d" => convolve2d_with(&a, &k, m, b, backend),
                        "correlate2d" => correlate2d_with(&a, &k, m, b, backend),
                        other => panic!("unknown 2-D function {other}"),
                    };
                    let Some(got) = answered(&case.name, backend.name(), got) else { continue };
                    let (g, w) =
                        (got.iter().copied().collect::<Vec<_>>(), want.iter().copied().collect::<Vec<_>>());
                    assert_close(&case.name, backend.name(), &g, &w, (got.shape(), want.shape()));
                }
                _ => panic!("{}: operands of mixed rank", case.name),
            }
        }
    }
}

/// The answer, or `None` when the backend takes 3x3 kernels only (Winograd) and refuses the
/// case: every other refusal is a failure.
fn answered<T>(case: &str, backend: &str, result: Result<T, conv_core::ConvError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(conv_core::ConvError::Unsupported { .. }) if backend == "winograd" => None,
        Err(e) => panic!("{case} on {backend}: {e}"),
    }
}

/// Every built-in backend but Winograd, which takes 3x3 kernels only.
fn general_backends() -> Vec<std::sync::Arc<dyn ConvBackend<f64>>> {
    builtin_backends::<f64>().into_iter().filter(|b| b.name() != "winograd").collect()
}

/// p(t) = a0 + a1 t + a2 t^2 times s(t) = b0 + b1 t + b2 t^2 + b3 t^3: the coefficients of the
/// product are the full convolution c_k = sum_i a_i b_(k-i).
#[test]
fn polynomial_product_is_full_convolution() {
    let (a0, a1, a2) = (2.0, -1.0, 3.0);
    let (b0, b1, b2, b3) = (1.0, 4.0, -2.0, 5.0);
    let by_hand = array![
        a0 * b0,
        a0 * b1 + a1 * b0,
        a0 * b2 + a1 * b1 + a2 * b0,
        a0 * b3 + a1 * b2 + a2 * b1,
        a1 * b3 + a2 * b2,
        a2 * b3
    ];
    let p = array![a0, a1, a2];
    let s = array![b0, b1, b2, b3];
    for backend in general_backends() {
        let product = convolve_with(&p, &s, Mode::Full, backend.as_ref()).expect("valid");
        for (got, want) in product.iter().zip(&by_hand) {
            assert!((got - want).abs() < 1e-12, "{}: {product} vs {by_hand}", backend.name());
        }
        // Convolution commutes.
        let swapped = convolve_with(&s, &p, Mode::Full, backend.as_ref()).expect("valid");
        assert!(swapped.iter().zip(&product).all(|(x, y)| (x - y).abs() < 1e-12));
    }
}

/// The same product as a matrix: the 6x3 Toeplitz matrix T(s) with T[i][j] = b_(i-j) times the
/// coefficient vector of p. The Toeplitz backend builds this matrix (on the zero-padded input).
#[test]
fn polynomial_product_through_its_toeplitz_matrix() {
    let a = [2.0, -1.0, 3.0];
    let b = [1.0, 4.0, -2.0, 5.0];
    let mut by_matrix = [0.0; 6];
    for (i, out) in by_matrix.iter_mut().enumerate() {
        for (j, aj) in a.iter().enumerate() {
            if let Some(bk) = i.checked_sub(j).and_then(|k| b.get(k)) {
                *out += bk * aj;
            }
        }
    }
    let product = convolve_with(
        &array![2.0, -1.0, 3.0],
        &array![1.0, 4.0, -2.0, 5.0],
        Mode::Full,
        &Toeplitz::default(),
    )
    .expect("valid");
    assert_eq!(product.to_vec(), by_matrix.to_vec());
    assert_eq!(by_matrix, [2.0, 7.0, -5.0, 24.0, -11.0, 15.0]);
}

/// The 3x3 input and 2x2 filter of the mathematics, stride 1, no padding: a 2x2 output, each
/// entry the sum of the filter times the 2x2 window under it (cross-correlation, as CNN layers
/// compute it).
#[test]
fn three_by_three_input_two_by_two_filter() {
    // ANCHOR: three_by_three
    let input = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
    let filter = array![[1.0, 0.0], [0.0, -1.0]];
    // Window at (0,0): 1*1 + 5*(-1) = -4, and every window gives x[i][j] - x[i+1][j+1] = -4.
    let by_hand = array![[-4.0, -4.0], [-4.0, -4.0]];
    // ANCHOR_END: three_by_three
    let input4 = input.clone().into_shape_with_order((1, 1, 3, 3)).expect("reshape");
    let filter4 = filter.clone().into_shape_with_order((1, 1, 2, 2)).expect("reshape");
    for backend in general_backends() {
        let out = conv2d_with(&input4, &filter4, &ConvSpec::correlation(), backend.as_ref()).expect("valid");
        assert_eq!(out.shape(), &[1, 1, 2, 2]);
        for (got, want) in out.iter().zip(&by_hand) {
            assert!((got - want).abs() < 1e-12, "{}: {out}", backend.name());
        }
        let scipy_style =
            correlate2d_with(&input, &filter, Mode::Valid, Boundary::Zeros, backend.as_ref()).expect("valid");
        assert!(scipy_style.iter().zip(&by_hand).all(|(g, w)| (g - w).abs() < 1e-12));
    }
    // A filter that is not symmetric shows the flip: convolution uses it rotated by 180 degrees.
    let asymmetric = array![[1.0, 2.0], [3.0, 4.0]];
    let convolved = convolve(&input, &asymmetric, Mode::Valid).expect("valid");
    // Window (0,0) with the rotated filter [[4,3],[2,1]]: 4*1 + 3*2 + 2*4 + 1*5 = 23.
    assert_eq!(convolved, array![[23.0, 33.0], [53.0, 63.0]]);
}

/// f32 through every backend on the scipy polynomial case, within f32 rounding.
#[test]
fn f32_matches_f64_reference() {
    let a = array![1.0f32, 2.0, 3.0];
    let v = array![4.0f32, 5.0, 6.0, 7.0];
    let want = [4.0f32, 13.0, 28.0, 34.0, 32.0, 21.0];
    let backends: [&dyn ConvBackend<f32>; 4] =
        [&Direct, &Toeplitz::default(), &Fft::default(), &Im2col::default()];
    for backend in backends {
        let got = convolve_with(&a, &v, Mode::Full, backend).expect("valid");
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-5 * 34.0, "{}: {got}", backend.name());
        }
    }
}
