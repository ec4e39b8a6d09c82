//! The tiles of [`Winograd`](super::Winograd): the per-axis tiling, the kernel, input and output
//! transforms, and one batch item's work in chunks of tile rows.
//!
//! A *tile row* is the run of tiles along the width at one (depth, height) tile position. The
//! transforms of a tile row are computed for all its tiles at once, as vectors of `lanes`
//! values (one per tile, padded to a multiple of [`LANES`]), so they vectorise; the products
//! then take a chunk of tile rows at a time.

use convkit_gemm::{MatMut, MatRef, matmul};

use super::transformed;
use crate::backend::ConvProblem;
use crate::buffers;
use crate::error::ConvError;
use crate::geometry::{AxisGeometry, Geometry};
use crate::num::ConvNum;

/// Lane vectors are padded to a multiple of this many values (one AVX-512 register of `f32`).
const LANES: usize = 16;

/// Values of one chunk's transformed tiles (or products) a thread aims to keep: 256 K values,
/// 1 MiB of `f32`, about the second-level cache (measured on the 2-core AMD EPYC).
const CHUNK_VALUES: usize = 1 << 18;

/// One axis of the tiling: F(2, 3) when the kernel has 3 taps, carried through when it has 1.
#[derive(Clone, Copy, Debug)]
struct AxisTiles {
    /// Whether the axis is transformed.
    transformed: bool,
    /// Input and output lengths.
    input: usize,
    output: usize,
    /// Outputs per tile (2, or 1) and transform points per tile (4, or 1).
    step: usize,
    points: usize,
    /// Tiles along the axis.
    tiles: usize,
}

impl AxisTiles {
    fn of(axis: &AxisGeometry) -> AxisTiles {
        let transformed = transformed(axis);
        let (step, points) = if transformed { (2, 4) } else { (1, 1) };
        AxisTiles { transformed, input: axis.input, output: axis.output, step, points, tiles: axis.output.div_ceil(step) }
    }
}

/// The tiling of a geometry Winograd supports.
#[derive(Clone, Copy, Debug)]
pub(super) struct Shape {
    /// Depth, height and width.
    axes: [AxisTiles; 3],
    /// Transform points per tile: the product of the axes' points (64 for a 3x3x3 kernel).
    points: usize,
    /// Lanes of a tile row's vectors: the width's tiles, rounded up to [`LANES`].
    lanes: usize,
    /// Tile rows per chunk.
    chunk_rows: usize,
}

impl Shape {
    /// The tiling of `g` (which Winograd supports).
    ///
    /// # Errors
    /// [`ConvError::Overflow`] if a tile count does not fit `usize`.
    pub(super) fn of(g: &Geometry) -> Result<Shape, ConvError> {
        let axes = g.axes().map(|axis| AxisTiles::of(&axis));
        let points = axes.iter().map(|a| a.points).product::<usize>();
        let width = axes[2].tiles;
        let lanes = width.div_ceil(LANES).checked_mul(LANES).ok_or(ConvError::Overflow { what: "the Winograd tiles" })?;
        let per_row = points * g.in_per_group().max(g.out_per_group()) * width.max(1);
        let chunk_rows = (CHUNK_VALUES / per_row.max(1)).clamp(1, (axes[0].tiles * axes[1].tiles).max(1));
        Ok(Shape { axes, points, lanes, chunk_rows })
    }

    /// Tiles of one batch item.
    fn tiles_per_item(&self) -> u128 {
        self.axes.iter().map(|a| a.tiles as u128).product()
    }

    /// Multiply-adds of the products: `N tiles points O Cg`.
    pub(super) fn multiply_adds(&self, g: &Geometry) -> u128 {
        let per_tile = (self.points as u128) * (g.out_channels() as u128) * (g.in_per_group() as u128);
        (g.batch() as u128) * self.tiles_per_item() * per_tile
    }

    /// Values of the transformed input and output tiles: `N tiles points (C + O)`.
    pub(super) fn transformed_values(&self, g: &Geometry) -> f64 {
        let channels = (g.in_channels() + g.out_channels()) as f64;
        g.batch() as f64 * self.tiles_per_item() as f64 * self.points as f64 * channels
    }

