//! A safe matrix product for row-major `f32`/`f64` matrices, computed by the `gemm` crate.
//!
//! [`MatRef`] and [`MatMut`] are views of a slice as `rows x cols` with a row stride; their
//! constructors check that every element the view names lies inside the slice, so [`matmul`]
//! can hand raw pointers to `gemm::gemm` without any access out of bounds. The product runs
//! on the calling thread: the convkit backends split their work over the cores themselves.
//!
//! # Examples
//! ```
//! use convkit_gemm::{matmul, MatMut, MatRef};
//!
//! // [1 2 3] times the 3 x 2 matrix [[1 0] [0 1] [1 1]].
//! let a = [1.0_f32, 2.0, 3.0];
//! let b = [1.0_f32, 0.0, 0.0, 1.0, 1.0, 1.0];
//! let mut c = [f32::NAN; 2];
//! matmul(MatMut::new(&mut c, 1, 2, 2)?, MatRef::new(&a, 1, 3, 3)?, MatRef::new(&b, 3, 2, 2)?, false)?;
//! assert_eq!(c, [4.0, 5.0]);
//! # Ok::<(), convkit_gemm::GemmError>(())
//! ```

/// The element types the product is computed in: `f32` and `f64` (sealed).
pub trait Element: Copy + Send + Sync + 'static + sealed::Sealed {
    /// Zero, written into a destination when the inner dimension is empty.
    const ZERO: Self;
    /// One, the product's scale.
    const ONE: Self;
}

impl Element for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl Element for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Why a view or a product was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GemmError {
    /// The slice is shorter than the view's shape and row stride need.
    #[error(
        "a {rows} x {cols} view with row stride {row_stride} needs {needed} elements, the slice has {len}"
    )]
    SliceTooShort {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        cols: usize,
        /// Elements from one row's start to the next.
        row_stride: usize,
        /// Elements the view reaches.
        needed: usize,
        /// Elements in the slice.
        len: usize,
    },
    /// Rows would overlap: a view of several rows needs `row_stride >= cols`.
    #[error("row stride {row_stride} is less than the {cols} columns of a {rows}-row view")]
    OverlappingRows {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        cols: usize,
        /// Elements from one row's start to the next.
        row_stride: usize,
    },
    /// A size or stride does not fit the pointer arithmetic (`isize`).
    #[error("a {rows} x {cols} view with row stride {row_stride} is too large to address")]
    TooLarge {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        cols: usize,
        /// Elements from one row's start to the next.
        row_stride: usize,
    },
    /// The shapes do not chain: `C (m x n) = A (m x k) B (k x n)`.
    #[error("cannot multiply {a:?} by {b:?} into {c:?}")]
    ShapeMismatch {
        /// `[rows, cols]` of the left factor.
        a: [usize; 2],
        /// `[rows, cols]` of the right factor.
        b: [usize; 2],
        /// `[rows, cols]` of the destination.
        c: [usize; 2],
    },
}

/// Checks a view's shape against its slice length; returns the row stride as `isize`.
fn check_view(len: usize, rows: usize, cols: usize, row_stride: usize) -> Result<isize, GemmError> {
    let too_large = || GemmError::TooLarge { rows, cols, row_stride };
    if rows > 1 && row_stride < cols {
        return Err(GemmError::OverlappingRows { rows, cols, row_stride });
    }
    let needed = if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1).checked_mul(row_stride).and_then(|start| start.checked_add(cols)).ok_or_else(too_large)?
    };
    if needed > len {
        return Err(GemmError::SliceTooShort { rows, cols, row_stride, needed, len });
    }
    isize::try_from(needed).map_err(|_| too_large())?;
    isize::try_from(row_stride).map_err(|_| too_large())
}

/// A read-only `rows x cols` view of a slice: row-major, row `r` starting at `r * row_stride`,
/// or the transpose of such a view ([`MatRef::t`]).
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: isize,
    /// 1 for a row-major view; the row stride of the view it was transposed from otherwise.
    col_stride: isize,
}

