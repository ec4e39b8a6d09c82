//! The tiles of [`Winograd`](super::Winograd): the per-axis tiling, the kernel, input and output
//! transforms, and one batch item's work in chunks of tiles.
//!
//! The work is done channels last (`[D][H][W][C]`): every value of a tile is then a vector of
//! channels, and each transform step adds or subtracts whole channel vectors, so it vectorises
//! whatever the tile's shape. A chunk's transformed tiles are stored tile by tile
//! (`V[tile][point][channel]`); the product of transform point `p` reads rows
//! `V[..][p][..]` at a stride of one tile, which the `gemm` crate takes as it is.

use convkit_gemm::{MatMut, MatRef, matmul};

use super::transformed;
use crate::backend::ConvProblem;
use crate::backend::layout::transpose_items;
use crate::backend::plan::ThreadBuffers;
use crate::buffers;
use crate::error::ConvError;
use crate::geometry::{AxisGeometry, Geometry};
use crate::num::ConvNum;

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
        AxisTiles {
            transformed,
            input: axis.input,
            output: axis.output,
            step,
            points,
            tiles: axis.output.div_ceil(step),
        }
    }
}

/// The tiling of a geometry Winograd supports.
#[derive(Clone, Copy, Debug)]
pub(super) struct Shape {
    /// Depth, height and width.
    axes: [AxisTiles; 3],
    /// Transform points per tile: the product of the axes' points (64 for a 3x3x3 kernel).
    points: usize,
    /// Tiles of one batch item.
    tiles: usize,
    /// Values of one tile of transform points for the wider of a group's input and output
    /// channels: `points * max(Cg, Og)`, the length of a tile's scratch.
    tile_len: usize,
    /// Tiles per chunk.
    chunk: usize,
}

impl Shape {
    /// The tiling of `g` (which Winograd supports).
    ///
    /// # Errors
    /// [`ConvError::Overflow`] if a tile count does not fit `usize`.
    pub(super) fn of(g: &Geometry) -> Result<Shape, ConvError> {
        let axes = g.axes().map(|axis| AxisTiles::of(&axis));
        let points = axes.iter().map(|a| a.points).product::<usize>();
        let tiles = axes.iter().try_fold(1_usize, |n, a| n.checked_mul(a.tiles));
        let overflow = ConvError::Overflow { what: "the Winograd tiles" };
        let tiles = tiles.ok_or(overflow.clone())?;
        let tile_len = points.checked_mul(g.in_per_group().max(g.out_per_group())).ok_or(overflow)?;
        let chunk = (CHUNK_VALUES / tile_len.max(1)).clamp(1, tiles.max(1));
        Ok(Shape { axes, points, tiles, tile_len, chunk })
    }

    /// Multiply-adds of the products: `N tiles points O Cg`.
    pub(super) fn multiply_adds(&self, g: &Geometry) -> u128 {
        let per_tile = (self.points as u128) * (g.out_channels() as u128) * (g.in_per_group() as u128);
        (g.batch() as u128) * (self.tiles as u128) * per_tile
    }

    /// Values of the transformed input and output tiles: `N tiles points (C + O)`.
    pub(super) fn transformed_values(&self, g: &Geometry) -> f64 {
        let channels = (g.in_channels() + g.out_channels()) as f64;
        g.batch() as f64 * self.tiles as f64 * self.points as f64 * channels
    }

