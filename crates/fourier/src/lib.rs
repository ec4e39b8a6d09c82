//! # fourier
//!
//! Periodic signals and their Fourier series, for physicists who want numbers they can trust:
//!
//! Arrays in and out are ndarray's, the version conv-core uses, re-exported as
//! [`fourier::ndarray`](ndarray).
//!
//! - [`square`] (scipy.signal.square's semantics, on an array of times), [`PulseTrain`], [`band_limited_square`];
//! - [`FourierSeries`]: analytic coefficients of the square wave and pulse train, numerical ones
//!   from any function ([`FourierSeries::from_fn`], adaptive quadrature) or from samples
//!   ([`FourierSeries::from_samples`], FFT); fast partial sums; Lanczos sigma factors;
//!   [`gibbs_overshoot`];
//! - [`Oscillator`]: the driven damped oscillator's steady state, harmonic by harmonic, and an
//!   RK4 integrator to check it;
//! - the convolution theorem: [`circular_convolve`], [`circular_convolve_fft`],
//!   [`linear_convolve_fft`].
//!
//! The series convention is `F(t) = f0/2 + sum_n f_n cos(n w t) + g_n sin(n w t)`, `w = 2 pi / tau`.
//!
//! ```
//! use fourier::{FourierSeries, Oscillator, PulseTrain};
//! // The material's pulse train: period 0.2, width 0.1, height 2.
//! let pulses = PulseTrain::new(0.2, 0.1, 2.0)?;
//! let force = pulses.series(50)?;
//! assert!((force.mean() - 1.0).abs() < 1e-15); // mean = F * duty
//! let response = Oscillator::new(1.0, 0.5, 100.0)?.steady_state(&force)?;
//! assert_eq!(response.harmonics().len(), 50);
//! # Ok::<(), fourier::FourierError>(())
//! ```

mod error;
mod oscillator;
mod quadrature;
mod series;
mod theorem;
mod waves;

/// The ndarray version this crate takes and returns (conv-core's).
pub use conv_core::ndarray;
pub use error::{FourierError, MAX_OPERATIONS, MAX_SAMPLES, MAX_TERMS};
pub use oscillator::{Harmonic, Oscillator, SteadyState};
pub use series::{FourierSeries, gibbs_overshoot};
pub use theorem::{circular_convolve, circular_convolve_fft, linear_convolve_fft};
pub use waves::{PulseTrain, band_limited_square, square};
