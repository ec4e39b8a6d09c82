//! The second-order-section cascade's kernel: sections in groups held in registers, fused
//! multiply-adds through `pulp`, and long signals split over the threads by linearity.

use conv_core::ConvNum;
use rayon::prelude::*;

use crate::sos::Section;

/// The cascade over `data` in place from `state` (checked by the caller), which it updates.
pub(crate) fn sosfilt_in_place<T: ConvNum>(sos: &[Section<T>], data: &mut [T], state: &mut [[T; 2]]) {
    let threads = rayon::current_num_threads();
    let part = data.len().div_ceil(threads.max(1));
    match decay_length::<T>(sos) {
        Some(decay) if threads > 1 && part >= PARALLEL_MIN && decay.saturating_mul(8) <= part => {
            parallel_cascade(sos, data, state, part, decay);
        }
        _ => serial_cascade(sos, data, state),
    }
}

/// Signals shorter than this per thread are filtered on one thread.
const PARALLEL_MIN: usize = 1 << 16;

fn serial_cascade<T: ConvNum>(sos: &[Section<T>], data: &mut [T], state: &mut [[T; 2]]) {
    // Compiled for the best instruction set present, so `mul_add` is one fused instruction.
    pulp::Arch::new().dispatch(Cascade { sos, data, state });
}

/// The recursion is linear: a part filtered from a zero state, plus the response to zero
/// input from the part's true initial state, is the part filtered from its true state. Every
/// part is filtered at once (the first from `state`, the others from zero); then each later
/// part adds the zero-input response from the final state of the part before it, which decays
/// with the poles: after `decay` samples it is below the rounding of the output, and the
/// sum is the serial result to rounding. (The final state of the part before is itself only
/// short of its true value by that decayed response.)
fn parallel_cascade<T: ConvNum>(
    sos: &[Section<T>],
    data: &mut [T],
    state: &mut [[T; 2]],
    part: usize,
    decay: usize,
) {
    let sections = sos.len();
    let mut finals: Vec<Vec<[T; 2]>> = data.chunks(part).map(|_| vec![[T::zero(); 2]; sections]).collect();
    finals[0].copy_from_slice(state);
    data.par_chunks_mut(part).zip(finals.par_iter_mut()).for_each(|(chunk, z)| serial_cascade(sos, chunk, z));
    data.par_chunks_mut(part).enumerate().skip(1).for_each(|(index, chunk)| {
        let mut z = finals[index - 1].clone();
        let size = |z: &[[T; 2]]| z.iter().fold(T::zero(), |m, s| m.max(s[0].abs()).max(s[1].abs()));
        let threshold = size(&z) * T::from_f64_lossy(decay_floor::<T>() * 1e4);
        let span = decay.min(chunk.len());
        let mut response = vec![T::zero(); span];
        serial_cascade(sos, &mut response, &mut z);
        for (value, add) in chunk.iter_mut().zip(&response) {
            *value = *value + *add;
        }
        // Not decayed to 1e4 times the floor of its start (poles nearer the unit circle than
        // estimated, or close poles growing it first): the rest of the part too.
        if span < chunk.len() && size(&z) > threshold {
            let mut rest = vec![T::zero(); chunk.len() - span];
            serial_cascade(sos, &mut rest, &mut z);
            for (value, add) in chunk[span..].iter_mut().zip(&rest) {
                *value = *value + *add;
            }
        }
    });
    if let Some(last) = finals.last() {
        state.copy_from_slice(last);
    }
}

/// How far the zero-input response decays before it is dropped: far below the rounding of
/// the output (eps is 2.2e-16 in f64, 1.2e-7 in f32).
fn decay_floor<T: ConvNum>() -> f64 {
    if size_of::<T>() <= 4 { 1e-12 } else { 1e-24 }
}

