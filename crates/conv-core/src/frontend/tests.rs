//! The edge split of long padded rows and the band solver of padded images, each against one
//! call on the whole padded input.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::backend::{Direct, Fft, Im2col, OverlapSave, Toeplitz};
use crate::spec::{Boundary, Mode, Padding};

fn values(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect()
}

/// The whole padded row in one call: what `solve` did before it split long rows.
fn unsplit(
    input: &[f64],
    input_shape: &[usize],
    kernel: &[f64],
    kernel_shape: &[usize],
    spec: &ConvSpec,
    backend: &dyn ConvBackend<f64>,
) -> Vec<f64> {
    let resolved = spec.resolve_with(input_shape, kernel_shape, OperandRule::Layer, 8).unwrap();
    let (padded, oriented) = {
        let mut padded = Vec::new();
        pad_input_into(input, &resolved, &mut padded).unwrap();
        (padded, orient_kernel(kernel, spec.kind, &resolved).unwrap())
    };
    let mut output = vec![0.0; resolved.geometry.output_len()];
    backend.execute(&ConvProblem::new(resolved.geometry, &padded, &oriented).unwrap(), &mut output).unwrap();
    output
}

/// Direct's outputs equal bit for bit (the same sums in the same order); the transform
/// backends' within 1e-12 of the largest output.
fn assert_same_sums(got: &[f64], expected: &[f64], backend: &dyn ConvBackend<f64>, case: &str) {
    assert_eq!(got.len(), expected.len(), "{case}");
    let scale = expected.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    for (i, (a, b)) in got.iter().zip(expected).enumerate() {
        if backend.name() == "direct" {
            assert_eq!(a.to_bits(), b.to_bits(), "{case} output {i}");
        } else {
            assert!((a - b).abs() <= 1e-12 * scale, "{} {case} output {i}", backend.name());
        }
    }
}

#[test]
fn long_rows_split_at_the_edges_give_the_sums_of_the_padded_row() {
    let width = 5003;
    let boundaries = [
        Boundary::Zeros,
        Boundary::Constant(2.5),
        Boundary::Symmetric,
        Boundary::Reflect,
        Boundary::Replicate,
        Boundary::Circular,
    ];
    let backends: [&dyn ConvBackend<f64>; 5] =
        [&Direct, &Toeplitz::default(), &Fft::default(), &Im2col::default(), &OverlapSave::default()];
    let mut splits = 0;
    for (case, &boundary) in boundaries.iter().enumerate() {
        for (channels, taps, dilation) in [(1, 3, 1), (2, 7, 3), (1, 64, 1)] {
            for spec in [
                ConvSpec::convolution().mode(Mode::Full),
                ConvSpec::correlation().mode(Mode::Same),
                ConvSpec::convolution().padding(Padding::Explicit(vec![(5, 300)])),
            ] {
                let spec = spec.boundary(boundary).dilation(dilation);
                let (input_shape, kernel_shape) = ([1, channels, width], [1, channels, taps]);
                let input = values(channels * width, case as u64);
                let kernel = values(channels * taps, 99);
                let resolved = spec.resolve_with(&input_shape, &kernel_shape, OperandRule::Layer, 8).unwrap();
                splits += usize::from(worth_splitting_at_edges(&resolved).is_some());
                for backend in backends {
                    let solved = solve(
                        &ndarray::ArrayView1::from(&input),
                        &input_shape,
                        &ndarray::ArrayView1::from(&kernel),
                        &kernel_shape,
                        &spec,
                        OperandRule::Layer,
                        backend,
                    );
                    if backend.supports(&resolved.geometry).is_err() {
                        assert!(solved.is_err(), "refused whole, refused split");
                        continue;
                    }
                    let expected = unsplit(&input, &input_shape, &kernel, &kernel_shape, &spec, backend);
                    let (got, _) = solved.unwrap();
                    assert_same_sums(&got, &expected, backend, &format!("{boundary:?} {spec:?}"));
                }
            }
        }
    }
    // The 64-tap kernel with dilation 1 and the 7-tap with dilation 3 stay whole (span x 16 >
    // interior for the first; explicit 300-sample padding on the right is still split).
    assert!(splits >= boundaries.len() * 5, "most cases take the split path: {splits}");
}

