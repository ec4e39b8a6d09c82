//! `lfilter`: a FIR filter through conv-core, an IIR filter by its recursion; with state.

use conv_core::{ConvNum, Mode, convolve};
use ndarray::ArrayView1;

use crate::error::{FilterError, MAX_ORDER, check_alloc, check_coefficients, check_finite};

/// Filters `x` by `H(z) = B(z) / A(z)` from rest, like `scipy.signal.lfilter(b, a, x)`:
/// `a[0] y[n] = sum_k b[k] x[n-k] - sum_{k>=1} a[k] y[n-k]`. The output has `x`'s length.
///
/// A FIR filter (`a` of length 1) is the convolution of `x` with `b / a[0]`, computed by
/// conv-core (its planner picks the direct sum or overlap-save); an IIR filter runs the
/// transposed direct form II recursion in the precision of `T`. NaN samples propagate (through
/// a transform, to every output).
///
/// # Errors
/// [`FilterError::Empty`] / [`FilterError::NotFinite`] for empty or non-finite coefficients,
/// [`FilterError::LeadingDenominatorZero`] for `a[0] == 0`, [`FilterError::Parameter`] for a
/// recursion of order above [`crate::MAX_ORDER`], [`FilterError::TooLarge`] above
/// [`crate::MAX_VALUES`] samples, [`FilterError::Conv`] if the convolution is refused.
///
/// # Examples
/// ```
/// // A leaky integrator y[n] = x[n] + 0.5 y[n-1].
/// let y = filter::lfilter(&[1.0], &[1.0, -0.5], &[1.0, 0.0, 0.0, 2.0])?;
/// assert_eq!(y, vec![1.0, 0.5, 0.25, 2.125]);
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn lfilter<T: ConvNum>(b: &[T], a: &[T], x: &[T]) -> Result<Vec<T>, FilterError> {
    let order = b.len().max(a.len()).saturating_sub(1);
    lfilter_with_state(b, a, x, &vec![T::zero(); order]).map(|(y, _)| y)
}

/// [`lfilter`] from the initial state `zi` of the transposed direct form II (length
/// `max(len(a), len(b)) - 1`, scipy's `zi`), returning the output and the final state `zf`.
/// Filtering in pieces, each from the last one's `zf`, gives the one-piece output.
///
/// # Errors
/// As [`lfilter`], plus [`FilterError::StateLength`] for a `zi` of the wrong length and
/// [`FilterError::NotFinite`] for a NaN or infinite state.
///
/// # Examples
/// ```
/// use filter::{lfilter, lfilter_with_state};
/// let (b, a) = ([0.2, 0.3], [1.0, -0.4]);
/// let x = [1.0, -2.0, 0.5, 4.0, 3.0];
/// let (first, zf) = lfilter_with_state(&b, &a, &x[..2], &[0.0])?;
/// let (second, _) = lfilter_with_state(&b, &a, &x[2..], &zf)?;
/// let whole = lfilter(&b, &a, &x)?;
/// assert_eq!([first, second].concat(), whole);
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn lfilter_with_state<T: ConvNum>(
    b: &[T],
    a: &[T],
    x: &[T],
    zi: &[T],
) -> Result<(Vec<T>, Vec<T>), FilterError> {
    let (b, a) = checked(b, a, zi, x.len())?;
    if is_fir(&a) {
        fir_with_state(&b, x, zi)
    } else {
        let mut y = x.to_vec();
        let zf = recursion_in_place(&b, &a, &mut y, zi);
        Ok((y, zf))
    }
}

/// [`lfilter_with_state`] in place: `data` becomes the output (no second signal-sized buffer
/// for a recursion); returns the final state.
pub(crate) fn lfilter_in_place<T: ConvNum>(
    b: &[T],
    a: &[T],
    data: &mut Vec<T>,
    zi: &[T],
) -> Result<Vec<T>, FilterError> {
    let (b, a) = checked(b, a, zi, data.len())?;
    if is_fir(&a) {
        let (y, zf) = fir_with_state(&b, data, zi)?;
        *data = y;
        Ok(zf)
    } else {
        Ok(recursion_in_place(&b, &a, data, zi))
    }
}

/// The normalised coefficients, after checking them, the state and the signal's length.
fn checked<T: ConvNum>(b: &[T], a: &[T], zi: &[T], len: usize) -> Result<(Vec<T>, Vec<T>), FilterError> {
    let (b, a) = normalised(b, a)?;
    let order = b.len() - 1;
    if !is_fir(&a) && order > MAX_ORDER {
        let expected = "at most MAX_ORDER for a recursion (a FIR filter, a = [1], may be longer)";
        return Err(FilterError::Parameter { name: "order", value: order as f64, expected });
    }
    if zi.len() != order {
        return Err(FilterError::StateLength { expected: order, got: zi.len() });
    }
    check_finite("the initial state", zi)?;
    check_alloc("the output", Some(len))?;
    Ok((b, a))
}

