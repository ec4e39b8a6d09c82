//! Bad input gets a typed error naming the problem, never a panic.

use conv_core::{
    AxisGeometry, ConvError, ConvSpec, Fft, Geometry, Im2col, Mode, Operand, Padding, Toeplitz, conv1d,
    conv2d, conv2d_with, convolve, correlate, filter_with,
};
use ndarray::{Array1, Array2, Array3, Array4, ArrayD, IxDyn, array};

#[test]
fn empty_operands() {
    let empty = Array1::<f64>::zeros(0);
    assert!(matches!(
        convolve(&empty, &array![1.0], Mode::Full),
        Err(ConvError::Empty { operand: Operand::Input, .. })
    ));
    assert!(matches!(
        correlate(&array![1.0], &empty, Mode::Same),
        Err(ConvError::Empty { operand: Operand::Kernel, .. })
    ));
    let no_batch = Array4::<f32>::zeros((0, 1, 4, 4));
    assert!(matches!(
        conv2d(&no_batch, &Array4::zeros((1, 1, 2, 2)), &ConvSpec::default()),
        Err(ConvError::Empty { .. })
    ));
}

#[test]
fn zero_stride_and_dilation() {
    let x = array![1.0, 2.0, 3.0];
    let k = array![1.0];
    let err = filter_with(&x, &k, &ConvSpec::correlation().stride(0), &conv_core::Direct).unwrap_err();
    assert_eq!(err, ConvError::ZeroStride { axis: 0 });
    let err = filter_with(&x, &k, &ConvSpec::correlation().dilation(0), &conv_core::Direct).unwrap_err();
    assert_eq!(err, ConvError::ZeroDilation { axis: 0 });
    assert!(matches!(AxisGeometry::new(1, 5, 2, 0, 1), Err(ConvError::ZeroStride { axis: 1 })));
}

#[test]
fn per_axis_parameter_of_wrong_length() {
    let x = Array4::<f64>::zeros((1, 1, 5, 5));
    let w = Array4::<f64>::zeros((1, 1, 3, 3));
    let err = conv2d(&x, &w, &ConvSpec::correlation().stride([1, 2, 3])).unwrap_err();
    assert_eq!(err, ConvError::ParameterLength { parameter: "stride", got: 3, spatial_axes: 2 });
    let err =
        conv2d(&x, &w, &ConvSpec::correlation().padding(Padding::Explicit(vec![(1, 1); 3]))).unwrap_err();
    assert!(matches!(err, ConvError::ParameterLength { parameter: "padding", .. }));
}

#[test]
fn channel_and_group_mismatches() {
    let x = Array4::<f64>::zeros((2, 3, 5, 5));
    let err = conv2d(&x, &Array4::zeros((4, 2, 3, 3)), &ConvSpec::default()).unwrap_err();
    assert_eq!(err, ConvError::ChannelMismatch { in_channels: 3, kernel_channels: 2, groups: 1 });
    let err = conv2d(&x, &Array4::zeros((4, 1, 3, 3)), &ConvSpec::default().groups(2)).unwrap_err();
    assert_eq!(err, ConvError::Groups { groups: 2, in_channels: 3, out_channels: 4 });
    let err = conv2d(&x, &Array4::zeros((3, 1, 3, 3)), &ConvSpec::default().groups(0)).unwrap_err();
    assert!(matches!(err, ConvError::Groups { groups: 0, .. }));
    // Depthwise is fine.
    assert!(conv2d(&x, &Array4::zeros((3, 1, 3, 3)), &ConvSpec::default().groups(3)).is_ok());
}

#[test]
fn kernel_larger_than_padded_input_in_layer_calls() {
    let x = Array3::<f64>::zeros((1, 1, 4));
    let w = Array3::<f64>::zeros((1, 1, 3));
    let err = conv1d(&x, &w, &ConvSpec::default().dilation(2)).unwrap_err();
    assert_eq!(err, ConvError::KernelLargerThanInput { axis: 0, padded_input: 4, effective_kernel: 5 });
    // Padding makes room.
    let padded = ConvSpec::default().dilation(2).padding(Padding::Explicit(vec![(1, 0)]));
    assert_eq!(conv1d(&x, &w, &padded).expect("fits").shape(), &[1, 1, 1]);
}