    /// `U = G g G^T` for every kernel of the bank, laid out `[points][groups][Cg][Og]`: for
    /// each transform point and group, the `Cg x Og` matrix the products take.
    ///
    /// # Errors
    /// [`ConvError::OutOfMemory`] if the transformed bank cannot be allocated.
    pub(super) fn transform_kernels<T: ConvNum>(
        &self,
        g: &Geometry,
        kernel: &[T],
    ) -> Result<Vec<T>, ConvError> {
        let (out, cg, og) = (g.out_channels(), g.in_per_group(), g.out_per_group());
        let len = self
            .points
            .checked_mul(out)
            .and_then(|n| n.checked_mul(cg))
            .ok_or(ConvError::Overflow { what: "the Winograd tiles" })?;
        let pairs = out * cg;
        let taps = g.kernel_plane();
        // Channel pairs innermost (`[taps][pairs]`), so each step below works on whole vectors.
        let mut spread = buffers::filled(len, T::zero(), "the Winograd kernel transforms")?;
        let mut next = buffers::filled(len, T::zero(), "the Winograd kernel transforms")?;
        transpose_items(&kernel[..pairs * taps], &mut spread[..pairs * taps], pairs, taps);
        let [depth, height, width] = self.axes;
        let (kd, kh) = (if depth.transformed { 3 } else { 1 }, if height.transformed { 3 } else { 1 });
        // Width, height, depth: `[KD][KH][KW]` becomes `[PD][PH][PW]`.
        let passes = [
            (width.transformed, kd * kh, pairs),
            (height.transformed, kd, width.points * pairs),
            (depth.transformed, 1, height.points * width.points * pairs),
        ];
        for (_, outer, block) in passes.into_iter().filter(|p| p.0) {
            expand_kernel_axis(&spread, &mut next, outer, block);
            std::mem::swap(&mut spread, &mut next);
        }
        // `[points][groups][Og][Cg]` to `[points][groups][Cg][Og]`.
        transpose_items(&spread, &mut next, og, cg);
        Ok(next)
    }
}

/// `G g` along the middle axis of `src` (`outer x 3 x block`) into `dst` (`outer x 4 x block`):
/// `G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]`.
fn expand_kernel_axis<T: ConvNum>(src: &[T], dst: &mut [T], outer: usize, block: usize) {
    let half = T::from_f64_lossy(0.5);
    for (from, to) in src.chunks_exact(3 * block).zip(dst.chunks_exact_mut(4 * block)).take(outer) {
        let (g0, rest) = from.split_at(block);
        let (g1, g2) = rest.split_at(block);
        let (t0, rest) = to.split_at_mut(block);
        let (t1, rest) = rest.split_at_mut(block);
        let (t2, t3) = rest.split_at_mut(block);
        for i in 0..block {
            let (a, b, c) = (g0[i], g1[i], g2[i]);
            t0[i] = a;
            t1[i] = (a + b + c) * half;
            t2[i] = (a - b + c) * half;
            t3[i] = c;
        }
    }
}