/// Samples after which the slowest mode of the cascade, `r^k` for the largest pole radius `r`,
/// is below 1e-24 (f64) or 1e-12 (f32) of its start; `None` when a pole is on or outside the
/// unit circle.
fn decay_length<T: ConvNum>(sos: &[Section<T>]) -> Option<usize> {
    let mut radius: f64 = 0.0;
    for s in sos {
        let (a1, a2) = (s[4].to_f64()?, s[5].to_f64()?);
        let discriminant = a1 * a1 - 4.0 * a2;
        let r = if discriminant < 0.0 {
            a2.sqrt()
        } else {
            let root = discriminant.sqrt();
            ((-a1 + root) / 2.0).abs().max(((-a1 - root) / 2.0).abs())
        };
        radius = radius.max(r);
    }
    if radius.is_nan() || radius >= 1.0 {
        return None;
    }
    if radius == 0.0 {
        return Some(3 * sos.len());
    }
    let steps = decay_floor::<T>().ln() / radius.ln();
    // Repeated or close poles grow like k^m r^k: a margin of a few sections' orders.
    (steps.is_finite() && steps < 1e12).then(|| steps.ceil() as usize + 8 * sos.len() + 64)
}

/// One cascade call, compiled by `pulp` once per instruction set.
struct Cascade<'a, T> {
    sos: &'a [Section<T>],
    data: &'a mut [T],
    state: &'a mut [[T; 2]],
}

impl<T: ConvNum> pulp::WithSimd for Cascade<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        cascade_in_chunks(self.sos, self.data, self.state);
    }
}

#[inline(always)]
fn cascade_in_chunks<T: ConvNum>(sos: &[Section<T>], data: &mut [T], state: &mut [[T; 2]]) {
    // Chunks that stay in the first-level cache while every group of sections passes over them.
    for chunk in data.chunks_mut(CHUNK) {
        let mut sections = sos;
        let mut states = &mut *state;
        while !sections.is_empty() {
            let taken = sections.len().min(GROUP);
            let (group, rest) = sections.split_at(taken);
            let (group_state, rest_state) = states.split_at_mut(taken);
            match (group.try_into(), group_state.try_into()) {
                (Ok(g), Ok(z)) => run_group::<T, GROUP>(g, z, chunk),
                _ => run_group_dynamic(group, group_state, chunk),
            }
            sections = rest;
            states = rest_state;
        }
    }
}

/// Sections run together over a chunk, their states held in registers.
const GROUP: usize = 4;
/// Samples per chunk (32 KiB of f64).
const CHUNK: usize = 4096;

/// `G` sections over `data` in place, section after section for each sample (scipy's order),
/// with the states in locals. The transposed direct form II with fused multiply-adds, ordered
/// so that the recursion's critical path is two of them per sample:
/// `y = b0 x + z0`, `z0 = (b1 x + z1) - a1 y`, `z1 = b2 x - a2 y`.
#[inline(always)]
fn run_group<T: ConvNum, const G: usize>(sos: &[Section<T>; G], state: &mut [[T; 2]; G], data: &mut [T]) {
    let coefficients = *sos;
    let mut z = *state;
    for value in data.iter_mut() {
        let mut current = *value;
        for g in 0..G {
            let s = &coefficients[g];
            let next = s[0].mul_add(current, z[g][0]);
            z[g][0] = (-s[4]).mul_add(next, s[1].mul_add(current, z[g][1]));
            z[g][1] = (-s[5]).mul_add(next, s[2] * current);
            current = next;
        }
        *value = current;
    }
    *state = z;
}

/// The last group of fewer than [`GROUP`] sections.
#[inline(always)]
fn run_group_dynamic<T: ConvNum>(sos: &[Section<T>], state: &mut [[T; 2]], data: &mut [T]) {
    match (sos.len(), sos, state) {
        (1, [a], [za]) => run_group::<T, 1>(&[*a], std::array::from_mut(za), data),
        (2, [a, b], [za, zb]) => {
            let mut z = [*za, *zb];
            run_group::<T, 2>(&[*a, *b], &mut z, data);
            (*za, *zb) = (z[0], z[1]);
        }
        (3, [a, b, c], [za, zb, zc]) => {
            let mut z = [*za, *zb, *zc];
            run_group::<T, 3>(&[*a, *b, *c], &mut z, data);
            (*za, *zb, *zc) = (z[0], z[1], z[2]);
        }
        _ => {}
    }
}
