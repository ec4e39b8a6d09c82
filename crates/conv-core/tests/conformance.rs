//! Every built-in backend against the Direct oracle, through the public conformance kit.

use conv_core::{Direct, Fft, Im2col, Toeplitz, testkit};

#[test]
fn direct_conforms_f64() {
    testkit::assert_conforms::<f64>(&Direct);
}

#[test]
fn direct_conforms_f32() {
    testkit::assert_conforms::<f32>(&Direct);
}

#[test]
fn toeplitz_conforms_f64() {
    testkit::assert_conforms::<f64>(&Toeplitz::default());
}

#[test]
fn toeplitz_conforms_f32() {
    testkit::assert_conforms::<f32>(&Toeplitz::default());
}

#[test]
fn fft_conforms_f64() {
    testkit::assert_conforms::<f64>(&Fft::default());
}

#[test]
fn fft_conforms_f32() {
    testkit::assert_conforms::<f32>(&Fft::default());
}

#[test]
fn im2col_conforms_f64() {
    testkit::assert_conforms::<f64>(&Im2col::default());
}

#[test]
fn im2col_conforms_f32() {
    testkit::assert_conforms::<f32>(&Im2col::default());
}

/// Capped backends must refuse what they cannot hold, and the kit checks the refusal.
#[test]
fn tightly_capped_backends_refuse_instead_of_answering() {
    testkit::assert_conforms::<f64>(&Toeplitz::with_cap_bytes(2048));
    testkit::assert_conforms::<f64>(&Im2col::with_cap_bytes(256));
    testkit::assert_conforms::<f64>(&Fft::with_cap_bytes(4096));
}

/// Most drawn requests must reach the backends: a kit whose draws were mostly rejected by the
/// front end would pass anything.
#[test]
fn most_drawn_problems_are_valid_requests() {
    let draws = 400;
    let valid = (0..draws).filter(|&seed| testkit::is_valid(&testkit::sample_case(seed).shape)).count();
    assert!(valid * 100 >= draws as usize * 70, "only {valid} of {draws} draws are valid requests");
    assert!(valid < draws as usize, "no invalid draws: error paths are not exercised");
}

#[test]
fn overlap_save_conforms_f64() {
    testkit::assert_conforms::<f64>(&conv_core::OverlapSave::default());
}

#[test]
fn overlap_save_conforms_f32() {
    testkit::assert_conforms::<f32>(&conv_core::OverlapSave::default());
}

/// Tiny grids force many tiles on the kit's small problems, so the tiling itself is tested.
#[test]
fn overlap_save_with_many_tiles_conforms() {
    for grid in [2, 4, 6] {
        testkit::assert_conforms::<f64>(&conv_core::OverlapSave::with_grid(grid));
    }
    testkit::assert_conforms::<f32>(&conv_core::OverlapSave::with_grid(4));
}

/// Long inputs with the automatic blocking: many tiles of the default size.
#[test]
fn overlap_save_on_long_inputs_matches_direct() {
    use conv_core::{ConvBackend, ConvSpec, Direct, OverlapSave, conv1d_with, conv2d_with};
    use ndarray::{Array3, Array4};
    let value = |i: usize| ((i * 7919) % 1013) as f64 / 1013.0 - 0.5;
    let signal = Array3::from_shape_fn((2, 3, 5000), |(n, c, x)| value(n * 100_000 + c * 10_000 + x));
    let taps = Array3::from_shape_fn((4, 3, 9), |(o, c, k)| value(o * 97 + c * 13 + k + 7));
    let image = Array4::from_shape_fn((1, 2, 300, 260), |(_, c, y, x)| value(c * 100_000 + y * 300 + x));
    let filters = Array4::from_shape_fn((2, 2, 5, 3), |(o, c, i, j)| value(o * 31 + c * 7 + i * 3 + j + 1));
    for spec in [
        ConvSpec::correlation(),
        ConvSpec::convolution().stride(3).dilation(2),
        ConvSpec::correlation().stride(2),
    ] {
        let backend: &dyn ConvBackend<f64> = &OverlapSave::default();
        let want = conv1d_with(&signal, &taps, &spec, &Direct).unwrap();
        let got = conv1d_with(&signal, &taps, &spec, backend).unwrap();
        assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-12), "1-D {spec:?}");
        let want = conv2d_with(&image, &filters, &spec, &Direct).unwrap();
        let got = conv2d_with(&image, &filters, &spec, backend).unwrap();
        assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-12), "2-D {spec:?}");
    }
    assert!(
        OverlapSave::default().grid(
            &conv_core::ConvSpec::correlation().resolve(&[1, 1, 300, 260], &[1, 1, 5, 3]).unwrap().geometry
        )[0] < 300
    );
}

/// A prepared layer gives the same answer as a fresh call, on every backend, call after call,
/// and refuses an input of another shape.
#[test]
fn prepared_layers_match_fresh_calls() {
    use conv_core::{Boundary, ConvError, ConvSpec, Padding, PreparedConv2d, builtin_backends, conv2d_with};
    use ndarray::Array4;
    let weights =
        Array4::from_shape_fn((6, 2, 3, 2), |(o, c, i, j)| ((o * 5 + c * 3 + i * 2 + j) % 7) as f64 - 3.0);
    let spec = ConvSpec::convolution()
        .padding(Padding::SameUpper)
        .boundary(Boundary::Reflect)
        .stride([2, 1])
        .groups(2);
    for backend in builtin_backends::<f64>() {
        let layer = PreparedConv2d::new([3, 4, 9, 7], &weights, &spec, backend.as_ref()).unwrap();
        for step in 0..3 {
            let input =
                Array4::from_shape_fn((3, 4, 9, 7), |(n, c, y, x)| ((n + c * 2 + y * x + step) % 11) as f64);
            let fresh = conv2d_with(&input, &weights, &spec, backend.as_ref()).unwrap();
            let planned = layer.run(&input).unwrap();
            assert_eq!(planned.shape(), layer.output_shape());
            assert!(planned.iter().zip(&fresh).all(|(a, b)| (a - b).abs() < 1e-9), "{}", backend.name());
        }
        let wrong = Array4::<f64>::zeros((3, 4, 9, 8));
        assert!(matches!(layer.run(&wrong), Err(ConvError::Rank { .. })));
    }
}

#[test]
fn auto_conforms() {
    testkit::assert_conforms::<f64>(&conv_core::Auto::new());
    testkit::assert_conforms::<f32>(&conv_core::Auto::new());
}

#[test]
fn auto_in_measure_mode_conforms() {
    testkit::assert_conforms::<f64>(&conv_core::Auto::new().measuring());
}
