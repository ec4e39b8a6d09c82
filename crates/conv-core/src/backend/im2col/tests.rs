//! im2col against Direct: bands, shared products, shifted views, transposed patch matrices.
#![allow(clippy::unwrap_used)]
use super::channels_first::{PatchOrder, copy_row};
use super::small_channels_first;
use super::*;
use crate::backend::Direct;
use crate::geometry::AxisGeometry;

/// Kernels wider than the output (the weight gradient of a layer: a 13x13 "kernel" over a
/// 15x15 input gives 3x3), with strides, channels, groups and batches, in bands of one
/// output row and in products of several items: both patch orders agree with Direct.
#[test]
fn position_rows_give_the_direct_sums() {
    let cases = [
        // (batch, channels, outputs, groups, [input, kernel, stride, dilation] per axis)
        (3, 4, 2, 1, [(15, 13, 1, 1), (15, 13, 1, 1)]),
        (2, 2, 4, 2, [(9, 4, 2, 1), (11, 5, 2, 1)]),
        (1, 3, 1, 1, [(1, 1, 1, 1), (40, 31, 1, 1)]),
        (2, 1, 2, 1, [(12, 3, 1, 2), (12, 3, 1, 2)]), // dilated: tap rows
        (4, 2, 5, 1, [(20, 3, 1, 1), (20, 3, 1, 1)]), // an ordinary layer: tap rows
    ];
    for (batch, channels, outputs, groups, axes) in cases {
        let axes = [0, 1].map(|a| {
            let (input, kernel, stride, dilation) = axes[a];
            AxisGeometry::new(a, input, kernel, stride, dilation).unwrap()
        });
        let g = Geometry::planar(batch, channels, outputs, groups, axes).unwrap();
        let value = |i: usize, seed: usize| ((i * 7919 + seed * 104_729) % 2001) as f64 / 1000.0 - 1.0;
        let input: Vec<f64> = (0..g.input_len()).map(|i| value(i, 1)).collect();
        let kernel: Vec<f64> = (0..g.kernel_len()).map(|i| value(i, 2)).collect();
        let problem = ConvProblem::new(g, &input, &kernel).unwrap();
        let mut expected = vec![0.0; g.output_len()];
        Direct.execute(&problem, &mut expected).unwrap();
        let one_row = (g.in_per_group() * g.kernel_plane() * g.plane_axes()[1].output * 8).max(1);
        for backend in [Im2col::default(), Im2col::with_cap_bytes(one_row)] {
            let mut got = vec![f64::NAN; expected.len()];
            backend.execute(&problem, &mut got).unwrap();
            for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
                assert!((a - b).abs() <= 1e-11, "{g:?} output {i}: {a} vs {b}");
            }
        }
    }
    let wide =
        Geometry::planar(1, 1, 1, 1, [AxisGeometry::TRIVIAL, AxisGeometry::new(1, 40, 31, 1, 1).unwrap()]);
    assert_eq!(PatchOrder::for_geometry(&wide.unwrap()), PatchOrder::PositionRows);
}

