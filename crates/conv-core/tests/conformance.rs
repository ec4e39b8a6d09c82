//! Every built-in backend against the Direct oracle, through the public conformance kit.
#![allow(clippy::unwrap_used)]

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
        let layer = match PreparedConv2d::new([3, 4, 9, 7], &weights, &spec, backend.as_ref()) {
            Ok(layer) => layer,
            // Winograd takes 3x3 kernels at stride 1 only.
            Err(ConvError::Unsupported { .. }) if backend.name() == "winograd" => continue,
            Err(other) => panic!("{}: {other}", backend.name()),
        };
        for step in 0..3 {
            let input =
                Array4::from_shape_fn((3, 4, 9, 7), |(n, c, y, x)| ((n + c * 2 + y * x + step) % 11) as f64);
            let fresh = conv2d_with(&input, &weights, &spec, backend.as_ref()).unwrap();
            let planned = layer.run(&input).unwrap();
            assert_eq!(planned.shape(), layer.output_shape());
            assert!(planned.iter().zip(&fresh).all(|(a, b)| (a - b).abs() < 1e-9), "{}", backend.name());
        }
        let wrong = Array4::<f64>::zeros((3, 4, 9, 8));
        assert!(matches!(layer.run(&wrong), Err(ConvError::ShapeMismatch { .. })));
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

/// The defining sum, written as plainly as possible, in Direct's documented order (input channel,
/// kernel slice, kernel row, kernel column, from zero, no fused multiply-add).
fn defining_sum<T: conv_core::ConvNum>(g: &conv_core::Geometry, input: &[T], kernel: &[T]) -> Vec<T> {
    let [depth, rows, cols] = g.axes();
    let (cg, og) = (g.in_channels() / g.groups(), g.out_channels() / g.groups());
    let mut output = Vec::with_capacity(g.output_len());
    for n in 0..g.batch() {
        for o in 0..g.out_channels() {
            for z in 0..depth.output {
                for y in 0..rows.output {
                    for x in 0..cols.output {
                        let mut sum = T::zero();
                        for c in 0..cg {
                            let channel = (o / og) * cg + c;
                            for h in 0..depth.kernel {
                                for i in 0..rows.kernel {
                                    for j in 0..cols.kernel {
                                        let slice = z * depth.stride + h * depth.dilation;
                                        let row = y * rows.stride + i * rows.dilation;
                                        let col = x * cols.stride + j * cols.dilation;
                                        let at = (((n * g.in_channels() + channel) * depth.input + slice)
                                            * rows.input
                                            + row)
                                            * cols.input
                                            + col;
                                        let tap = (((o * cg + c) * depth.kernel + h) * rows.kernel + i)
                                            * cols.kernel
                                            + j;
                                        sum = sum + kernel[tap] * input[at];
                                    }
                                }
                            }
                        }
                        output.push(sum);
                    }
                }
            }
        }
    }
    output
}

fn direct_matches_defining_sum<T: conv_core::ConvNum>() {
    use conv_core::{AxisGeometry, ConvBackend, ConvProblem, Geometry};
    // (batch, in, out, groups, depth, rows, cols; each axis (input, kernel, stride, dilation)):
    // rows longer and shorter than a register tile, strides, dilations, groups, problems large
    // enough to be split over threads mid-row, and volumes (strided and dilated in depth).
    let trivial = (1, 1, 1, 1);
    let volumes = [
        (2, 3, 4, 1, (9, 3, 1, 1), (10, 3, 1, 1), (11, 3, 1, 1)),
        (1, 4, 2, 2, (13, 2, 2, 3), (7, 3, 1, 2), (40, 5, 2, 1)),
        (1, 1, 1, 1, (64, 5, 1, 1), (64, 5, 1, 1), (64, 5, 1, 1)),
    ];
    let shapes = [
        (1, 1, 1, 1, (1, 1, 1, 1), (1_000_003, 3, 1, 1)),
        (1, 1, 1, 1, (1, 1, 1, 1), (70_001, 255, 1, 1)),
        (2, 3, 4, 1, (40, 3, 1, 1), (203, 3, 1, 1)),
        (1, 4, 6, 2, (35, 5, 2, 1), (300, 5, 3, 2)),
        (3, 2, 2, 2, (9, 2, 1, 3), (131, 7, 2, 1)),
        (1, 1, 1, 1, (515, 7, 1, 1), (517, 7, 1, 1)),
        // At most 16 taps per output at stride 1 go through the one-pass loop: 9, 12 (two
        // channels, dilated rows), 16 (dilated) taps; 17 taps take the tiles again.
        (2, 1, 1, 1, (30, 3, 1, 1), (77, 3, 1, 1)),
        (1, 2, 3, 1, (20, 2, 1, 2), (99, 3, 1, 1)),
        (1, 1, 1, 1, (1, 1, 1, 1), (1_000, 16, 1, 3)),
        (1, 1, 1, 1, (1, 1, 1, 1), (500, 17, 1, 1)),
    ];
    let shapes = shapes.into_iter().map(|(n, c, o, g, r, w)| (n, c, o, g, trivial, r, w)).chain(volumes);
    for (batch, inc, outc, groups, d, r, c) in shapes {
        let axis = |a: usize, (len, k, s, d): (usize, usize, usize, usize)| {
            AxisGeometry::new(a, len, k, s, d).unwrap()
        };
        let g = Geometry::new(batch, inc, outc, groups, [axis(0, d), axis(1, r), axis(2, c)]).unwrap();
        let input: Vec<T> = (0..g.input_len())
            .map(|i| T::from_f64_lossy(((i * 7919) % 1013) as f64 / 1013.0 - 0.5))
            .collect();
        let kernel: Vec<T> = (0..g.kernel_len())
            .map(|i| T::from_f64_lossy(((i * 104_729) % 97) as f64 / 97.0 - 0.3))
            .collect();
        let mut output = vec![T::nan(); g.output_len()];
        Direct.execute(&ConvProblem::new(g, &input, &kernel).unwrap(), &mut output).unwrap();
        let want = defining_sum(&g, &input, &kernel);
        let first_difference =
            output.iter().zip(&want).position(|(a, b)| a.to_bits_lossy() != b.to_bits_lossy());
        assert_eq!(first_difference, None, "{g:?}");
    }
}

