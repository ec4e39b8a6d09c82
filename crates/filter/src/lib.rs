//! scipy.signal's filtering family, built on conv-core.
//!
//! A filter's impulse response *is* a convolution kernel: FIR filtering is convolution (done
//! by conv-core, whose planner picks the direct sum or overlap-save), and an IIR filter is a
//! convolution with an infinitely long kernel computed by a recursion.
//!
//! | scipy.signal | here |
//! |---|---|
//! | `get_window(w, n)`, `windows.hann(n, sym)` ... | [`get_window`], [`Window::samples`] with [`Symmetry`] |
//! | `firwin(n, cutoff, window=, pass_zero=, scale=)` | [`firwin`], [`firwin_scaled`] with a [`Band`] |
//! | `kaiser_beta`, `kaiser_atten`, `kaiserord` | [`kaiser_beta`], [`kaiser_atten`], [`kaiserord`] |
//! | `freqz(b, a, worN, whole)`, `sosfreqz` | [`freqz`], [`sosfreqz`] |
//! | `butter(N, Wn, btype, output='zpk' / 'ba' / 'sos')` | [`butter`] then [`Zpk::to_ba`] / [`Zpk::to_sos`] |
//! | `cheby1(N, rp, Wn, btype)`, `cheby2(N, rs, Wn, btype)` | [`cheby1`], [`cheby2`] (same outputs) |
//! | `zpk2tf`, `zpk2sos` | [`Zpk::to_ba`], [`Zpk::to_sos`] |
//! | `lfilter(b, a, x, zi=)`, `lfilter_zi` | [`lfilter`], [`lfilter_with_state`], [`lfilter_zi`] |
//! | `sosfilt(sos, x, zi=)`, `sosfilt_zi` | [`sosfilt`], [`sosfilt_with_state`], [`sosfilt_zi`] |
//! | `filtfilt`, `sosfiltfilt` (`padtype`, `padlen`) | [`filtfilt`], [`sosfiltfilt`], `*_with` + [`ZeroPhase`] |
//! | the same with `axis=` on an N-D array | [`lfilter_along`], [`sosfilt_along`], [`filtfilt_along`], [`sosfiltfilt_along`] |
//! | (fft-convolver, `oaconvolve` in pieces) | [`StreamingFir`] |
//!
//! Frequencies are fractions of the Nyquist frequency (scipy without `fs`); [`Band::in_hz`]
//! converts. Designs are computed in f64; filters run in f32 or f64 ([`cast_sections`]).
//!
//! # Example
//! ```
//! use filter::{butter, firwin, lfilter, sosfiltfilt, Band, Window};
//! let fs = 1000.0;
//! let x: Vec<f64> = (0..2000)
//!     .map(|n| {
//!         let t = n as f64 / fs;
//!         (2.0 * std::f64::consts::PI * 5.0 * t).sin() + 0.5 * (2.0 * std::f64::consts::PI * 200.0 * t).sin()
//!     })
//!     .collect();
//! // Remove the 200 Hz tone: a 101-tap Hamming FIR lowpass at 50 Hz...
//! let taps = firwin(101, &Band::Lowpass(50.0).in_hz(fs)?, &Window::Hamming)?;
//! let delayed = lfilter(&taps, &[1.0], &x)?;
//! // ...or an order-4 Butterworth, forward and backward (no delay).
//! let sos = butter(4, &Band::Lowpass(50.0).in_hz(fs)?)?.to_sos()?;
//! let smooth = sosfiltfilt(&sos, &x)?;
//! assert!((smooth[1000] - x[1000] + 0.5 * (2.0 * std::f64::consts::PI * 200.0).sin()).abs() < 0.01);
//! # let _ = delayed;
//! # Ok::<(), filter::FilterError>(())
//! ```

mod along;
mod analog;
mod band;
mod butter;
mod cascade;
mod chebyshev;
mod error;
mod filtfilt;
mod fir;
mod freqz;
mod lfilter;
mod sections;
mod sos;
mod special;
mod stream;
mod window;
mod zpk;

pub use along::{filtfilt_along, lfilter_along, sosfilt_along, sosfiltfilt_along};
pub use band::Band;
pub use butter::{MAX_BUTTER_ORDER, butter};
pub use chebyshev::{cheby1, cheby2};
pub use error::{FilterError, MAX_ORDER, MAX_VALUES};
pub use filtfilt::{PadType, ZeroPhase, filtfilt, filtfilt_with, sosfiltfilt, sosfiltfilt_with};
pub use fir::{firwin, firwin_scaled, kaiser_atten, kaiser_beta, kaiserord};
pub use freqz::{FrequencyResponse, freqz, sosfreqz};
pub use lfilter::{lfilter, lfilter_with_state, lfilter_zi};
pub use sos::{Section, cast_sections, sosfilt, sosfilt_with_state, sosfilt_zi};
pub use stream::{StreamState, StreamingFir};
pub use window::{Symmetry, Window, get_window};
pub use zpk::{Zpk, is_stable, largest_reflection};