/// Large planes with enough channels are solved from shifted views of the input, in one
/// band or several, with dilation, groups and rectangular kernels: the same sums as Direct.
#[test]
fn shifted_views_give_the_direct_sums() {
    let cases = [
        // (batch, channels, outputs, groups, [input, kernel, dilation] per axis, cap bytes)
        (2, 16, 8, 1, [(40, 3, 1), (40, 3, 1)], 50_000),
        (1, 16, 4, 1, [(30, 3, 2), (33, 3, 2)], 50_000),
        (2, 32, 6, 2, [(24, 3, 1), (40, 5, 1)], 80_000),
        (3, 20, 5, 1, [(17, 4, 1), (40, 2, 1)], Im2col::DEFAULT_CAP_BYTES),
    ];
    for (batch, channels, outputs, groups, axes, cap) in cases {
        let axes = [0, 1].map(|a| {
            let (input, kernel, dilation) = axes[a];
            AxisGeometry::new(a, input, kernel, 1, dilation).unwrap()
        });
        let g = Geometry::planar(batch, channels, outputs, groups, axes).unwrap();
        let backend = Im2col::with_cap_bytes(cap);
        let layout = Layout::new::<f64>(&backend, &g).unwrap();
        if cap == Im2col::DEFAULT_CAP_BYTES {
            assert!(!layout.shifted, "a small plane shares a product with other items");
            continue;
        }
        assert!(layout.shifted, "{g:?}");
        if outputs == 8 {
            assert!(layout.band_rows < g.plane_axes()[0].output, "the first case runs in several bands");
        }
        let value = |i: usize, seed: usize| ((i * 7919 + seed * 104_729) % 2001) as f64 / 1000.0 - 1.0;
        let input: Vec<f64> = (0..g.input_len()).map(|i| value(i, 3)).collect();
        let kernel: Vec<f64> = (0..g.kernel_len()).map(|i| value(i, 4)).collect();
        let problem = ConvProblem::new(g, &input, &kernel).unwrap();
        let mut expected = vec![0.0; g.output_len()];
        Direct.execute(&problem, &mut expected).unwrap();
        let mut got = vec![f64::NAN; expected.len()];
        backend.execute(&problem, &mut got).unwrap();
        for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
            assert!((a - b).abs() <= 1e-11, "{g:?} output {i}: {a} vs {b}");
        }
        let plan = backend.plan(&g, &kernel).unwrap();
        let mut planned = vec![f64::NAN; expected.len()];
        plan.execute(&input, &mut planned).unwrap();
        assert_eq!(planned, got, "the plan runs the same products");
    }
}

#[test]
fn rows_of_every_length_and_stride_are_copied_exactly() {
    let source: Vec<u32> = (0..200).collect();
    for stride in 1..=3 {
        for len in 0..=40 {
            let mut dest = vec![u32::MAX; len + 2];
            copy_row(&mut dest[1..=len], &source[5..], stride);
            let expected: Vec<u32> = (0..len).map(|i| 5 + (i * stride) as u32).collect();
            assert_eq!(&dest[1..=len], &expected[..], "len {len}, stride {stride}");
            assert_eq!((dest[0], dest[len + 1]), (u32::MAX, u32::MAX), "neighbours untouched");
        }
    }
}

/// Issue 22, "no refusal where tiling would do": a 20,000-sample signal with a 2,001-tap kernel
/// (288 MB of patches for its one output row, over the 64 MiB cap) was refused; it is now solved
/// in tiles of output columns, as are strided, dilated, grouped images under a tiny cap, and the
/// answers are Direct's. Only a single output position over the cap is refused.
#[test]
fn rows_over_the_cap_are_solved_in_column_tiles() {
    let value = |i: usize, seed: usize| ((i * 7919 + seed * 104_729) % 2001) as f64 / 1000.0 - 1.0;
    let cases = [
        (1, 1, 1, 1, [(1, 1, 1, 1), (20_000, 2001, 1, 1)], Im2col::default()),
        (2, 4, 6, 2, [(9, 3, 1, 1), (40, 5, 2, 2)], Im2col::with_cap_bytes(512)),
        (1, 2, 3, 1, [(7, 2, 2, 1), (33, 4, 3, 1)], Im2col::with_cap_bytes(256)),
    ];
    for (batch, channels, outputs, groups, axes, backend) in cases {
        let axes = [0, 1].map(|a| {
            let (input, kernel, stride, dilation) = axes[a];
            AxisGeometry::new(a, input, kernel, stride, dilation).unwrap()
        });
        let g = Geometry::planar(batch, channels, outputs, groups, axes).unwrap();
        let one_row = g.in_per_group() * g.kernel_plane() * g.plane_axes()[1].output * 8;
        assert!(one_row > backend.cap_bytes, "{g:?} would not be tiled");
        let input: Vec<f64> = (0..g.input_len()).map(|i| value(i, 1)).collect();
        let kernel: Vec<f64> = (0..g.kernel_len()).map(|i| value(i, 2)).collect();
        let problem = ConvProblem::new(g, &input, &kernel).unwrap();
        let mut expected = vec![0.0; g.output_len()];
        Direct.execute(&problem, &mut expected).unwrap();
        ConvBackend::<f64>::supports(&backend, &g).unwrap();
        let mut got = vec![f64::NAN; expected.len()];
        backend.execute(&problem, &mut got).unwrap();
        let scale = expected.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
            assert!((a - b).abs() <= 1e-11 * scale, "{g:?} output {i}: {a} vs {b}");
        }
        // Planned and channels-last calls take the same tiles.
        let plan = backend.plan(&g, &kernel).unwrap();
        let mut planned = vec![f64::NAN; expected.len()];
        plan.execute(&input, &mut planned).unwrap();
        assert_eq!(planned, got);
    }
    // One output position's patches (2,001 taps of 8 bytes) over a 1 KiB cap: refused.
    let g = Geometry::planar(
        1,
        1,
        1,
        1,
        [AxisGeometry::TRIVIAL, AxisGeometry::new(1, 4000, 2001, 1, 1).unwrap()],
    )
    .unwrap();
    assert!(matches!(
        ConvBackend::<f64>::supports(&Im2col::with_cap_bytes(1024), &g),
        Err(ConvError::TooLarge { .. })
    ));
}