/// `B^T d` along the middle axis of `src` (`outer x 4 x block` values) into `dst`:
/// `B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]`.
#[inline(always)]
fn input_axis<T: ConvNum>(src: &[T], dst: &mut [T], outer: usize, block: usize) {
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

/// `A^T m` along the middle axis of `src` (`outer x 4 x block` values) into `dst`
/// (`outer x 2 x block`): `A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]`.
#[inline(always)]
fn output_axis<T: ConvNum>(src: &[T], dst: &mut [T], outer: usize, block: usize) {
    for (from, to) in src.chunks_exact(4 * block).zip(dst.chunks_exact_mut(2 * block)).take(outer) {
        let (m0, rest) = from.split_at(block);
        let (m1, rest) = rest.split_at(block);
        let (m2, m3) = rest.split_at(block);
        let (y0, y1) = to.split_at_mut(block);
        let sources = m0.iter().zip(m1).zip(m2.iter().zip(m3));
        for ((y0, y1), ((&a, &b), (&c, &d))) in y0.iter_mut().zip(y1.iter_mut()).zip(sources) {
            *y0 = a + b + c;
            *y1 = b - c - d;
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
    /// Whether the problem's input and output are channels last (`[N][D][H][W][C]`).
    pub(super) channels_last: bool,
}

/// One thread's buffers: transformed tiles and products of a chunk, the item's input and output
/// channels last (when the call is channels first), and two tiles of transform values.
pub(super) struct Buffers<'b, T> {
    tiles: &'b mut [T],
    products: &'b mut [T],
    input: &'b mut [T],
    output: &'b mut [T],
    front: &'b mut [T],
    back: &'b mut [T],
    /// One line of a tile (4 positions of channels) at an edge of the input or output.
    line: &'b mut [T],
}

impl<T: ConvNum> Items<'_, '_, T> {
    /// Sizes a thread's kept buffers (four pairs, as [`ThreadBuffers`]) for this call and
    /// lends them out.
    ///
    /// # Errors
    /// [`ConvError::OutOfMemory`] or [`ConvError::Overflow`] for buffers the machine cannot hold.
    pub(super) fn buffers<'b>(&self, kept: &'b mut ThreadBuffers<T>) -> Result<Buffers<'b, T>, ConvError> {
        let (s, g) = (self.shape, self.geometry);
        let overflow = ConvError::Overflow { what: "the Winograd tiles" };
        let per_chunk = |channels: usize| s.points.checked_mul(channels)?.checked_mul(s.chunk);
        let (cg, og) = (g.in_per_group(), g.out_per_group());
        let items =
            if self.channels_last { [0, 0] } else { [g.input_len() / g.batch(), g.output_len() / g.batch()] };
        // A line of a tile: its positions along the width, of the wider channel count (no
        // more than the tile itself).
        let line = s.tile_len / s.points.max(1) * s.axes[2].points;
        let lens = [
            (per_chunk(cg).ok_or(overflow.clone())?, per_chunk(og).ok_or(overflow)?),
            (items[0], items[1]),
            (s.tile_len, s.tile_len),
            (line, 0),
        ];
        kept.resize_with(4, Default::default);
        for ((a, b), (len_a, len_b)) in kept.iter_mut().zip(lens) {
            buffers::resize(a, len_a, T::zero(), "the Winograd buffers")?;
            buffers::resize(b, len_b, T::zero(), "the Winograd buffers")?;
        }
        let [(tiles, products), (input, output), (front, back), (line, _)] = &mut kept[..] else {
            unreachable!("four pairs were just made");
        };
        Ok(Buffers { tiles, products, input, output, front, back, line })
    }
}

/// One thread's share of a call, run inside [`pulp::Arch::dispatch`] so the channel loops are
/// compiled for the CPU's widest vectors.
pub(super) struct Run<'a, 'p, 'b, T> {
    pub(super) work: Items<'a, 'p, T>,
    /// The output of the batch items `first..`, in the problem's layout.
    pub(super) output: &'a mut [T],
    pub(super) buffers: Buffers<'b, T>,
}

impl<T: ConvNum> pulp::WithSimd for Run<'_, '_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Run { work, output, buffers } = self;
        let g = work.geometry;
        let Buffers { tiles, products, input, output: staged, front, back, line } = buffers;
        let (in_item, out_item) = (g.input_len() / g.batch(), g.output_len() / g.batch());
        let (in_spatial, out_spatial) = (g.input_plane(), g.output_plane());
        for (local, item) in output.chunks_exact_mut(out_item.max(1)).enumerate() {
            let source = &work.problem.input()[(work.first + local) * in_item..][..in_item];
            let source: &[T] = if work.channels_last {
                source
            } else {
                transpose_items(source, input, g.in_channels(), in_spatial);
                input
            };
            let target: &mut [T] = if work.channels_last { item } else { staged };
            solve_item(&work, source, target, tiles, products, (front, back, line));
            if !work.channels_last {
                transpose_items(staged, item, out_spatial, g.out_channels());
            }
        }
    }
}

