//! Complex signals: `scipy.signal.convolve` / `correlate` on `Complex<f32>` and `Complex<f64>`
//! arrays, solved by any real backend.
//!
//! With `x = a + ib` and `k = c + id`, bilinearity gives
//! `x * k = (a * c - b * d) + i (a * d + b * c)` for convolution and for correlation alike
//! (correlation conjugates the second operand first, as scipy does: `d -> -d`). The four real
//! products are one backend call: the real and imaginary parts of `x` form a batch of two and
//! those of `k` a bank of two kernels, so a backend solves the complex problem exactly when it
//! solves that real one — its [`supports`](crate::ConvBackend::supports) answer is the answer for
//! complex input, and its accuracy carries over (no three-multiplication trick, whose
//! cancellation would cost bits).

use ndarray::{Array, ArrayBase, Data, Dimension};
use num_complex::Complex;

use crate::backend::ConvBackend;
use crate::error::ConvError;
use crate::frontend::signal_pairs;
use crate::num::ConvNum;
use crate::planner::Auto;
use crate::spec::{ConvSpec, Mode};

/// Convolves two complex 1-D signals or 2-D images, like `scipy.signal.convolve(in1, in2, mode)`
/// on complex arrays, by the backend [`Auto`] chooses ([`Auto::shared`]).
///
/// # Errors
/// As [`convolve`](crate::convolve).
///
/// # Examples
/// `(1 + i t)(1 - i t) = 1 + t^2`:
/// ```
/// use conv_core::{convolve_complex, Mode};
/// use ndarray::array;
/// use num_complex::Complex64 as C;
/// let product = convolve_complex(&array![C::new(1.0, 0.0), C::new(0.0, 1.0)], &array![C::new(1.0, 0.0), C::new(0.0, -1.0)], Mode::Full)?;
/// assert_eq!(product, array![C::new(1.0, 0.0), C::new(0.0, 0.0), C::new(1.0, 0.0)]);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn convolve_complex<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
) -> Result<Array<Complex<T>, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = Complex<T>>,
    S2: Data<Elem = Complex<T>>,
    D: Dimension,
{
    convolve_complex_with(in1, in2, mode, Auto::shared())
}

/// [`convolve_complex`] computed by a chosen (real) backend.
///
/// # Errors
/// As [`convolve_with`](crate::convolve_with).
pub fn convolve_complex_with<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
    backend: &dyn ConvBackend<T>,
) -> Result<Array<Complex<T>, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = Complex<T>>,
    S2: Data<Elem = Complex<T>>,
    D: Dimension,
{
    complex_call("convolve_complex", in1, in2, false, &ConvSpec::convolution().mode(mode), backend)
}

/// Cross-correlates two complex signals or images like `scipy.signal.correlate(in1, in2, mode)`:
/// `z[k] = sum_l in1[l] * conj(in2[l - k + K - 1])`, by the backend [`Auto`] chooses. The matched
/// filter of a known waveform is its correlation with the received signal.
///
/// # Errors
/// As [`correlate`](crate::correlate).
///
/// # Examples
/// A signal correlated with itself peaks at zero lag with its energy, a real number:
/// ```
/// use conv_core::{correlate_complex, Mode};
/// use ndarray::array;
/// use num_complex::Complex64 as C;
/// let x = array![C::new(1.0, 1.0), C::new(0.0, 2.0)];
/// let z = correlate_complex(&x, &x, Mode::Full)?;
/// assert_eq!(z, array![C::new(2.0, -2.0), C::new(6.0, 0.0), C::new(2.0, 2.0)]); // as scipy
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn correlate_complex<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
) -> Result<Array<Complex<T>, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = Complex<T>>,
    S2: Data<Elem = Complex<T>>,
    D: Dimension,
{
    correlate_complex_with(in1, in2, mode, Auto::shared())
}

/// [`correlate_complex`] computed by a chosen (real) backend.
///
/// # Errors
/// As [`correlate_with`](crate::correlate_with).
pub fn correlate_complex_with<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
    backend: &dyn ConvBackend<T>,
) -> Result<Array<Complex<T>, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = Complex<T>>,
    S2: Data<Elem = Complex<T>>,
    D: Dimension,
{
    complex_call("correlate_complex", in1, in2, true, &ConvSpec::correlation().mode(mode), backend)
}

/// `[re, im]` of an operand, one after the other (row-major), `im` negated to conjugate.
fn split<T: ConvNum, S: Data<Elem = Complex<T>>, D: Dimension>(
    operand: &ArrayBase<S, D>,
    conjugate: bool,
) -> Vec<T> {
    let sign = if conjugate { -T::one() } else { T::one() };
    operand.iter().map(|z| z.re).chain(operand.iter().map(|z| sign * z.im)).collect()
}

fn complex_call<T, S1, S2, D>(
    call: &'static str,
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    conjugate_second: bool,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array<Complex<T>, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = Complex<T>>,
    S2: Data<Elem = Complex<T>>,
    D: Dimension,
{
    // products[n][o] = part n of in1 (re, im) with part o of in2 (re, +-im). The parts are
    // copied out only after every size has been checked against the cap (a broadcast view of
    // 10^12 values is refused, not split into 16 TB).
    let operands = || (split(in1, false), split(in2, conjugate_second));
    let (products, spatial) = signal_pairs(call, (in1.shape(), in2.shape()), operands, spec, backend)?;
    let len: usize = spatial.iter().product();
    let part = |n: usize, o: usize| &products[(n * 2 + o) * len..][..len];
    let (ac, ad, bc, bd) = (part(0, 0), part(0, 1), part(1, 0), part(1, 1));
    let values = (0..len).map(|i| Complex::new(ac[i] - bd[i], ad[i] + bc[i])).collect();
    let mut dim = in1.raw_dim();
    for (axis, &size) in spatial.iter().enumerate() {
        dim[axis] = size;
    }
    Array::from_shape_vec(dim, values).map_err(|_| ConvError::BufferLength {
        what: "output",
        expected: len,
        got: len,
    })
}