#[test]
fn batches_strides_and_short_rows_stay_whole() {
    let spec = ConvSpec::convolution().mode(Mode::Full);
    let long = |shape: &[usize], kernel: &[usize], spec: &ConvSpec| {
        worth_splitting_at_edges(&spec.resolve_with(shape, kernel, OperandRule::Layer, 8).unwrap())
    };
    assert!(long(&[1, 1, 10_000], &[1, 1, 3], &spec).is_some());
    assert!(long(&[2, 1, 10_000], &[1, 1, 3], &spec).is_none(), "two signals");
    assert!(long(&[1, 1, 10_000], &[2, 1, 3], &spec).is_none(), "two kernels");
    assert!(long(&[1, 1, 10_000], &[1, 1, 3], &spec.clone().stride(2)).is_none(), "stride 2");
    assert!(long(&[1, 1, 1000], &[1, 1, 3], &spec).is_none(), "short signal");
    assert!(long(&[1, 1, 8, 10_000], &[1, 1, 3, 3], &spec).is_none(), "an image");
    let split = long(&[1, 1, 10_000], &[1, 1, 3], &spec).unwrap();
    assert_eq!((split.leading, split.interior, split.trailing, split.span), (2, 9998, 2, 3));
    assert_eq!((split.leading_reads(), split.trailing_reads()), (0..4, 10_000..10_004));
}

#[test]
fn images_solved_in_bands_give_the_sums_of_the_padded_image() {
    let boundaries = [
        Boundary::Zeros,
        Boundary::Constant(-1.5),
        Boundary::Symmetric,
        Boundary::Reflect,
        Boundary::Replicate,
        Boundary::Circular,
    ];
    let backends: [&dyn ConvBackend<f64>; 5] =
        [&Direct, &Toeplitz::default(), &Fft::default(), &Im2col::default(), &OverlapSave::default()];
    let mut banded = 0;
    let mut cases = 0;
    for (case, &boundary) in boundaries.iter().enumerate() {
        // 400 x 700 with a 3x3 kernel is over 2^21 multiply-adds: two threads share the bands.
        for (height, width, kernel_dims, stride, dilation) in [
            (400, 700, [3, 3], 1, 1),
            (301, 517, [2, 5], 1, 1),
            (600, 130, [7, 7], 1, 1),
            (700, 211, [3, 4], 2, 2),
            (40, 300, [3, 3], 1, 1),
        ] {
            for spec in [
                ConvSpec::convolution().mode(Mode::Same),
                ConvSpec::correlation().mode(Mode::Full),
                ConvSpec::convolution().padding(Padding::Explicit(vec![(3, 0), (0, 9)])),
            ] {
                let spec = spec.boundary(boundary).stride(stride).dilation(dilation);
                let (input_shape, kernel_shape) =
                    ([1, 1, height, width], [1, 1, kernel_dims[0], kernel_dims[1]]);
                let input = values(height * width, case as u64 + 10);
                let kernel = values(kernel_dims[0] * kernel_dims[1], 7);
                let resolved = spec.resolve_with(&input_shape, &kernel_shape, OperandRule::Layer, 8).unwrap();
                cases += 1;
                banded += usize::from(bands::worth_solving_in_bands(&resolved).is_some());
                for backend in backends {
                    if backend.supports(&resolved.geometry).is_err() {
                        continue;
                    }
                    let (got, _) = solve(
                        &ndarray::ArrayView1::from(&input),
                        &input_shape,
                        &ndarray::ArrayView1::from(&kernel),
                        &kernel_shape,
                        &spec,
                        OperandRule::Layer,
                        backend,
                    )
                    .unwrap();
                    let expected = unsplit(&input, &input_shape, &kernel, &kernel_shape, &spec, backend);
                    assert_same_sums(&got, &expected, backend, &format!("{boundary:?} {spec:?}"));
                }
            }
        }
    }
    // Every image but the 40-row one (too few output rows for two bands) is solved in bands.
    assert_eq!(banded, cases * 4 / 5, "the band path is the one tested");
}

#[test]
fn batches_channels_volumes_and_wide_kernels_stay_whole() {
    let spec = ConvSpec::convolution().mode(Mode::Same);
    let bands_of = |shape: &[usize], kernel: &[usize], spec: &ConvSpec| {
        bands::worth_solving_in_bands(&spec.resolve_with(shape, kernel, OperandRule::Layer, 8).unwrap())
    };
    assert!(bands_of(&[1, 1, 512, 512], &[1, 1, 3, 3], &spec).is_some());
    assert!(bands_of(&[2, 1, 512, 512], &[1, 1, 3, 3], &spec).is_none(), "two images");
    assert!(bands_of(&[1, 2, 512, 512], &[1, 2, 3, 3], &spec).is_none(), "two channels");
    assert!(bands_of(&[1, 1, 512, 512], &[2, 1, 3, 3], &spec).is_none(), "two kernels");
    assert!(bands_of(&[1, 1, 512, 512], &[1, 1, 9, 3], &spec).is_none(), "a kernel of 9 rows");
    assert!(bands_of(&[1, 1, 512, 512], &[1, 1, 3, 3], &spec.clone().dilation(4)).is_none(), "span 9");
    assert!(bands_of(&[1, 1, 4, 512, 512], &[1, 1, 1, 3, 3], &spec).is_none(), "a volume");
    assert!(
        bands_of(&[1, 1, 512, 512], &[1, 1, 3, 3], &ConvSpec::convolution()).is_none(),
        "valid: no padding"
    );
}