impl<'a, T: Element> MatRef<'a, T> {
    /// Views `data` as `rows x cols` with `row_stride` elements between row starts.
    ///
    /// # Errors
    /// [`GemmError::SliceTooShort`] if the last row ends past the slice,
    /// [`GemmError::OverlappingRows`] if `row_stride < cols` with several rows, and
    /// [`GemmError::TooLarge`] if the extent does not fit `isize`.
    pub fn new(data: &'a [T], rows: usize, cols: usize, row_stride: usize) -> Result<Self, GemmError> {
        let row_stride = check_view(data.len(), rows, cols, row_stride)?;
        Ok(MatRef { data, rows, cols, row_stride, col_stride: 1 })
    }

    /// The transpose: `cols x rows`, element `(c, r)` of the result being `(r, c)` of `self`.
    /// No data moves; the product reads the factor column by column.
    ///
    /// # Examples
    /// ```
    /// use convkit_gemm::{matmul, MatMut, MatRef};
    /// // [1 2 3] times the transpose of [[1 0 1] [0 1 1]].
    /// let a = [1.0_f64, 2.0, 3.0];
    /// let b = [1.0_f64, 0.0, 1.0, 0.0, 1.0, 1.0];
    /// let mut c = [0.0; 2];
    /// matmul(MatMut::new(&mut c, 1, 2, 2)?, MatRef::new(&a, 1, 3, 3)?, MatRef::new(&b, 2, 3, 3)?.t(), false)?;
    /// assert_eq!(c, [4.0, 5.0]);
    /// # Ok::<(), convkit_gemm::GemmError>(())
    /// ```
    #[must_use]
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// `[rows, cols]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }
}

/// A writable `rows x cols` row-major view of a slice; row `r` starts at `r * row_stride`.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    data: &'a mut [T],
    rows: usize,
    cols: usize,
    row_stride: isize,
}

impl<'a, T: Element> MatMut<'a, T> {
    /// Views `data` as `rows x cols` with `row_stride` elements between row starts; elements
    /// between the rows are never touched.
    ///
    /// # Errors
    /// As [`MatRef::new`].
    pub fn new(data: &'a mut [T], rows: usize, cols: usize, row_stride: usize) -> Result<Self, GemmError> {
        let row_stride = check_view(data.len(), rows, cols, row_stride)?;
        Ok(MatMut { data, rows, cols, row_stride })
    }

    /// `[rows, cols]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }

    /// Sets every element of the view to `value`.
    fn fill(&mut self, value: T) {
        // The stride is non-negative: it came from a usize.
        let stride = self.row_stride.unsigned_abs().max(1);
        for row in self.data.chunks_mut(stride).take(self.rows) {
            row[..self.cols].fill(value);
        }
    }
}