    /// `U = G g G^T` for every kernel of the bank, laid out `[points][O][Cg]`: for each
    /// transform point, the `O x Cg` matrix the products take.
    ///
    /// # Errors
    /// [`ConvError::OutOfMemory`] if the transformed bank cannot be allocated.
    pub(super) fn transform_kernels<T: ConvNum>(&self, g: &Geometry, kernel: &[T]) -> Result<Vec<T>, ConvError> {
        let (out, cg) = (g.out_channels(), g.in_per_group());
        let len = self.points.checked_mul(out).and_then(|n| n.checked_mul(cg)).ok_or(ConvError::Overflow { what: "the Winograd tiles" })?;
        let mut bank = buffers::filled(len, T::zero(), "the Winograd kernel transforms")?;
        let taps = g.kernel_plane();
        let [depth, height, width] = self.axes;
        let mut spread = Vec::with_capacity(self.points);
        let mut next = Vec::with_capacity(self.points);
        for (pair, kernel) in kernel.chunks_exact(taps.max(1)).enumerate().take(out * cg) {
            spread.clear();
            spread.extend_from_slice(kernel);
            // Width, height, depth: `[KD][KH][KW]` becomes `[PD][PH][PW]`.
            let kh = if height.transformed { 3 } else { 1 };
            let kd = if depth.transformed { 3 } else { 1 };
            if width.transformed {
                expand_kernel_axis(&spread, &mut next, kd * kh, 1);
                std::mem::swap(&mut spread, &mut next);
            }
            if height.transformed {
                expand_kernel_axis(&spread, &mut next, kd, width.points);
                std::mem::swap(&mut spread, &mut next);
            }
            if depth.transformed {
                expand_kernel_axis(&spread, &mut next, 1, height.points * width.points);
                std::mem::swap(&mut spread, &mut next);
            }
            for (point, &value) in spread.iter().enumerate() {
                bank[point * out * cg + pair] = value;
            }
        }
        Ok(bank)
    }
}

/// `G g` along the middle axis of `src` (`outer x 3 x inner`) into `dst` (`outer x 4 x inner`):
/// `G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]`.
fn expand_kernel_axis<T: ConvNum>(src: &[T], dst: &mut Vec<T>, outer: usize, inner: usize) {
    let half = T::from_f64_lossy(0.5);
    dst.clear();
    for o in 0..outer {
        let tap = |j: usize, q: usize| src[(o * 3 + j) * inner + q];
        for point in 0..4 {
            for q in 0..inner {
                let (g0, g1, g2) = (tap(0, q), tap(1, q), tap(2, q));
                dst.push(match point {
                    0 => g0,
                    1 => (g0 + g1 + g2) * half,
                    2 => (g0 - g1 + g2) * half,
                    _ => g2,
                });
            }
        }
    }
}

/// `B^T d` along the middle axis of `src` (`outer x 4 x inner` lane vectors) into `dst`:
/// `B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]`.
#[inline(always)]
fn input_axis<T: ConvNum>(src: &[T], dst: &mut [T], outer: usize, inner: usize, lanes: usize) {
    let block = inner * lanes;
    for (from, to) in src.chunks_exact(4 * block).zip(dst.chunks_exact_mut(4 * block)).take(outer) {
        let (d0, rest) = from.split_at(block);
        let (d1, rest) = rest.split_at(block);
        let (d2, d3) = rest.split_at(block);
        let (t0, rest) = to.split_at_mut(block);
        let (t1, rest) = rest.split_at_mut(block);
        let (t2, t3) = rest.split_at_mut(block);
        for i in 0..block {
            let (a, b, c, d) = (d0[i], d1[i], d2[i], d3[i]);
            t0[i] = a - c;
            t1[i] = b + c;
            t2[i] = c - b;
            t3[i] = b - d;
        }
    }
}

/// `A^T m` along the middle axis of `src` (`outer x 4 x inner` lane vectors) into `dst`
/// (`outer x 2 x inner`): `A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]`.
#[inline(always)]
fn output_axis<T: ConvNum>(src: &[T], dst: &mut [T], outer: usize, inner: usize, lanes: usize) {
    let block = inner * lanes;
    for (from, to) in src.chunks_exact(4 * block).zip(dst.chunks_exact_mut(2 * block)).take(outer) {
        let (m0, rest) = from.split_at(block);
        let (m1, rest) = rest.split_at(block);
        let (m2, m3) = rest.split_at(block);
        let (y0, y1) = to.split_at_mut(block);
        for i in 0..block {
            let (a, b, c, d) = (m0[i], m1[i], m2[i], m3[i]);
            y0[i] = a + b + c;
            y1[i] = b - c - d;
        }
    }
}

/// The batch items `first..` of one call: what every chunk needs.
pub(super) struct Items<'a, 'p, T> {
    pub(super) shape: &'a Shape,
    pub(super) geometry: &'a Geometry,
    pub(super) problem: &'a ConvProblem<'p, T>,
    /// The transformed kernel bank ([`Shape::transform_kernels`]).
    pub(super) bank: &'a [T],
    pub(super) first: usize,
}