/// Channels-first layers with few taps take the register-blocked solve
/// (`small_channels_first.rs`): blocks of 1 to 8 output planes (a block never spans two images),
/// the last run of positions cut short, row and column dilation, rectangular kernels, one
/// image and many, in f64 and f32; each agrees with Direct. Through a plan as well.
#[test]
fn few_channel_planes_agree_with_direct() {
    let cases = [
        // (batch, channels, outputs, [input, kernel, dilation] per axis)
        (2, 3, 32, [(12, 3, 1), (11, 3, 1)]),
        (1, 1, 10, [(8, 3, 1), (8, 3, 1)]),
        (3, 2, 7, [(9, 2, 2), (17, 3, 2)]),
        (5, 1, 13, [(6, 5, 1), (40, 1, 1)]),
        (2, 3, 5, [(1, 1, 1), (33, 4, 1)]),
        (4, 3, 16, [(32, 3, 1), (32, 3, 1)]),
        // One kernel row under an absurd row dilation (never multiplied out).
        (2, 3, 8, [(4, 1, usize::MAX), (12, 3, 1)]),
    ];
    for (seed, &(batch, channels, outputs, axes)) in cases.iter().enumerate() {
        let axes = [0, 1].map(|a| {
            let (input, kernel, dilation) = axes[a];
            AxisGeometry::new(a, input, kernel, 1, dilation).unwrap()
        });
        let g = Geometry::planar(batch, channels, outputs, 1, axes).unwrap();
        assert!(small_channels_first::applies(&g), "case {seed}");
        let value = |i: usize, salt: usize| ((i * 7919 + salt * 104_729) % 2001) as f64 / 1000.0 - 1.0;
        let input: Vec<f64> = (0..g.input_len()).map(|i| value(i, seed + 1)).collect();
        let kernel: Vec<f64> = (0..g.kernel_len()).map(|i| value(i, seed + 50)).collect();
        let problem = ConvProblem::new(g, &input, &kernel).unwrap();
        let mut want = vec![0.0; g.output_len()];
        Direct.execute(&problem, &mut want).unwrap();
        let mut got = vec![f64::NAN; want.len()];
        Im2col::default().execute(&problem, &mut got).unwrap();
        let taps = (channels * g.kernel_plane()) as f64;
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!((a - b).abs() <= 1e-13 * taps, "case {seed} output {i}: {a} vs {b}");
        }
        let backend = Im2col::default();
        let plan = ConvBackend::<f64>::plan(&backend, &g, &kernel).unwrap();
        let mut planned = vec![f64::NAN; want.len()];
        plan.execute(&input, &mut planned).unwrap();
        assert_eq!(planned, got, "case {seed}: the plan differs from execute");
        // f32: the same path, 16 positions per register.
        let input32: Vec<f32> = input.iter().map(|&v| v as f32).collect();
        let kernel32: Vec<f32> = kernel.iter().map(|&v| v as f32).collect();
        let mut got32 = vec![f32::NAN; want.len()];
        Im2col::default().execute(&ConvProblem::new(g, &input32, &kernel32).unwrap(), &mut got32).unwrap();
        for (i, (a, b)) in got32.iter().zip(&want).enumerate() {
            assert!((f64::from(*a) - b).abs() <= 1e-6 * taps, "case {seed} f32 output {i}: {a} vs {b}");
        }
    }
}