/// `c = a b`, or `c += a b` when `accumulate`, on the calling thread.
///
/// Without `accumulate` the destination is only written, never read: NaN left in it by an
/// earlier use does not reach the result. The summation order is the `gemm` kernel's, so
/// results differ from a textbook loop by rounding.
///
/// # Errors
/// [`GemmError::ShapeMismatch`] unless `a` is `m x k`, `b` is `k x n` and `c` is `m x n`.
pub fn matmul<T: Element>(
    mut c: MatMut<'_, T>,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accumulate: bool,
) -> Result<(), GemmError> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if b.rows != k || c.rows != m || c.cols != n {
        return Err(GemmError::ShapeMismatch { a: a.shape(), b: b.shape(), c: c.shape() });
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            c.fill(T::ZERO);
        }
        return Ok(());
    }
    let parallelism = gemm::Parallelism::None;
    #[allow(unsafe_code)]
    // SAFETY: the constructors checked that rows x cols at the row stride (column stride 1)
    // lie inside each slice and that the strides fit `isize` (a transposed factor names the
    // same elements with its strides swapped); `c` is borrowed mutably and
    // `a`, `b` shared, so the destination aliases neither factor; the shapes chain (checked
    // above); `gemm` only reads `a`, `b` and only writes the `m x n` elements of `c`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.data.as_mut_ptr(),
            1,
            c.row_stride,
            accumulate,
            a.data.as_ptr(),
            a.col_stride,
            a.row_stride,
            b.data.as_ptr(),
            b.col_stride,
            b.row_stride,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            parallelism,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    /// The textbook triple loop, in f64.
    fn reference(a: &[f64], b: &[f64], (m, k, n): (usize, usize, usize)) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    /// Seeded `m x k` and `k x n` factors in [-2, 2) and their textbook product.
    fn operands((m, k, n): (usize, usize, usize), seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let value = |i: usize| (((i as u64 * 2_654_435_761 + seed) % 1000) as f64 - 500.0) / 250.0;
        let a: Vec<f64> = (0..m * k).map(value).collect();
        let b: Vec<f64> = (0..k * n).map(|i| value(i + 7)).collect();
        let expected = reference(&a, &b, (m, k, n));
        (a, b, expected)
    }

    #[test]
    fn a_hand_worked_product() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 x 3
        let b = [7.0, 8.0, 9.0, 10.0, 11.0, 12.0]; // 3 x 2
        let mut c = [0.0_f64; 4];
        matmul(
            MatMut::new(&mut c, 2, 2, 2).unwrap(),
            MatRef::new(&a, 2, 3, 3).unwrap(),
            MatRef::new(&b, 3, 2, 2).unwrap(),
            false,
        )
        .unwrap();
        assert_eq!(c, [58.0, 64.0, 139.0, 154.0]);
    }

    #[test]
    fn strided_destination_leaves_the_gaps_alone_and_accumulates() {
        let a = [1.0_f32, 1.0]; // 2 x 1
        let b = [2.0_f32, 3.0]; // 1 x 2
        // 2 x 2 destination with row stride 3: index 2 is a gap.
        let mut c = [10.0_f32, 10.0, -7.0, 10.0, 10.0];
        matmul(
            MatMut::new(&mut c, 2, 2, 3).unwrap(),
            MatRef::new(&a, 2, 1, 1).unwrap(),
            MatRef::new(&b, 1, 2, 2).unwrap(),
            true,
        )
        .unwrap();
        assert_eq!(c, [12.0, 13.0, -7.0, 12.0, 13.0]);
    }

    #[test]
    fn nan_in_an_overwritten_destination_does_not_leak() {
        let a = vec![0.5_f64; 40 * 30];
        let b = vec![2.0_f64; 30 * 50];
        let mut c = vec![f64::NAN; 40 * 50];
        matmul(
            MatMut::new(&mut c, 40, 50, 50).unwrap(),
            MatRef::new(&a, 40, 30, 30).unwrap(),
            MatRef::new(&b, 30, 50, 50).unwrap(),
            false,
        )
        .unwrap();
        assert!(c.iter().all(|&v| v == 30.0));
    }

    #[test]
    fn an_empty_inner_dimension_gives_zeros() {
        let mut c = [f64::NAN; 6];
        matmul(
            MatMut::new(&mut c, 2, 3, 3).unwrap(),
            MatRef::new(&[], 2, 0, 0).unwrap(),
            MatRef::new(&[], 0, 3, 3).unwrap(),
            false,
        )
        .unwrap();
        assert_eq!(c, [0.0; 6]);
    }

    #[test]
    fn bad_views_and_shapes_are_refused() {
        let data = [0.0_f32; 10];
        assert!(matches!(
            MatRef::new(&data, 3, 4, 4),
            Err(GemmError::SliceTooShort { needed: 12, len: 10, .. })
        ));
        assert!(matches!(MatRef::new(&data, 2, 4, 3), Err(GemmError::OverlappingRows { .. })));
        assert!(matches!(MatRef::new(&data, usize::MAX, 2, usize::MAX), Err(GemmError::TooLarge { .. })));
        // One row may have any stride; an empty view needs no elements.
        assert!(MatRef::new(&data, 1, 10, 0).is_ok());
        assert!(MatRef::new(&data, 0, 99, 99).is_ok());
        let mut c = [0.0_f32; 4];
        let result = matmul(
            MatMut::new(&mut c, 2, 2, 2).unwrap(),
            MatRef::new(&data, 2, 3, 3).unwrap(),
            MatRef::new(&data, 2, 2, 2).unwrap(),
            false,
        );
        assert_eq!(result, Err(GemmError::ShapeMismatch { a: [2, 3], b: [2, 2], c: [2, 2] }));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, rng_seed: proptest::test_runner::RngSeed::Fixed(0x6e44), ..ProptestConfig::default() })]

        /// Random shapes (including the kernels' edge tiles) and row strides with gaps agree
        /// with the textbook loop.
        #[test]
        fn products_agree_with_the_textbook_loop(
            m in 1_usize..70, k in 1_usize..70, n in 1_usize..70, gap in 0_usize..3, seed in 0_u64..1000,
        ) {
            let (a, b, expected) = operands((m, k, n), seed);
            let stride = n + gap;
            let mut c = vec![f64::NAN; m * stride];
            matmul(MatMut::new(&mut c, m, n, stride).unwrap(), MatRef::new(&a, m, k, k).unwrap(), MatRef::new(&b, k, n, n).unwrap(), false).unwrap();
            for i in 0..m {
                for j in 0..n {
                    prop_assert!((c[i * stride + j] - expected[i * n + j]).abs() <= 1e-12 * k as f64 * 4.0);
                }
                for j in n..stride {
                    prop_assert!(c[i * stride + j].is_nan(), "gap written");
                }
            }
            let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
            let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
            let mut c32 = vec![0.0_f32; m * n];
            matmul(MatMut::new(&mut c32, m, n, n).unwrap(), MatRef::new(&a32, m, k, k).unwrap(), MatRef::new(&b32, k, n, n).unwrap(), false).unwrap();
            for (got, want) in c32.iter().zip(&expected) {
                prop_assert!((f64::from(*got) - want).abs() <= 1e-5 * k as f64 * 4.0);
            }
        }

        /// Factors stored transposed (with gaps after their rows) and viewed through `t()`
        /// give the same product.
        #[test]
        fn transposed_factors_agree_with_the_textbook_loop(
            m in 1_usize..40, k in 1_usize..40, n in 1_usize..40, gap in 0_usize..3, seed in 0_u64..1000,
        ) {
            let (a, b, expected) = operands((m, k, n), seed);
            // a^T is k x m and b^T is n x k, each row followed by `gap` unused values.
            let mut a_t = vec![f64::NAN; k * (m + gap)];
            let mut b_t = vec![f64::NAN; n * (k + gap)];
            for i in 0..m {
                for p in 0..k {
                    a_t[p * (m + gap) + i] = a[i * k + p];
                }
            }
            for p in 0..k {
                for j in 0..n {
                    b_t[j * (k + gap) + p] = b[p * n + j];
                }
            }
            let a_view = MatRef::new(&a_t, k, m, m + gap).unwrap().t();
            let b_view = MatRef::new(&b_t, n, k, k + gap).unwrap().t();
            prop_assert_eq!((a_view.shape(), b_view.shape()), ([m, k], [k, n]));
            let mut c = vec![f64::NAN; m * n];
            matmul(MatMut::new(&mut c, m, n, n).unwrap(), a_view, b_view, false).unwrap();
            for (got, want) in c.iter().zip(&expected) {
                prop_assert!((got - want).abs() <= 1e-12 * k as f64 * 4.0);
            }
            let mut c = vec![f64::NAN; m * n];
            matmul(MatMut::new(&mut c, m, n, n).unwrap(), MatRef::new(&a, m, k, k).unwrap(), b_view, false).unwrap();
            for (got, want) in c.iter().zip(&expected) {
                prop_assert!((got - want).abs() <= 1e-12 * k as f64 * 4.0);
            }
        }
    }
}

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
