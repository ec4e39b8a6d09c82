//! Winograd against Direct on every tiling it takes: signals, planes and volumes, odd output
//! lengths (a last tile half outside), 1-tap axes, groups, several chunks per batch item and
//! batches shared over threads.
#![allow(clippy::unwrap_used)]
use super::*;
use crate::backend::Direct;

/// `(batch, channels, outputs, groups, [(input, kernel)] for depth, height, width)`.
type Case = (usize, usize, usize, usize, [(usize, usize); 3]);

fn solve<T: ConvNum>(g: &Geometry, backend: &dyn ConvBackend<T>) -> Vec<T> {
    let value =
        |i: usize, seed: usize| T::from_f64_lossy(((i * 7919 + seed * 104_729) % 2001) as f64 / 1000.0 - 1.0);
    let input: Vec<T> = (0..g.input_len()).map(|i| value(i, 1)).collect();
    let kernel: Vec<T> = (0..g.kernel_len()).map(|i| value(i, 2)).collect();
    let problem = ConvProblem::new(*g, &input, &kernel).unwrap();
    let mut output = vec![T::nan(); g.output_len()];
    backend.execute(&problem, &mut output).unwrap();
    output
}

fn geometry((batch, channels, outputs, groups, axes): Case) -> Geometry {
    let axes: Vec<AxisGeometry> = axes
        .iter()
        .enumerate()
        .map(|(a, &(input, kernel))| AxisGeometry::new(a, input, kernel, 1, 1).unwrap())
        .collect();
    Geometry::new(batch, channels, outputs, groups, [axes[0], axes[1], axes[2]]).unwrap()
}

const CASES: [Case; 9] = [
    (1, 1, 1, 1, [(1, 1), (1, 1), (9, 3)]),      // a signal, odd output
    (2, 3, 4, 1, [(1, 1), (7, 3), (8, 3)]),      // planes, one odd axis
    (3, 4, 6, 2, [(1, 1), (6, 3), (6, 3)]),      // groups
    (1, 2, 2, 1, [(1, 1), (5, 1), (9, 3)]),      // a 1x3 kernel
    (2, 2, 3, 1, [(5, 3), (6, 3), (7, 3)]),      // volumes, odd and even outputs
    (1, 1, 1, 1, [(3, 3), (3, 3), (3, 3)]),      // one output
    (2, 4, 4, 4, [(6, 3), (4, 1), (6, 3)]),      // depthwise, a 3x1x3 kernel
    (3, 64, 64, 1, [(12, 3), (12, 3), (12, 3)]), // several chunks per item
    (4, 2, 2, 1, [(1, 1), (64, 3), (200, 3)]),   // long rows, items over threads
];

#[test]
fn winograd_gives_the_direct_sums() {
    for case in CASES {
        let g = geometry(case);
        assert!(<Winograd as ConvBackend<f64>>::supports(&Winograd, &g).is_ok(), "{case:?}");
        let (want, got) = (solve::<f64>(&g, &Direct), solve::<f64>(&g, &Winograd));
        let scale = want.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
        let worst = want.iter().zip(&got).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst <= 1e-12 * scale, "{case:?}: {worst:e} off (scale {scale})");
    }
}

/// The F(2, 3) error in f32, measured against f64 Direct: below 1e-5 of the output's scale
/// (27 x 64 taps per output in the volume case).
#[test]
fn winograd_f32_error_is_a_few_roundings() {
    for case in CASES {
        let g = geometry(case);
        let exact = solve::<f64>(&g, &Direct);
        let fast = solve::<f32>(&g, &Winograd);
        let scale = exact.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
        let worst = exact.iter().zip(&fast).map(|(a, &b)| (a - f64::from(b)).abs()).fold(0.0, f64::max);
        assert!(worst <= 1e-5 * scale, "{case:?}: {:e} of the scale", worst / scale);
    }
}

#[test]
fn other_kernels_strides_and_dilations_are_refused() {
    let refused = |axis: AxisGeometry| {
        let g = Geometry::planar(1, 1, 1, 1, [AxisGeometry::new(0, 9, 3, 1, 1).unwrap(), axis]).unwrap();
        matches!(<Winograd as ConvBackend<f64>>::supports(&Winograd, &g), Err(ConvError::Unsupported { .. }))
    };
    assert!(refused(AxisGeometry::new(1, 9, 5, 1, 1).unwrap()));
    assert!(refused(AxisGeometry::new(1, 9, 3, 2, 1).unwrap()));
    assert!(refused(AxisGeometry::new(1, 9, 3, 1, 2).unwrap()));
    assert!(!refused(AxisGeometry::new(1, 9, 3, 1, 1).unwrap()));
}