trait Bits {
    fn to_bits_lossy(self) -> u64;
}
impl<T: conv_core::ConvNum> Bits for T {
    fn to_bits_lossy(self) -> u64 {
        self.to_f64_lossy().to_bits()
    }
}

#[test]
fn direct_is_the_defining_sum_bit_for_bit_f64() {
    direct_matches_defining_sum::<f64>();
}

#[test]
fn direct_is_the_defining_sum_bit_for_bit_f32() {
    direct_matches_defining_sum::<f32>();
}

/// Problems large enough that the backends split them over threads (by output rows, or along
/// the one row of a long signal), with strides and several planes, agree with Direct.
#[test]
fn backends_split_over_threads_agree_with_direct() {
    use conv_core::{AxisGeometry, ConvBackend, ConvProblem, Geometry, OverlapSave};
    let shapes = [
        (1, 1, 1, (1, 1, 1), (400_000, 255, 1)),
        (2, 2, 3, (1, 1, 1), (60_001, 101, 3)),
        (1, 1, 1, (300, 31, 1), (301, 31, 1)),
        (2, 3, 2, (150, 9, 2), (97, 5, 1)),
    ];
    // im2col shares out batch items: odd batches split unevenly, small planes share products
    // (9 items of 20x20: two per product, so pieces of 5 and 4 end on a part-full product).
    let batches = [(9, 32, 32, 1, (20, 3, 1), (20, 3, 1)), (5, 8, 16, 2, (96, 3, 1), (96, 3, 2))];
    let shapes = shapes.iter().map(|&(n, c, o, h, w)| (n, c, o, 1, h, w)).chain(batches);
    let backends: Vec<Box<dyn ConvBackend<f64>>> = vec![
        Box::new(OverlapSave::default()),
        Box::new(OverlapSave::with_grid(64)),
        Box::new(Fft::default()),
        Box::new(Im2col::default()),
    ];
    for (batch, inc, outc, groups, (h, kh, sh), (w, kw, sw)) in shapes {
        let axes = [AxisGeometry::new(1, h, kh, sh, 1).unwrap(), AxisGeometry::new(2, w, kw, sw, 1).unwrap()];
        let g = Geometry::planar(batch, inc, outc, groups, axes).unwrap();
        let input: Vec<f64> = (0..g.input_len()).map(|i| ((i * 7919) % 1013) as f64 / 1013.0 - 0.5).collect();
        let kernel: Vec<f64> =
            (0..g.kernel_len()).map(|i| ((i * 104_729) % 97) as f64 / 97.0 - 0.3).collect();
        let problem = ConvProblem::new(g, &input, &kernel).unwrap();
        let mut want = vec![0.0; g.output_len()];
        Direct.execute(&problem, &mut want).unwrap();
        let tol = testkit::tolerance::<f64>(&g, 0.5, 0.7);
        for backend in &backends {
            if backend.supports(&g).is_err() {
                continue; // im2col's patch matrix for the long 1-D rows is over its cap
            }
            let mut got = vec![f64::NAN; want.len()];
            backend.execute(&problem, &mut got).unwrap();
            if let Err(mismatch) = testkit::compare(&g, &got, &want, tol) {
                panic!("{} on {g:?}: {mismatch:?}", backend.name());
            }
            let plan = backend.plan(&g, &kernel).unwrap();
            got.fill(f64::NAN);
            plan.execute(&input, &mut got).unwrap();
            if let Err(mismatch) = testkit::compare(&g, &got, &want, tol) {
                panic!("{} plan on {g:?}: {mismatch:?}", backend.name());
            }
        }
    }
}
