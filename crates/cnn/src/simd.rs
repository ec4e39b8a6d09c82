//! Element-wise loops compiled for the widest vector instructions the CPU has.
//!
//! The crate is built for the baseline x86-64 (SSE2); these helpers run a loop through
//! [`pulp::Arch::dispatch`], which compiles it once per instruction set (AVX-512, AVX2 + FMA,
//! baseline) and calls the best one at run time, so no `-C target-cpu` flag is needed. The
//! closure must be branch-free (selects, not `if` around stores) for the loop to vectorise.

/// `values[i] = f(values[i])` for every element.
pub(crate) fn map_in_place<T: Copy, F: Fn(T) -> T>(values: &mut [T], f: F) {
    pulp::Arch::new().dispatch(MapInPlace { values, f });
}

/// `target[i] = f(target[i], other[i])` for every element of the shorter of the two.
pub(crate) fn zip_map_in_place<T: Copy, F: Fn(T, T) -> T>(target: &mut [T], other: &[T], f: F) {
    pulp::Arch::new().dispatch(ZipMapInPlace { target, other, f });
}

struct MapInPlace<'a, T, F> {
    values: &'a mut [T],
    f: F,
}

impl<T: Copy, F: Fn(T) -> T> pulp::WithSimd for MapInPlace<'_, T, F> {
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

impl<T: Copy, F: Fn(T, T) -> T> pulp::WithSimd for ZipMapInPlace<'_, T, F> {
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
}