/// One batch item, channels last (`input`: `[ID][IH][IW][C]`, `output`: `[OD][OH][OW][O]`), in
/// chunks of tiles: the input transforms, the products, the output transforms.
#[inline(always)]
fn solve_item<T: ConvNum>(
    work: &Items<'_, '_, T>,
    input: &[T],
    output: &mut [T],
    tiles: &mut [T],
    products: &mut [T],
    (front, back, line): (&mut [T], &mut [T], &mut [T]),
) {
    let (s, g) = (work.shape, work.geometry);
    let total = s.tiles;
    let (cg, og) = (g.in_per_group(), g.out_per_group());
    let mut first = 0;
    while first < total {
        let chunk = s.chunk.min(total - first);
        for group in 0..g.groups() {
            for (t, slot) in tiles.chunks_exact_mut(s.points * cg).take(chunk).enumerate() {
                let corner = tile_corner(s, first + t);
                gather_tile(s, g, input, corner, group, &mut front[..s.points * cg], line);
                transform_input_tile(s, cg, front, back, slot);
            }
            multiply(work, group, chunk, tiles, products);
            for (t, slot) in products.chunks_exact(s.points * og).take(chunk).enumerate() {
                let corner = tile_corner(s, first + t);
                let tile = transform_output_tile(s, og, slot, front, back);
                scatter_tile(s, g, corner, group, tile, output, line);
            }
        }
        first += chunk;
    }
}

/// The first input (and output) position `[z, y, x]` of tile `tile` of an item.
#[inline(always)]
fn tile_corner(s: &Shape, tile: usize) -> [usize; 3] {
    let [depth, height, width] = s.axes;
    let (tx, rest) = (tile % width.tiles, tile / width.tiles);
    let (ty, tz) = (rest % height.tiles, rest / height.tiles);
    [tz * depth.step, ty * height.step, tx * width.step]
}

/// The input tile at `corner` (group `group`'s channels) into `tile` (`[PD][PH][PW][Cg]`), its
/// width already transformed when the kernel's is 3 taps (`B^T` applied to each line straight
/// from the input); positions past the input's end are zeros (staged through `line`).
#[inline(always)]
fn gather_tile<T: ConvNum>(
    s: &Shape,
    g: &Geometry,
    input: &[T],
    corner: [usize; 3],
    group: usize,
    tile: &mut [T],
    line: &mut [T],
) {
    let [depth, height, width] = s.axes;
    let (c, cg) = (g.in_channels(), g.in_per_group());
    let run = width.points * cg;
    for (index, values) in tile.chunks_exact_mut(run).enumerate() {
        let (i, j) = (index / height.points, index % height.points);
        let (z, y) = (corner[0] + i, corner[1] + j);
        let inside = if z < depth.input && y < height.input {
            width.input.saturating_sub(corner[2]).min(width.points)
        } else {
            0
        };
        let start = ((z * height.input + y) * width.input + corner[2]) * c + group * cg;
        if !width.transformed {
            // One position per line.
            match inside {
                0 => values.fill(T::zero()),
                _ => values.copy_from_slice(&input[start..start + cg]),
            }
            continue;
        }
        let source: &[T] = if cg == c && inside == width.points {
            &input[start..start + run]
        } else {
            for (q, point) in line[..run].chunks_exact_mut(cg).enumerate() {
                match q < inside {
                    true => point.copy_from_slice(&input[start + q * c..][..cg]),
                    false => point.fill(T::zero()),
                }
            }
            &line[..run]
        };
        input_axis(source, values, 1, cg);
    }
}

/// `V = B^T d B` of one gathered tile (`front`, overwritten like `back`) into `slot`.
#[inline(always)]
fn transform_input_tile<T: ConvNum>(s: &Shape, cg: usize, front: &mut [T], back: &mut [T], slot: &mut [T]) {
    let [depth, height, width] = s.axes;
    let len = s.points * cg;
    // (outer, block) of each transformed axis but the width ([`gather_tile`] did it).
    let passes = [
        (height.transformed, depth.points, width.points * cg),
        (depth.transformed, 1, height.points * width.points * cg),
    ];
    let count = passes.iter().filter(|p| p.0).count();
    let (mut from, mut to) = (&mut front[..len], &mut back[..len]);
    let mut done = 0;
    for (_, outer, block) in passes.into_iter().filter(|p| p.0) {
        done += 1;
        if done == count {
            input_axis(from, slot, outer, block);
            return;
        }
        input_axis(from, to, outer, block);
        std::mem::swap(&mut from, &mut to);
    }
    slot.copy_from_slice(from);
}