impl<T: ConvNum> Items<'_, '_, T> {
    /// Sizes the thread's two buffers for a chunk: transformed tiles and products.
    ///
    /// # Errors
    /// [`ConvError::OutOfMemory`] or [`ConvError::Overflow`] for buffers the machine cannot hold.
    pub(super) fn check_scratch(&self, tiles: &mut Vec<T>, products: &mut Vec<T>) -> Result<(), ConvError> {
        let s = self.shape;
        let chunk = s.points.checked_mul(s.chunk_rows * s.axes[2].tiles).ok_or(ConvError::Overflow { what: "the Winograd tiles" })?;
        let g = self.geometry;
        let len = |channels: usize| chunk.checked_mul(channels).ok_or(ConvError::Overflow { what: "the Winograd tiles" });
        buffers::resize(tiles, len(g.in_per_group())?, T::zero(), "the Winograd input tiles")?;
        buffers::resize(products, len(g.out_per_group())?, T::zero(), "the Winograd products")
    }
}

/// One thread's share of a call, run inside [`pulp::Arch::dispatch`] so the lane loops are
/// compiled for the CPU's widest vectors.
pub(super) struct Run<'a, 'p, T> {
    pub(super) work: Items<'a, 'p, T>,
    /// The output of the batch items `first..`: `[n][O][OD][OH][OW]`.
    pub(super) output: &'a mut [T],
    pub(super) tiles: &'a mut [T],
    pub(super) products: &'a mut [T],
}

impl<T: ConvNum> pulp::WithSimd for Run<'_, '_, T> {
    type Output = Result<(), ConvError>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Self::Output {
        let Run { work, output, tiles, products } = self;
        let g = work.geometry;
        let s = work.shape;
        let lanes = s.lanes;
        // Two lane buffers for the transforms, and the even and odd samples of an input row.
        let mut front = buffers::filled(s.points * lanes, T::zero(), "the Winograd lane vectors")?;
        let mut back = front.clone();
        let mut evens = vec![T::zero(); lanes + 1];
        let mut odds = vec![T::zero(); lanes + 1];
        let item_len = g.out_channels() * g.output_plane();
        let rows_per_item = s.axes[0].tiles * s.axes[1].tiles;
        let width_tiles = s.axes[2].tiles;
        let (cg, og) = (g.in_per_group(), g.out_per_group());
        for (local, item) in output.chunks_exact_mut(item_len.max(1)).enumerate() {
            let n = work.first + local;
            let mut row = 0;
            while row < rows_per_item {
                let rows = s.chunk_rows.min(rows_per_item - row);
                let chunk = rows * width_tiles;
                for group in 0..g.groups() {
                    for r in 0..rows {
                        for c in 0..cg {
                            let plane = work.problem.input_plane(n, group * cg + c).unwrap_or(&[]);
                            let lanes_out = transform_input_row(s, plane, row + r, &mut front, &mut back, (&mut evens, &mut odds));
                            for (point, values) in lanes_out.chunks_exact(lanes).enumerate() {
                                let at = (point * cg + c) * chunk + r * width_tiles;
                                tiles[at..at + width_tiles].copy_from_slice(&values[..width_tiles]);
                            }
                        }
                    }
                    multiply(&work, group, chunk, tiles, products);
                    for r in 0..rows {
                        for o in 0..og {
                            for point in 0..s.points {
                                let at = (point * og + o) * chunk + r * width_tiles;
                                front[point * lanes..][..width_tiles].copy_from_slice(&products[at..at + width_tiles]);
                            }
                            let plane = &mut item[(group * og + o) * g.output_plane()..][..g.output_plane()];
                            transform_output_row(s, plane, row + r, &mut front, &mut back);
                        }
                    }
                }
                row += rows;
            }
        }
        Ok(())
    }
}

/// `M[point] = U[point] V[point]` for every transform point of a chunk of `chunk` tiles.
#[inline(always)]
fn multiply<T: ConvNum>(work: &Items<'_, '_, T>, group: usize, chunk: usize, tiles: &[T], products: &mut [T]) {
    let g = work.geometry;
    let (cg, og, out) = (g.in_per_group(), g.out_per_group(), g.out_channels());
    for point in 0..work.shape.points {
        let weights = &work.bank[point * out * cg + group * og * cg..][..og * cg];
        let v = &tiles[point * cg * chunk..][..cg * chunk];
        let m = &mut products[point * og * chunk..][..og * chunk];
        let result = MatMut::new(m, og, chunk, chunk).and_then(|m| {
            matmul(m, MatRef::new(weights, og, cg, cg)?, MatRef::new(v, cg, chunk, chunk)?, false)
        });
        if let Err(error) = result {
            panic!("Winograd buffers sized from one geometry do not fit: {error}");
        }
    }
}

