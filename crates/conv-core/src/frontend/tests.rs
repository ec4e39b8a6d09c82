//! The edge split of long padded rows against one call on the whole padded row.
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
                    assert_eq!(got.len(), expected.len());
                    let scale = expected.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
                    for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
                        if backend.name() == "direct" {
                            assert_eq!(a.to_bits(), b.to_bits(), "{boundary:?} {spec:?} output {i}");
                        } else {
                            assert!(
                                (a - b).abs() <= 1e-12 * scale,
                                "{} {boundary:?} {spec:?} {i}",
                                backend.name()
                            );
                        }
                    }
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