/// `A^T M A` along the depth and height of one tile's products (`slot`, `[PD][PH][PW][Og]`),
/// in `front` or `back` (or `slot` itself when neither is transformed): `[SD][SH][PW][Og]`,
/// `S` the outputs per tile along each axis.
#[inline(always)]
fn transform_output_tile<'x, T: ConvNum>(
    s: &Shape,
    og: usize,
    slot: &'x [T],
    front: &'x mut [T],
    back: &'x mut [T],
) -> &'x [T] {
    let [depth, height, width] = s.axes;
    let (along_depth, along_height) = (height.points * width.points * og, width.points * og);
    match (depth.transformed, height.transformed) {
        (false, false) => slot,
        (true, false) => {
            output_axis(slot, front, 1, along_depth);
            front
        }
        (false, true) => {
            output_axis(slot, front, depth.step, along_height);
            front
        }
        (true, true) => {
            output_axis(slot, back, 1, along_depth);
            output_axis(back, front, depth.step, along_height);
            front
        }
    }
}

/// Writes one tile's outputs at `corner` of the item's output (`[OD][OH][OW][O]`, group
/// `group`'s channels) from `tile` (`[SD][SH][PW][Og]`), applying `A^T` along the width when
/// its kernel is 3 taps; outputs past the output's end are dropped (staged through `line`).
#[inline(always)]
fn scatter_tile<T: ConvNum>(
    s: &Shape,
    g: &Geometry,
    corner: [usize; 3],
    group: usize,
    tile: &[T],
    output: &mut [T],
    line: &mut [T],
) {
    let [depth, height, width] = s.axes;
    let (o, og) = (g.out_channels(), g.out_per_group());
    let inside = width.output.saturating_sub(corner[2]).min(width.step);
    let run = width.points * og;
    for oz in 0..depth.step {
        for oy in 0..height.step {
            let (z, y) = (corner[0] + oz, corner[1] + oy);
            if z >= depth.output || y >= height.output {
                continue;
            }
            let start = ((z * height.output + y) * width.output + corner[2]) * o + group * og;
            let values = &tile[(oz * height.step + oy) * run..][..run];
            if !width.transformed {
                output[start..start + og].copy_from_slice(values);
            } else if og == o && inside == width.step {
                output_axis(values, &mut output[start..start + width.step * o], 1, og);
            } else {
                output_axis(values, &mut line[..width.step * og], 1, og);
                for (q, point) in line.chunks_exact(og).take(inside).enumerate() {
                    output[start + q * o..][..og].copy_from_slice(point);
                }
            }
        }
    }
}

/// `M[point] = V[point] U[point]` for every transform point of a chunk of `chunk` tiles: the
/// rows of `V[point]` and `M[point]` are one tile apart in `tiles` and `products`.
#[inline(always)]
fn multiply<T: ConvNum>(
    work: &Items<'_, '_, T>,
    group: usize,
    chunk: usize,
    tiles: &[T],
    products: &mut [T],
) {
    let (g, points) = (work.geometry, work.shape.points);
    let (cg, og) = (g.in_per_group(), g.out_per_group());
    for point in 0..points {
        let weights = &work.bank[(point * g.groups() + group) * cg * og..][..cg * og];
        let result = MatMut::new(&mut products[point * og..], chunk, og, points * og).and_then(|m| {
            let v = MatRef::new(&tiles[point * cg..], chunk, cg, points * cg)?;
            matmul(m, v, MatRef::new(weights, cg, og, og)?, false)
        });
        if let Err(error) = result {
            panic!("Winograd buffers sized from one geometry do not fit: {error}");
        }
    }
}
