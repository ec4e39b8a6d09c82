//! Window functions with scipy's definitions (`scipy.signal.windows`), symmetric or periodic.

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use crate::error::{FilterError, check_alloc};
use crate::special::{BESSEL_I0_MAX_ARGUMENT, bessel_i0};

/// A window shape and its parameter, as `scipy.signal.get_window` names them.
///
/// # Examples
/// ```
/// use filter::{Symmetry, Window};
/// let w = Window::Hann.samples(5, Symmetry::Symmetric)?;
/// assert_eq!(w, vec![0.0, 0.5, 1.0, 0.5, 0.0]);
/// let parsed: Window = "kaiser,8.6".parse()?;
/// assert_eq!(parsed, Window::Kaiser { beta: 8.6 });
/// # Ok::<(), filter::FilterError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Window {
    /// All ones (`boxcar`, the rectangular window).
    Boxcar,
    /// `0.5 - 0.5 cos` (`hann`).
    Hann,
    /// `0.54 - 0.46 cos` (`hamming`).
    Hamming,
    /// `0.42 - 0.5 cos + 0.08 cos 2` (`blackman`).
    Blackman,
    /// The triangle with zero ends (`bartlett`).
    Bartlett,
    /// `I0(beta sqrt(1 - (2n/(M-1) - 1)^2)) / I0(beta)` (`kaiser`); |beta| <= 700.
    Kaiser {
        /// The shape parameter: 0 is the boxcar, 5 is close to Hamming, 8.6 to Blackman.
        beta: f64,
    },
    /// `exp(-n^2 / (2 std^2))` about the centre (`gaussian`); std > 0.
    Gaussian {
        /// The standard deviation, in samples.
        std: f64,
    },
    /// Flat top with cosine tapers over the fraction `alpha` of the window (`tukey`):
    /// alpha <= 0 is the boxcar, alpha >= 1 the Hann window.
    Tukey {
        /// The tapered fraction.
        alpha: f64,
    },
}

/// Whether a window is symmetric (for filter design, scipy's `sym=True`) or periodic (one
/// period of a periodic sequence, for spectral analysis: scipy's `sym=False`, `fftbins=True`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symmetry {
    /// `w[n] == w[M - 1 - n]`.
    Symmetric,
    /// The symmetric window of length `M + 1` without its last sample.
    Periodic,
}

/// The periodic window of `len` samples, like `scipy.signal.get_window(window, len)`
/// (`fftbins=True`, the spectral-analysis default).
///
/// # Errors
/// As [`Window::samples`].
///
/// # Examples
/// ```
/// let w = filter::get_window(&filter::Window::Hann, 4)?;
/// assert_eq!(w, vec![0.0, 0.5, 1.0, 0.5]);
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn get_window(window: &Window, len: usize) -> Result<Vec<f64>, FilterError> {
    window.samples(len, Symmetry::Periodic)
}

impl Window {
    /// The window's `len` samples. Lengths 0 and 1 give an empty window and `[1.0]`, as scipy.
    ///
    /// # Errors
    /// [`FilterError::Parameter`] for a non-finite parameter, a Gaussian `std <= 0` or a Kaiser
    /// `|beta| > 700` (where `I0(beta)` overflows); [`FilterError::TooLarge`] above
    /// [`crate::MAX_VALUES`] samples.
    pub fn samples(&self, len: usize, symmetry: Symmetry) -> Result<Vec<f64>, FilterError> {
        self.check_parameter()?;
        check_alloc("the window", Some(len))?;
        if len <= 1 {
            return Ok(vec![1.0; len]);
        }
        // A periodic window is the symmetric one of length len + 1, truncated.
        let m = match symmetry {
            Symmetry::Symmetric => len,
            Symmetry::Periodic => len + 1,
        };
        let mut w = match *self {
            Self::Boxcar => vec![1.0; m],
            Self::Hann => general_cosine(m, &[0.5, 0.5]),
            Self::Hamming => general_cosine(m, &[0.54, 0.46]),
            Self::Blackman => general_cosine(m, &[0.42, 0.5, 0.08]),
            Self::Bartlett => bartlett(m),
            Self::Kaiser { beta } => kaiser(m, beta),
            Self::Gaussian { std } => gaussian(m, std),
            Self::Tukey { alpha } => return tukey(len, alpha, symmetry),
        };
        w.truncate(len);
        Ok(w)
    }

