//! The spectral machinery against direct sums.
#![allow(clippy::unwrap_used)]
use super::threads::{tile_split, transform_threads};
use super::transforms::Plans;
use super::*;
use crate::backend::{ConvBackend, ConvProblem, Direct, Fft, OverlapSave};
use crate::geometry::AxisGeometry;
use crate::parallel;

/// Batch, channels, filters, groups, and per axis `[input, kernel, stride, dilation]`.
type Case = (usize, usize, usize, usize, [usize; 4], [usize; 4]);

fn geometry((batch, c, o, groups, rows, cols): Case) -> Geometry {
    let axis = |index, [input, kernel, stride, dilation]: [usize; 4]| {
        AxisGeometry::new(index, input, kernel, stride, dilation).unwrap()
    };
    Geometry::planar(batch, c, o, groups, [axis(1, rows), axis(2, cols)]).unwrap()
}

fn values(len: usize, seed: u64) -> Vec<f64> {
    // A fixed, irregular sequence in [-1, 1).
    (0..len as u64).map(|i| ((i * 7919 + seed * 104_729) % 2003) as f64 / 1001.5 - 1.0).collect()
}

fn assert_matches_direct(backend: &dyn ConvBackend<f64>, g: &Geometry, what: &str) {
    let input = values(g.input_len(), 3);
    let kernel = values(g.kernel_len(), 5);
    let problem = ConvProblem::new(*g, &input, &kernel).unwrap();
    let mut want = vec![0.0; g.output_len()];
    Direct.execute(&problem, &mut want).unwrap();
    let mut got = vec![f64::NAN; want.len()];
    backend.execute(&problem, &mut got).unwrap();
    let bound = 1e-12 * (g.in_per_group() * g.kernel_plane()) as f64;
    for (k, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!((a - b).abs() < bound, "{what}, output {k}: {a} vs {b}");
    }
}

/// A backend answering through a plan of the wrapped one.
struct Planned<B>(B);

impl<B: ConvBackend<f64>> ConvBackend<f64> for Planned<B> {
    fn name(&self) -> &str {
        "planned"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        self.0.supports(g)
    }

    fn execute(&self, problem: &ConvProblem<'_, f64>, output: &mut [f64]) -> Result<(), ConvError> {
        self.0.plan(problem.geometry(), problem.kernel())?.execute(problem.input(), output)
    }
}

/// One image large enough that the stages of its transforms are shared out over the
/// threads: every output of a grouped, strided, dilated problem, each grid row and column
/// handled by whichever worker got it.
#[test]
fn transforms_shared_out_over_threads_match_direct() {
    for case in [
        (1, 2, 4, 2, [200, 7, 2, 1], [190, 5, 3, 2]),
        (1, 1, 1, 1, [300, 31, 1, 1], [257, 31, 1, 1]),
        (1, 3, 2, 1, [160, 4, 1, 3], [170, 6, 2, 1]),
    ] {
        let g = geometry(case);
        let [_, lh, lw] = Fft::grid(&g);
        let plans = Plans::<f64>::new([lh, lw]);
        assert_eq!(transform_threads(&g, plans.grid), parallel::max_threads(), "{case:?}");
        assert_eq!(tile_split(&g, [Blocking { grid: 1, tile: usize::MAX }; 2]).1, 1);
        // A one-shot call (the kernel's columns transformed inside the call) and a plan.
        assert_matches_direct(&Fft::default(), &g, &format!("{case:?}"));
        assert_matches_direct(&Planned(Fft::default()), &g, &format!("{case:?}, planned"));
    }
}

/// Small images and a batch: whole items per thread.
#[test]
fn batch_items_shared_out_match_direct() {
    let g = geometry((7, 4, 6, 2, [12, 3, 1, 1], [11, 5, 2, 1]));
    assert_matches_direct(&Fft::default(), &g, "batch of 7");
    assert_matches_direct(&Planned(Fft::default()), &g, "batch of 7, planned");
}

/// A long one-row output split by columns (its bands are pieces of one row), and tiles
/// split by rows.
#[test]
fn tiles_shared_out_match_direct() {
    for case in [
        (1, 1, 1, 1, [1, 1, 1, 1], [300_000, 31, 1, 1]),
        (2, 1, 2, 1, [1, 1, 1, 1], [200_000, 40, 3, 2]),
        (1, 1, 2, 1, [400, 9, 2, 1], [300, 11, 1, 2]),
    ] {
        let g = geometry(case);
        let backend = OverlapSave::default();
        assert_eq!(backend.threads(&g), parallel::max_threads(), "{case:?}");
        assert_matches_direct(&backend, &g, &format!("{case:?}"));
    }
}