#[test]
fn scipy_valid_rules() {
    // A longer kernel is accepted on every axis, as scipy does...
    let out = convolve(&array![1.0, 2.0], &array![1.0, 1.0, 1.0], Mode::Valid).expect("scipy accepts this");
    assert_eq!(out, array![3.0, 3.0]);
    // ...but not when each operand is longer on a different axis.
    let err = convolve(&Array2::<f64>::zeros((3, 1)), &Array2::zeros((1, 3)), Mode::Valid).unwrap_err();
    assert!(matches!(err, ConvError::ValidModeShapes { .. }));
}

#[test]
fn rank_errors() {
    let four_d = ArrayD::<f64>::zeros(IxDyn(&[2, 2, 2, 2]));
    let err = convolve(&four_d, &four_d, Mode::Full).unwrap_err();
    assert!(matches!(err, ConvError::UnsupportedRank { ref shape, .. } if shape == &[2, 2, 2, 2]));
    // A volume against an image: the ranks differ.
    let cube = ArrayD::<f64>::zeros(IxDyn(&[2, 2, 2]));
    let err = convolve(&cube, &ArrayD::<f64>::zeros(IxDyn(&[2, 2])), Mode::Full).unwrap_err();
    assert!(matches!(err, ConvError::RankMismatch { .. }));
}