/// A FIR filter: no feedback coefficient.
fn is_fir<T: ConvNum>(a: &[T]) -> bool {
    a.iter().skip(1).all(|v| v.is_zero())
}

/// `b` and `a` divided by `a[0]` and zero-padded to one length, checked.
fn normalised<T: ConvNum>(b: &[T], a: &[T]) -> Result<(Vec<T>, Vec<T>), FilterError> {
    check_coefficients("b", b)?;
    check_coefficients("a", a)?;
    let a0 = a[0];
    if a0.is_zero() {
        return Err(FilterError::LeadingDenominatorZero);
    }
    let len = b.len().max(a.len());
    let mut b: Vec<T> = b.iter().map(|&v| v / a0).collect();
    let mut a: Vec<T> = a.iter().map(|&v| v / a0).collect();
    b.resize(len, T::zero());
    a.resize(len, T::zero());
    Ok((b, a))
}

/// The FIR case: the full convolution's first `n` values plus the state, the rest the new state.
fn fir_with_state<T: ConvNum>(b: &[T], x: &[T], zi: &[T]) -> Result<(Vec<T>, Vec<T>), FilterError> {
    let order = b.len() - 1;
    let mut full = if x.is_empty() {
        Vec::new()
    } else {
        convolve(&ArrayView1::from(x), &ArrayView1::from(b), Mode::Full)?.into_raw_vec_and_offset().0
    };
    // x empty: the state only moves nowhere; the full convolution is empty.
    full.resize(x.len() + order, T::zero());
    for (i, &z) in zi.iter().enumerate() {
        full[i] = full[i] + z;
    }
    let zf = full.split_off(x.len());
    Ok((full, zf))
}

/// The transposed direct form II, term order as scipy's `lfilter` (so f64 results agree to
/// the last bits): `y = z0 + b0 x`, `z[k] = z[k+1] + b[k+1] x - a[k+1] y`.
fn recursion_in_place<T: ConvNum>(b: &[T], a: &[T], data: &mut [T], zi: &[T]) -> Vec<T> {
    let order = b.len() - 1;
    let mut z = zi.to_vec();
    for value in data.iter_mut() {
        let sample = *value;
        let out = if order == 0 { b[0] * sample } else { z[0] + b[0] * sample };
        for k in 0..order {
            let carried = if k + 1 < order { z[k + 1] } else { T::zero() };
            z[k] = carried + sample * b[k + 1] - out * a[k + 1];
        }
        *value = out;
    }
    z
}

/// The initial state for the steady state of a unit step, like `scipy.signal.lfilter_zi(b, a)`:
/// scale it by the signal's first value to start without a transient. It solves
/// `zi = A zi + B` of the state-space form, here through its closed form
/// `zi[i] = sum_{k>i} (b[k] - a[k] H(1))`, with `H(1) = sum(b) / sum(a)`.
///
/// # Errors
/// As [`lfilter`]'s coefficient checks, plus [`FilterError::NoSteadyState`] when
/// `sum(a) == 0` (a pole at z = 1).
///
/// # Examples
/// ```
/// use filter::{lfilter_with_state, lfilter_zi};
/// let (b, a) = ([0.25_f64, 0.25], [1.0, -0.5]);
/// let zi = lfilter_zi(&b, &a)?;
/// let (y, _) = lfilter_with_state(&b, &a, &[1.0; 4], &zi)?;
/// assert!(y.iter().all(|v| (v - 1.0).abs() < 1e-15));
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn lfilter_zi<T: ConvNum>(b: &[T], a: &[T]) -> Result<Vec<T>, FilterError> {
    // scipy drops leading zeros of `a` before normalising.
    let first = a.iter().position(|v| !v.is_zero()).unwrap_or(a.len().saturating_sub(1));
    let (b, a) = normalised(b, &a[first..])?;
    if b.len() > MAX_ORDER + 1 {
        return Err(FilterError::Parameter {
            name: "order",
            value: (b.len() - 1) as f64,
            expected: "at most MAX_ORDER",
        });
    }
    let sum = |c: &[T]| c.iter().fold(T::zero(), |acc, &v| acc + v);
    let a_sum = sum(&a);
    if a_sum.is_zero() {
        return Err(FilterError::NoSteadyState);
    }
    let gain = sum(&b) / a_sum;
    let order = b.len() - 1;
    let mut zi = vec![T::zero(); order];
    let mut tail = T::zero();
    for k in (0..order).rev() {
        tail = tail + (b[k + 1] - a[k + 1] * gain);
        zi[k] = tail;
    }
    if check_finite("the steady state", &zi).is_err() {
        return Err(FilterError::NoSteadyState);
    }
    Ok(zi)
}