    fn check_parameter(&self) -> Result<(), FilterError> {
        let (name, value, ok, expected) = match *self {
            Self::Kaiser { beta } => {
                ("beta", beta, beta.abs() <= BESSEL_I0_MAX_ARGUMENT, "finite with |beta| <= 700")
            }
            Self::Gaussian { std } => ("std", std, std > 0.0 && std.is_finite(), "finite and > 0"),
            Self::Tukey { alpha } => ("alpha", alpha, alpha.is_finite(), "finite"),
            _ => return Ok(()),
        };
        if ok { Ok(()) } else { Err(FilterError::Parameter { name, value, expected }) }
    }
}

/// `sum_k a[k] cos(k x)` on `m` points `x` from -pi to pi (numpy's `linspace`).
fn general_cosine(m: usize, coefficients: &[f64]) -> Vec<f64> {
    let step = 2.0 * PI / (m - 1) as f64;
    (0..m)
        .map(|n| {
            let x = if n == m - 1 { PI } else { n as f64 * step - PI };
            // The k = 0 term is a[0] * cos(0) = a[0]; sign of the odd terms as scipy's
            // general_cosine (x runs from -pi, where cos(x) = -1).
            coefficients.iter().enumerate().fold(0.0, |sum, (k, &a)| sum + a * (k as f64 * x).cos())
        })
        .collect()
}

fn bartlett(m: usize) -> Vec<f64> {
    let last = (m - 1) as f64;
    (0..m)
        .map(|n| {
            let n = n as f64;
            if n <= last / 2.0 { 2.0 * n / last } else { 2.0 - 2.0 * n / last }
        })
        .collect()
}

fn kaiser(m: usize, beta: f64) -> Vec<f64> {
    let centre = (m - 1) as f64 / 2.0;
    let norm = bessel_i0(beta);
    (0..m)
        .map(|n| {
            let r = (n as f64 - centre) / centre;
            bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / norm
        })
        .collect()
}

fn gaussian(m: usize, std: f64) -> Vec<f64> {
    let centre = (m as f64 - 1.0) / 2.0;
    let two_var = 2.0 * std * std;
    (0..m).map(|n| (-(n as f64 - centre).powi(2) / two_var).exp()).collect()
}

fn tukey(len: usize, alpha: f64, symmetry: Symmetry) -> Result<Vec<f64>, FilterError> {
    if alpha <= 0.0 {
        return Ok(vec![1.0; len]);
    }
    if alpha >= 1.0 {
        return Window::Hann.samples(len, symmetry);
    }
    let m = if symmetry == Symmetry::Periodic { len + 1 } else { len };
    let last = (m - 1) as f64;
    // The taper's last index on the left, floor(alpha (M - 1) / 2), as scipy.
    let width = (alpha * last / 2.0).floor() as usize;
    let mut w: Vec<f64> = (0..m)
        .map(|n| {
            let x = n as f64;
            if n <= width {
                0.5 * (1.0 + (PI * (-1.0 + 2.0 * x / alpha / last)).cos())
            } else if n + width + 1 < m {
                1.0
            } else {
                0.5 * (1.0 + (PI * (-2.0 / alpha + 1.0 + 2.0 * x / alpha / last)).cos())
            }
        })
        .collect();
    w.truncate(len);
    Ok(w)
}

impl FromStr for Window {
    type Err = FilterError;