#[test]
fn huge_requests_are_refused_before_allocating() {
    // Full mode on a 10^12-sample padding: refused by arithmetic, not by the allocator.
    let start = std::time::Instant::now();
    let x = Array4::<f32>::zeros((1, 1, 1, 4));
    let w = Array4::<f32>::zeros((1, 1, 1, 2));
    let spec = ConvSpec::default().padding(Padding::Explicit(vec![(0, 0), (1_000_000_000_000, 0)]));
    let err = conv2d(&x, &w, &spec).unwrap_err();
    assert!(matches!(err, ConvError::TooLarge { what: "padded input", .. }), "{err}");
    let spec = ConvSpec::default().padding(Padding::Explicit(vec![(0, 0), (usize::MAX, 1)]));
    assert!(matches!(conv2d(&x, &w, &spec), Err(ConvError::Overflow { .. })));
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn backend_caps_are_typed_errors() {
    let x = Array4::<f64>::zeros((1, 1, 64, 64));
    let w = Array4::<f64>::zeros((1, 1, 3, 3));
    let err = conv2d_with(&x, &w, &ConvSpec::default(), &Toeplitz::with_cap_bytes(1 << 10)).unwrap_err();
    assert!(matches!(err, ConvError::TooLarge { what: "Toeplitz matrix", .. }), "{err}");
    let err = conv2d_with(&x, &w, &ConvSpec::default(), &Im2col::with_cap_bytes(16)).unwrap_err();
    assert!(matches!(err, ConvError::TooLarge { .. }), "{err}");
    let err = conv2d_with(&x, &w, &ConvSpec::default(), &Fft::with_cap_bytes(16)).unwrap_err();
    assert!(matches!(err, ConvError::TooLarge { what: "FFT workspace", .. }), "{err}");
    // The default Toeplitz cap refuses a 512x512 image (a 2^36-byte matrix) instantly.
    let big = Array4::<f64>::zeros((1, 1, 512, 512));
    let err = conv2d_with(&big, &w, &ConvSpec::default(), &Toeplitz::default()).unwrap_err();
    assert!(matches!(err, ConvError::TooLarge { .. }));
}

#[test]
fn non_finite_values_propagate_or_are_refused() {
    let x = array![1.0, f64::NAN, 3.0, 4.0, 5.0];
    let k = array![1.0, 1.0];
    // Default: IEEE propagation. Direct touches only the windows that cover the NaN.
    let y = conv_core::convolve_with(&x, &k, Mode::Valid, &conv_core::Direct).expect("NaN propagates");
    assert_eq!(y.iter().map(|v| v.is_nan()).collect::<Vec<_>>(), [true, true, false, false]);
    // FFT spreads it to every output.
    let y = conv_core::convolve_with(&x, &k, Mode::Valid, &Fft::default()).expect("NaN propagates");
    assert!(y.iter().all(|v| v.is_nan()));
    // Overlap-save spreads it over the tiles whose input reads it, and no further (the case
    // the fuzzer raised: a NaN-poisoned tile where Direct has finite outputs is documented
    // behaviour, not a bug).
    let mut long = Array1::from_shape_fn(20_000, |i| (i % 7) as f64);
    long[100] = f64::NAN;
    let taps = Array1::from_elem(129, 0.5);
    let direct =
        conv_core::convolve_with(&long, &taps, Mode::Valid, &conv_core::Direct).expect("NaN propagates");
    let tiled = conv_core::convolve_with(&long, &taps, Mode::Valid, &conv_core::OverlapSave::default())
        .expect("runs");
    assert_eq!(direct.iter().filter(|v| v.is_nan()).count(), 101, "Direct: the windows covering sample 100");
    let poisoned = tiled.iter().filter(|v| v.is_nan()).count();
    assert!(
        poisoned >= 101 && poisoned < tiled.len() / 2,
        "overlap-save poisoned {poisoned} of {}",
        tiled.len()
    );
    assert!(
        tiled.iter().zip(&direct).all(|(t, d)| t.is_nan() || (t - d).abs() < 1e-9),
        "finite outputs stay right"
    );
    // What Fft's Numerics section says: with groups, a NaN stays in its group; a long padded
    // signal is solved as interior and edges, and a NaN in the middle leaves the edges finite.
    let mut images = ndarray::Array4::<f64>::ones((2, 2, 6, 6));
    images[[0, 0, 3, 3]] = f64::NAN;
    let weights = ndarray::Array4::<f64>::ones((4, 1, 3, 3));
    let grouped =
        conv_core::conv2d_with(&images, &weights, &ConvSpec::correlation().groups(2), &Fft::default())
            .expect("NaN propagates");
    let plane = |n: usize, o: usize| {
        grouped.index_axis(ndarray::Axis(0), n).index_axis(ndarray::Axis(0), o).to_owned()
    };
    let nan_planes: Vec<(usize, usize)> = (0..2)
        .flat_map(|n| (0..4).map(move |o| (n, o)))
        .filter(|&(n, o)| plane(n, o).iter().any(|v| v.is_nan()))
        .collect();
    assert_eq!(nan_planes, [(0, 0), (0, 1)], "item 0, group 0 only");
    assert!(plane(0, 0).iter().chain(plane(0, 1).iter()).all(|v| v.is_nan()), "the whole group");
    let mut signal = Array1::from_elem(20_000, 1.0);
    signal[10_000] = f64::NAN;
    let full = conv_core::convolve_with(&signal, &array![1.0, 2.0, 1.0], Mode::Full, &Fft::default())
        .expect("NaN propagates");
    let finite: Vec<usize> = (0..full.len()).filter(|&i| full[i].is_finite()).collect();
    assert_eq!(finite, [0, 1, 20_000, 20_001], "the two edge pieces stay finite");
    // On request, a typed error.
    let spec = ConvSpec::convolution().require_finite(true);
    let err = filter_with(&x, &k, &spec, &conv_core::Direct).unwrap_err();
    assert!(matches!(err, ConvError::NonFinite { operand: Operand::Input, index: 1, .. }));
    let err = filter_with(&k, &array![f64::INFINITY], &spec, &conv_core::Direct).unwrap_err();
    assert!(matches!(err, ConvError::NonFinite { operand: Operand::Kernel, index: 0, .. }));
}

#[test]
fn wrong_buffer_lengths_for_direct_backend_calls() {
    let axes = [AxisGeometry::TRIVIAL, AxisGeometry::new(0, 4, 2, 1, 1).expect("fits")];
    let g = Geometry::planar(1, 1, 1, 1, axes).expect("valid");
    let err = conv_core::ConvProblem::new(g, &[0.0f64; 3], &[0.0; 2]).unwrap_err();
    assert_eq!(err, ConvError::BufferLength { what: "input", expected: 4, got: 3 });
    // A 1x4 signal with a 1x2 kernel (3 outputs), and a 4x4 image with a 3x3 kernel (4 outputs)
    // for the backends that take only 3x3 kernels (Winograd): every backend is asked once.
    let square = AxisGeometry::new(0, 4, 3, 1, 1).expect("fits");
    let image = Geometry::planar(1, 1, 1, 1, [square, square]).expect("valid");
    let (signal_input, image_input) = ([0.0f64; 4], [0.0f64; 16]);
    let problems = [
        (conv_core::ConvProblem::new(g, &signal_input, &[0.0; 2]).expect("lengths match"), 3),
        (conv_core::ConvProblem::new(image, &image_input, &[0.0; 9]).expect("lengths match"), 4),
    ];
    let mut short = [0.0; 2];
    for backend in conv_core::builtin_backends::<f64>() {
        let supported: Vec<_> =
            problems.iter().filter(|(p, _)| backend.supports(p.geometry()).is_ok()).collect();
        assert!(!supported.is_empty(), "{} supports neither problem", backend.name());
        for (problem, expected) in supported {
            let err = backend.execute(problem, &mut short).unwrap_err();
            assert_eq!(
                err,
                ConvError::BufferLength { what: "output", expected: *expected, got: 2 },
                "{}",
                backend.name()
            );
        }
    }
}

#[test]
fn errors_explain_themselves() {
    let err = ConvError::ChannelMismatch { in_channels: 3, kernel_channels: 2, groups: 1 };
    assert_eq!(
        err.to_string(),
        "the kernel expects 2 input channels per group, but the input has 3 channels in 1 group(s)"
    );
}

/// Geometry fields are private; an inconsistent geometry cannot be built: `Geometry::new` (and
/// the sub-problem constructors) refuse it with a typed error, so no backend can be handed one.
#[test]
fn inconsistent_hand_built_geometry_is_refused() {
    let row = AxisGeometry::new(1, 4, 2, 1, 1).unwrap();
    let sound = Geometry::planar(1, 1, 1, 1, [AxisGeometry::TRIVIAL, row]).unwrap();
    let wrong_output = AxisGeometry { output: 10, ..row };
    let kernel_too_long = AxisGeometry { kernel: 9, ..row };
    let zero_stride = AxisGeometry { stride: 0, ..row };
    assert!(matches!(
        sound.with_axis(2, wrong_output),
        Err(ConvError::BufferLength { what: "output axis", .. })
    ));
    assert!(matches!(sound.with_axis(2, kernel_too_long), Err(ConvError::KernelLargerThanInput { .. })));
    assert!(matches!(sound.with_axis(2, zero_stride), Err(ConvError::ZeroStride { axis: 2 })));
    assert!(matches!(sound.with_axis(3, row), Err(ConvError::ParameterLength { .. })));
    assert!(matches!(sound.with_batch(0), Err(ConvError::Empty { .. })));
    assert!(matches!(
        Geometry::planar(1, 1, 1, 0, [AxisGeometry::TRIVIAL, row]),
        Err(ConvError::Groups { .. })
    ));
    assert!(matches!(
        Geometry::planar(usize::MAX, usize::MAX, 1, 1, [AxisGeometry::TRIVIAL, row]),
        Err(ConvError::Overflow { .. })
    ));
}
