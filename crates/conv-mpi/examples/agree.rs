//! The distributed calls against the single-process call, under `mpirun` with any number of
//! ranks: many shapes (1-D to 3-D), every grid the ranks allow, kernels narrower and wider than
//! a block, every mode, boundary and kind, and three backends. Rank 0 gathers each result and
//! compares it with `conv_core::filter_with` on the whole array: bit for bit with Direct, within
//! 1e-10 of the output's scale with the transform backends. Exits with status 1 on any
//! difference (`crates/conv-mpi/run-tests.sh` runs it with 1, 2 and 4 ranks).

use std::process::ExitCode;

use conv_core::{Auto, Boundary, ConvBackend, ConvSpec, Direct, Fft, Mode};
use conv_mpi::{DistributedArray, MpiConvError, ProcessGrid, convolve, correlate};
use mpi::traits::Communicator;
use ndarray::{ArrayD, Dimension, IxDyn};

/// A deterministic value in [-0.5, 0.5) for each global index (seeded: the same on every rank).
fn value(seed: u64, index: &[usize]) -> f64 {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    for &i in index {
        state = (state ^ i as u64).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    }
    state ^= state >> 29;
    (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

/// Every way of writing `ranks` as one factor per axis with no factor above the axis length.
fn grids(ranks: usize, shape: &[usize]) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut grid = vec![1; shape.len()];
    fn walk(left: usize, axis: usize, shape: &[usize], grid: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if axis == shape.len() {
            if left == 1 {
                out.push(grid.clone());
            }
            return;
        }
        for f in (1..=left.min(shape[axis])).filter(|f| left.is_multiple_of(*f)) {
            grid[axis] = f;
            walk(left / f, axis + 1, shape, grid, out);
        }
    }
    walk(ranks, 0, shape, &mut grid, &mut out);
    out
}

fn main() -> ExitCode {
    let Some(universe) = mpi::initialize() else {
        eprintln!("MPI could not be initialised");
        return ExitCode::FAILURE;
    };
    let world = universe.world();
    let ranks = usize::try_from(world.size()).unwrap_or(1);
    let root = world.rank() == 0;
    let shapes: [&[usize]; 6] = [&[37], &[64], &[19, 23], &[32, 17], &[9, 10, 11], &[12, 8, 6]];
    let boundaries = [
        Boundary::Zeros,
        Boundary::Constant(0.5),
        Boundary::Symmetric,
        Boundary::Reflect,
        Boundary::Replicate,
        Boundary::Circular,
    ];
    let direct = Direct;
    let fft = Fft::default();
    let (mut compared, mut refused, mut failures) = (0usize, 0usize, 0usize);
    for (case, shape) in shapes.iter().enumerate() {
        let global = ArrayD::from_shape_fn(IxDyn(shape), |i| value(case as u64, i.slice()));
        // A 3-tap kernel, an even one, and one wider than any block of 2+ ranks (multi-hop).
        let kernel_shapes: Vec<Vec<usize>> = vec![
            vec![3; shape.len()],
            shape.iter().enumerate().map(|(a, _)| if a % 2 == 0 { 4 } else { 2 }).collect(),
            shape.iter().map(|&n| (n / 2 + 1).min(11)).collect(),
        ];
        for grid_shape in grids(ranks, shape) {
            let grid = match ProcessGrid::new(&world, &grid_shape) {
                Ok(grid) => grid,
                Err(error) => {
                    eprintln!("grid {grid_shape:?}: {error}");
                    return ExitCode::FAILURE;
                }
            };
            let Ok(input) = DistributedArray::from_global(&grid, &global) else {
                refused += 1;
                continue;
            };
            for (k, kernel_shape) in kernel_shapes.iter().enumerate() {
                let kernel = ArrayD::from_shape_fn(IxDyn(kernel_shape), |i| value(100 + k as u64, i.slice()));
                for mode in [Mode::Full, Mode::Same, Mode::Valid] {
                    for (b, &boundary) in boundaries.iter().enumerate() {
                        for correlation in [false, true] {
                            let mut backends: Vec<&dyn ConvBackend<f64>> = vec![&direct];
                            if b % 3 == 0 {
                                backends.push(&fft);
                                backends.push(Auto::shared());
                            }
                            for backend in backends {
                                let call = if correlation { correlate } else { convolve };
                                let result = call(&grid, &input, &kernel, mode, boundary, backend);
                                let output = match result {
                                    Ok((output, _)) => output,
                                    Err(MpiConvError::EmptyBlock { .. }) => {
                                        // A `Valid` output shorter than the grid: no block for some rank.
                                        refused += 1;
                                        continue;
                                    }
                                    Err(error) => {
                                        eprintln!("unexpected error: {error}");
                                        return ExitCode::FAILURE;
                                    }
                                };
                                let gathered = match output.gather(&grid, 0) {
                                    Ok(g) => g,
                                    Err(error) => {
                                        eprintln!("gather: {error}");
                                        return ExitCode::FAILURE;
                                    }
                                };
                                let Some(got) = gathered else { continue };
                                let spec = if correlation {
                                    ConvSpec::correlation()
                                } else {
                                    ConvSpec::convolution()
                                };
                                let spec = spec.mode(mode).boundary(boundary);
                                let expected = match conv_core::filter_with(&global, &kernel, &spec, &Direct)
                                {
                                    Ok(e) => e,
                                    Err(error) => {
                                        eprintln!(
                                            "{shape:?} {kernel_shape:?} {mode:?}: reference refused ({error}) but the distributed call did not"
                                        );
                                        failures += 1;
                                        continue;
                                    }
                                };
                                compared += 1;
                                let scale = expected.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
                                let exact = backend.name() == "direct";
                                let agree = got.shape() == expected.shape()
                                    && got.iter().zip(&expected).all(|(a, e)| {
                                        if exact {
                                            a.to_bits() == e.to_bits()
                                        } else {
                                            (a - e).abs() <= 1e-10 * scale
                                        }
                                    });
                                if !agree {
                                    failures += 1;
                                    eprintln!(
                                        "MISMATCH: ranks {ranks} grid {grid_shape:?} shape {shape:?} kernel {kernel_shape:?} {mode:?} {boundary:?} correlation {correlation} backend {}",
                                        backend.name()
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    if root {
        println!(
            "{ranks} rank(s): {compared} distributed results equal the single-process call, {refused} refused \
             (a valid output shorter than the grid), {failures} differ"
        );
    }
    // Typed refusals, the same on every rank, before any message.
    let grid = ProcessGrid::new(&world, &[ranks]);
    let wrong_rank = grid.as_ref().ok().and_then(|grid| {
        let input = DistributedArray::from_global(grid, &ArrayD::from_elem(IxDyn(&[64]), 1.0)).ok()?;
        let kernel = ArrayD::from_elem(IxDyn(&[3, 3]), 1.0);
        convolve(grid, &input, &kernel, Mode::Same, Boundary::Zeros, &Direct).err()
    });
    if wrong_rank != Some(MpiConvError::KernelRank { kernel: 2, array: 1 }) {
        eprintln!("a 2-D kernel on a 1-D array gave {wrong_rank:?}");
        failures += 1;
    }
    // A cap smaller than the largest rank's window: every rank refuses (none waits for another).
    let capped = ProcessGrid::new(&world, &[ranks]).map(|grid| grid.with_max_buffer_bytes(100));
    let over_cap = capped.as_ref().ok().and_then(|grid| {
        let input = DistributedArray::from_global(grid, &ArrayD::from_elem(IxDyn(&[64]), 1.0)).ok()?;
        let kernel = ArrayD::from_elem(IxDyn(&[3]), 1.0);
        convolve(grid, &input, &kernel, Mode::Same, Boundary::Zeros, &Direct).err()
    });
    if !matches!(over_cap, Some(MpiConvError::TooLarge { .. })) {
        eprintln!("a 100-byte cap gave {over_cap:?}");
        failures += 1;
    }
    if ProcessGrid::new(&world, &[ranks + 1]).err() != Some(MpiConvError::GridSize { grid: ranks + 1, ranks })
    {
        eprintln!("a grid of the wrong size was not refused");
        failures += 1;
    }
    // An array distributed over one grid, convolved on another of the same size: refused.
    if ranks > 1 {
        let rows = ProcessGrid::new(&world, &[ranks, 1]);
        let cols = ProcessGrid::new(&world, &[1, ranks]);
        let other = rows.as_ref().ok().zip(cols.as_ref().ok()).and_then(|(rows, cols)| {
            let input = DistributedArray::from_global(rows, &ArrayD::from_elem(IxDyn(&[8, 8]), 1.0)).ok()?;
            let kernel = ArrayD::from_elem(IxDyn(&[3, 3]), 1.0);
            convolve(cols, &input, &kernel, Mode::Same, Boundary::Zeros, &Direct).err()
        });
        let expected = MpiConvError::OtherGrid { array: vec![ranks, 1], grid: vec![1, ranks] };
        if other != Some(expected) {
            eprintln!("an array of another grid of the same size gave {other:?}");
            failures += 1;
        }
    }
    // The checks above cannot pass by comparing nothing.
    let expected_at_least = 1000;
    if root && compared < expected_at_least {
        eprintln!("only {compared} comparisons ran");
        failures += 1;
    }
    if failures > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