    /// `"hann"`, `"hamming"`, `"blackman"`, `"bartlett"`, `"boxcar"` (or `"rectangular"`), and
    /// the parametrised `"kaiser,BETA"`, `"gaussian,STD"`, `"tukey,ALPHA"` (scipy's tuples).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || FilterError::UnknownWindow(text.to_owned());
        let mut parts = text.split(',').map(str::trim);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let parameter = parts.next().map(|p| p.parse::<f64>().map_err(|_| unknown())).transpose()?;
        if parts.next().is_some() {
            return Err(unknown());
        }
        let window = match (name.as_str(), parameter) {
            ("boxcar" | "rectangular" | "box" | "ones", None) => Self::Boxcar,
            ("hann" | "hanning", None) => Self::Hann,
            ("hamming", None) => Self::Hamming,
            ("blackman", None) => Self::Blackman,
            ("bartlett" | "triangular", None) => Self::Bartlett,
            ("kaiser", Some(beta)) => Self::Kaiser { beta },
            ("gaussian", Some(std)) => Self::Gaussian { std },
            ("tukey", Some(alpha)) => Self::Tukey { alpha },
            ("tukey", None) => Self::Tukey { alpha: 0.5 },
            _ => return Err(unknown()),
        };
        window.check_parameter()?;
        Ok(window)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Boxcar => write!(f, "boxcar"),
            Self::Hann => write!(f, "hann"),
            Self::Hamming => write!(f, "hamming"),
            Self::Blackman => write!(f, "blackman"),
            Self::Bartlett => write!(f, "bartlett"),
            Self::Kaiser { beta } => write!(f, "kaiser,{beta}"),
            Self::Gaussian { std } => write!(f, "gaussian,{std}"),
            Self::Tukey { alpha } => write!(f, "tukey,{alpha}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_windows_are_empty_or_one() {
        for window in [Window::Hann, Window::Kaiser { beta: 3.0 }, Window::Tukey { alpha: 0.3 }] {
            assert_eq!(window.samples(0, Symmetry::Symmetric), Ok(vec![]));
            assert_eq!(window.samples(1, Symmetry::Periodic), Ok(vec![1.0]));
        }
    }

    #[test]
    fn symmetric_windows_are_symmetric_and_periodic_ones_are_truncated() {
        for window in [
            Window::Hann,
            Window::Blackman,
            Window::Bartlett,
            Window::Kaiser { beta: 8.6 },
            Window::Gaussian { std: 2.5 },
            Window::Tukey { alpha: 0.4 },
        ] {
            for len in [2, 7, 8, 33] {
                let w = window.samples(len, Symmetry::Symmetric).unwrap_or_default();
                assert!(w.iter().zip(w.iter().rev()).all(|(a, b)| (a - b).abs() < 1e-15), "{window} {len}");
                let longer = window.samples(len + 1, Symmetry::Symmetric).unwrap_or_default();
                let periodic = window.samples(len, Symmetry::Periodic).unwrap_or_default();
                assert_eq!(periodic, longer[..len], "{window} {len}");
            }
        }
    }

    #[test]
    fn names_round_trip_and_bad_parameters_are_refused() {
        for window in
            [Window::Hann, Window::Kaiser { beta: 8.6 }, Window::Tukey { alpha: 0.25 }, Window::Boxcar]
        {
            assert_eq!(window.to_string().parse::<Window>(), Ok(window));
        }
        assert!(matches!("cosine".parse::<Window>(), Err(FilterError::UnknownWindow(_))));
        assert!(matches!("kaiser,x".parse::<Window>(), Err(FilterError::UnknownWindow(_))));
        assert!(matches!("gaussian,0".parse::<Window>(), Err(FilterError::Parameter { .. })));
        assert!(matches!(
            Window::Kaiser { beta: f64::NAN }.samples(4, Symmetry::Symmetric),
            Err(FilterError::Parameter { .. })
        ));
        assert!(matches!(
            Window::Kaiser { beta: 1e4 }.samples(4, Symmetry::Symmetric),
            Err(FilterError::Parameter { .. })
        ));
        assert!(matches!(
            Window::Hann.samples(usize::MAX, Symmetry::Periodic),
            Err(FilterError::TooLarge { .. })
        ));
    }
}
