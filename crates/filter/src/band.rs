//! Which frequencies a filter passes: the band description shared by FIR and IIR design.

use crate::error::FilterError;

/// The band a filter passes. Frequencies are fractions of the Nyquist frequency, in (0, 1)
/// (scipy's convention without `fs`; for a sampling rate `fs` in Hz pass `f / (fs / 2)`, or
/// build the band with [`Band::in_hz`]).
///
/// # Examples
/// ```
/// use filter::Band;
/// // 50 Hz lowpass at 1 kHz sampling: a tenth of the 500 Hz Nyquist frequency.
/// assert_eq!(Band::Lowpass(50.0).in_hz(1000.0)?, Band::Lowpass(0.1));
/// # Ok::<(), filter::FilterError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Band {
    /// Passes below the cutoff.
    Lowpass(f64),
    /// Passes above the cutoff.
    Highpass(f64),
    /// Passes between the two cutoffs.
    Bandpass(f64, f64),
    /// Stops between the two cutoffs.
    Bandstop(f64, f64),
    /// `firwin` only: alternating bands at increasing `edges`, the first passing if `pass_zero`
    /// (scipy's `firwin(numtaps, cutoff_list, pass_zero=...)`).
    Multiband {
        /// The band edges, strictly increasing in (0, 1).
        edges: Vec<f64>,
        /// Whether the band starting at zero frequency passes.
        pass_zero: bool,
    },
}

impl Band {
    /// The same band with its frequencies given in Hz, converted for a sampling rate `fs`.
    ///
    /// # Errors
    /// [`FilterError::Parameter`] when `fs` is not finite and positive.
    pub fn in_hz(self, fs: f64) -> Result<Self, FilterError> {
        if !(fs.is_finite() && fs > 0.0) {
            return Err(FilterError::Parameter { name: "fs", value: fs, expected: "finite and > 0" });
        }
        let nyquist = fs / 2.0;
        Ok(match self {
            Self::Lowpass(f) => Self::Lowpass(f / nyquist),
            Self::Highpass(f) => Self::Highpass(f / nyquist),
            Self::Bandpass(lo, hi) => Self::Bandpass(lo / nyquist, hi / nyquist),
            Self::Bandstop(lo, hi) => Self::Bandstop(lo / nyquist, hi / nyquist),
            Self::Multiband { edges, pass_zero } => {
                Self::Multiband { edges: edges.iter().map(|f| f / nyquist).collect(), pass_zero }
            }
        })
    }

    /// The band edges in increasing order and whether the band at zero frequency passes,
    /// checked: every edge in (0, 1), strictly increasing.
    ///
    /// # Errors
    /// [`FilterError::Cutoff`] otherwise.
    pub fn edges(&self) -> Result<(Vec<f64>, bool), FilterError> {
        let (edges, pass_zero) = match self {
            Self::Lowpass(f) => (vec![*f], true),
            Self::Highpass(f) => (vec![*f], false),
            Self::Bandpass(lo, hi) => (vec![*lo, *hi], false),
            Self::Bandstop(lo, hi) => (vec![*lo, *hi], true),
            Self::Multiband { edges, pass_zero } => (edges.clone(), *pass_zero),
        };
        let refuse = |reason| Err(FilterError::Cutoff { cutoffs: edges.clone(), reason });
        if edges.is_empty() {
            return refuse("at least one cutoff frequency is needed");
        }
        if !edges.iter().all(|&f| f > 0.0 && f < 1.0) {
            return refuse("frequencies must be in (0, 1), fractions of the Nyquist frequency");
        }
        if edges.windows(2).any(|pair| pair[1] <= pair[0]) {
            return refuse("frequencies must be strictly increasing");
        }
        Ok((edges, pass_zero))
    }
}
