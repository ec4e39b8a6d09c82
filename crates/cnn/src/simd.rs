//! Element-wise loops compiled for the widest vector instructions the CPU has.
//!
//! The crate is built for the baseline x86-64 (SSE2); these helpers run a loop through
//! [`pulp::Arch::dispatch`], which compiles it once per instruction set (AVX-512, AVX2 + FMA,
//! baseline) and calls the best one at run time, so no `-C target-cpu` flag is needed. The
//! closure must be branch-free (selects, not `if` around stores) for the loop to vectorise.

use crate::split::for_item_runs;

/// `values[i] = f(values[i])` for every element.
pub(crate) fn map_in_place<T: Copy + Send, F: Fn(T) -> T + Sync>(values: &mut [T], f: F) {
    for_item_runs(values, 1, |_, values| pulp::Arch::new().dispatch(MapInPlace { values, f: &f }));
}

/// `target[i] = f(target[i], other[i])` for every element of the shorter of the two.
pub(crate) fn zip_map_in_place<T: Copy + Send + Sync, F: Fn(T, T) -> T + Sync>(
    target: &mut [T],
    other: &[T],
    f: F,
) {
    let len = other.len().min(target.len());
    let target = &mut target[..len];
    for_item_runs(target, 1, |offset, target| {
        pulp::Arch::new().dispatch(ZipMapInPlace { target, other: &other[offset..], f: &f });
    });
}

struct MapInPlace<'a, T, F> {
    values: &'a mut [T],
    f: F,
}

impl<T: Copy, F: Fn(T) -> T> pulp::WithSimd for MapInPlace<'_, T, &F> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        for value in self.values.iter_mut() {
            *value = (self.f)(*value);
        }
    }
}

struct ZipMapInPlace<'a, T, F> {
    target: &'a mut [T],
    other: &'a [T],
    f: F,
}

impl<T: Copy, F: Fn(T, T) -> T> pulp::WithSimd for ZipMapInPlace<'_, T, &F> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        for (target, &other) in self.target.iter_mut().zip(self.other) {
            *target = (self.f)(*target, other);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::PARALLEL_MIN_VALUES;

    #[test]
    fn every_element_is_mapped_once() {
        let mut values: Vec<f32> = (0..37).map(|i| i as f32 - 18.0).collect();
        map_in_place(&mut values, |v| if v > 0.0 { v } else { 0.0 });
        let expected: Vec<f32> = (0..37).map(|i| (i as f32 - 18.0).max(0.0)).collect();
        assert_eq!(values, expected);
        let mut target = vec![1.0_f64; 5];
        zip_map_in_place(&mut target, &[1.0, 2.0, 3.0], |t, o| t + o);
        assert_eq!(target, [2.0, 3.0, 4.0, 1.0, 1.0], "pairs only as far as the shorter slice");
    }

    /// Slices long enough to be shared out over the worker threads: every element, once, with
    /// its own partner.
    #[test]
    fn long_slices_split_over_threads_are_mapped_once() {
        let len = 3 * PARALLEL_MIN_VALUES + 7;
        let mut values: Vec<f64> = (0..len).map(|i| i as f64).collect();
        map_in_place(&mut values, |v| v + 1.0);
        assert!(values.iter().enumerate().all(|(i, &v)| v == i as f64 + 1.0));
        let other: Vec<f64> = (0..len).map(|i| 2.0 * i as f64).collect();
        zip_map_in_place(&mut values, &other, |t, o| o - t);
        assert!(values.iter().enumerate().all(|(i, &v)| v == i as f64 - 1.0));
    }
}
