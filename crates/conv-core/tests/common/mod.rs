//! Helpers shared by the integration tests that `mod common;` them.

use ndarray::Array4;

/// A seeded generator of values in [-1, 1) (SplitMix64).
pub struct Values(pub u64);

impl Values {
    pub fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    pub fn array(&mut self, shape: [usize; 4]) -> Array4<f64> {
        Array4::from_shape_simple_fn(shape, || self.next())
    }
}