/// The input transform `V = B^T d B` of every tile of tile row `row` of one input plane
/// (`[ID][IH][IW]`): `points` lane vectors, one value per tile, in `front` or `back` (the
/// other is overwritten too). Samples past the input's end are zeros.
#[inline(always)]
fn transform_input_row<'b, T: ConvNum>(
    s: &Shape,
    plane: &[T],
    row: usize,
    front: &'b mut Vec<T>,
    back: &'b mut Vec<T>,
    (evens, odds): (&mut [T], &mut [T]),
) -> &'b [T] {
    let [depth, height, width] = s.axes;
    let lanes = s.lanes;
    let (tz, ty) = (row / height.tiles, row % height.tiles);
    for i in 0..depth.points {
        for j in 0..height.points {
            let (z, y) = (tz * depth.step + i, ty * height.step + j);
            let dst = &mut front[(i * height.points + j) * width.points * lanes..][..width.points * lanes];
            let line = (z < depth.input && y < height.input)
                .then(|| plane.get((z * height.input + y) * width.input..)?.get(..width.input))
                .flatten();
            let Some(line) = line else {
                dst.fill(T::zero());
                continue;
            };
            let sample = |x: usize| line.get(x).copied().unwrap_or_else(T::zero);
            if !width.transformed {
                dst.iter_mut().enumerate().for_each(|(x, value)| *value = sample(x));
                continue;
            }
            for (t, (even, odd)) in evens.iter_mut().zip(odds.iter_mut()).enumerate() {
                *even = sample(2 * t);
                *odd = sample(2 * t + 1);
            }
            let (x0, rest) = dst.split_at_mut(lanes);
            let (x1, rest) = rest.split_at_mut(lanes);
            let (x2, x3) = rest.split_at_mut(lanes);
            let (e0, e1, o0, o1) = (&evens[..lanes], &evens[1..=lanes], &odds[..lanes], &odds[1..=lanes]);
            for t in 0..lanes {
                // The tile's samples d0..d3 are e0, o0, e1, o1.
                x0[t] = e0[t] - e1[t];
                x1[t] = o0[t] + e1[t];
                x2[t] = e1[t] - o0[t];
                x3[t] = o0[t] - o1[t];
            }
        }
    }
    let (mut current, mut other) = (front, back);
    if height.transformed {
        input_axis(current, other, depth.points, width.points, lanes);
        std::mem::swap(&mut current, &mut other);
    }
    if depth.transformed {
        input_axis(current, other, 1, height.points * width.points, lanes);
        std::mem::swap(&mut current, &mut other);
    }
    current
}

/// The output transform `Y = A^T M A` of every tile of tile row `row`, written into one output
/// plane (`[OD][OH][OW]`); `front` holds the products' `points` lane vectors (both buffers are
/// overwritten). Outputs of the last tiles past the plane's end are dropped.
#[inline(always)]
fn transform_output_row<T: ConvNum>(s: &Shape, plane: &mut [T], row: usize, front: &mut Vec<T>, back: &mut Vec<T>) {
    let [depth, height, width] = s.axes;
    let lanes = s.lanes;
    let (tz, ty) = (row / height.tiles, row % height.tiles);
    let (mut current, mut other) = (front, back);
    if depth.transformed {
        output_axis(current, other, 1, height.points * width.points, lanes);
        std::mem::swap(&mut current, &mut other);
    }
    if height.transformed {
        output_axis(current, other, depth.step, width.points, lanes);
        std::mem::swap(&mut current, &mut other);
    }
    for oz in 0..depth.step {
        for oy in 0..height.step {
            let (z, y) = (tz * depth.step + oz, ty * height.step + oy);
            if z >= depth.output || y >= height.output {
                continue;
            }
            let line = &mut plane[(z * height.output + y) * width.output..][..width.output];
            let src = &current[(oz * height.step + oy) * width.points * lanes..][..width.points * lanes];
            if !width.transformed {
                line.copy_from_slice(&src[..width.output]);
                continue;
            }
            let (x0, rest) = src.split_at(lanes);
            let (x1, rest) = rest.split_at(lanes);
            let (x2, x3) = rest.split_at(lanes);
            for (t, pair) in line.chunks_mut(2).enumerate() {
                pair[0] = x0[t] + x1[t] + x2[t];
                if let Some(second) = pair.get_mut(1) {
                    *second = x1[t] - x2[t] - x3[t];
                }
            }
        }
    }
}
