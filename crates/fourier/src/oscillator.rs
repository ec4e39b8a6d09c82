//! The driven, damped harmonic oscillator `m x'' + eta x' + k x = F(t)` under a periodic force.

use ndarray::{Array, Array1, ArrayBase, Data, Dimension};

use crate::error::{FourierError, at_most, finite, positive};
use crate::series::FourierSeries;

/// A mass `m` on a spring of stiffness `k` with viscous damping `eta`.
///
/// Dividing by `m`: `x'' + 2 beta x' + w0^2 x = F(t) / m` with `w0^2 = k / m`, `2 beta = eta / m`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Oscillator {
    mass: f64,
    damping: f64,
    stiffness: f64,
}

/// One harmonic of the steady-state response: `amplitude * cos(n w t - phase)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Harmonic {
    /// The harmonic number `n`.
    pub n: usize,
    /// `A_n = (R_n / m) / sqrt((w0^2 - n^2 w^2)^2 + 4 beta^2 n^2 w^2)`, with `R_n` the force
    /// harmonic's amplitude (`|f_n|` for a cosine series).
    pub amplitude: f64,
    /// The response's phase: the force harmonic's phase plus the lag
    /// `delta_n = atan2(2 beta n w, w0^2 - n^2 w^2)`, in `[0, pi]` behind the force.
    pub phase: f64,
}

/// The steady-state (particular) solution for a periodic force, harmonic by harmonic.
#[derive(Clone, Debug, PartialEq)]
pub struct SteadyState {
    offset: f64,
    angular_frequency: f64,
    harmonics: Vec<Harmonic>,
}

impl SteadyState {
    /// The constant displacement `f0 / (2k)`.
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// Amplitude and phase of each harmonic.
    pub fn harmonics(&self) -> &[Harmonic] {
        &self.harmonics
    }

    /// The displacements at every time in `t`, in `t`'s shape.
    ///
    /// # Errors
    /// [`FourierError::TooLarge`] for more than [`MAX_SAMPLES`](crate::MAX_SAMPLES) times, or
    /// more than [`MAX_OPERATIONS`](crate::MAX_OPERATIONS) harmonics times times.
    pub fn positions<S: Data<Elem = f64>, D: Dimension>(
        &self,
        t: &ArrayBase<S, D>,
    ) -> Result<Array<f64, D>, FourierError> {
        crate::error::within_budget("times", t.len(), self.harmonics.len() + 1)?;
        Ok(t.mapv(|t| self.position_at(t)))
    }

    /// The displacement at time `t`.
    pub fn position_at(&self, t: f64) -> f64 {
        let w = self.angular_frequency;
        self.offset
            + self.harmonics.iter().map(|h| h.amplitude * (h.n as f64 * w * t - h.phase).cos()).sum::<f64>()
    }
}

/// The most steps [`Oscillator::simulate`] takes: 2^27 (a 1 GiB trajectory).
const MAX_STEPS: usize = 1 << 27;

impl Oscillator {
    /// The most steps [`simulate`](Oscillator::simulate) takes: 2^27 (a 1 GiB trajectory).
    pub const MAX_STEPS: usize = MAX_STEPS;

    /// An oscillator with mass `m > 0`, damping `eta >= 0` and stiffness `k > 0`.
    ///
    /// # Errors
    /// [`FourierError::NotPositive`] / [`FourierError::NotFinite`].
    pub fn new(mass: f64, damping: f64, stiffness: f64) -> Result<Self, FourierError> {
        positive("mass", mass)?;
        finite("damping", damping)?;
        if damping < 0.0 {
            return Err(FourierError::NotPositive { what: "damping (zero allowed)", value: damping });
        }
        positive("stiffness", stiffness)?;
        Ok(Oscillator { mass, damping, stiffness })
    }

    /// The natural angular frequency `w0 = sqrt(k / m)`.
    pub fn natural_frequency(&self) -> f64 {
        (self.stiffness / self.mass).sqrt()
    }

    /// The damping rate `beta = eta / (2m)`: the transient decays like `exp(-beta t)`.
    pub fn beta(&self) -> f64 {
        self.damping / (2.0 * self.mass)
    }

    /// The steady state under the force `series`, by superposition: each harmonic of the force
    /// drives its own sinusoidal response (see [`Harmonic`]), and the constant part `f0/2`
    /// displaces the mass by `f0 / (2k)`.
    ///
    /// # Errors
    /// [`FourierError::Resonance`] if the oscillator is undamped and a harmonic with a non-zero
    /// coefficient sits exactly at `w0`.
    ///
    /// # Examples
    /// ```
    /// use fourier::{FourierSeries, Oscillator};
    /// // A pure cosine force of amplitude 1 at w = 1 on m = 1, k = 4, eta = 0: A = 1 / (4 - 1).
    /// let force = FourierSeries::new(std::f64::consts::TAU, 0.0, vec![1.0], vec![0.0])?;
    /// let response = Oscillator::new(1.0, 0.0, 4.0)?.steady_state(&force)?;
    /// assert!((response.harmonics()[0].amplitude - 1.0 / 3.0).abs() < 1e-15);
    /// # Ok::<(), fourier::FourierError>(())
    /// ```
    pub fn steady_state(&self, series: &FourierSeries) -> Result<SteadyState, FourierError> {
        let w = series.angular_frequency();
        let w0_sq = self.stiffness / self.mass;
        let beta = self.beta();
        let (amplitudes, phases) = series.amplitudes_and_phases();
        let harmonics = amplitudes
            .into_iter()
            .zip(phases)
            .enumerate()
            .map(|(i, (force_amplitude, force_phase))| {
                let n = i + 1;
                let nw = n as f64 * w;
                let detuning = w0_sq - nw * nw;
                let friction = 2.0 * beta * nw;
                let denominator = detuning.hypot(friction);
                if denominator == 0.0 && force_amplitude != 0.0 {
                    return Err(FourierError::Resonance { harmonic: n });
                }
                let amplitude =
                    if force_amplitude == 0.0 { 0.0 } else { force_amplitude / self.mass / denominator };
                Ok(Harmonic { n, amplitude, phase: force_phase + friction.atan2(detuning) })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SteadyState { offset: series.mean() / self.stiffness, angular_frequency: w, harmonics })
    }

    /// Integrates the equation of motion with the classical fourth-order Runge-Kutta method from
    /// `x(0) = x0`, `x'(0) = v0`, returning `x` at `t = 0, dt, 2 dt, ..., steps * dt`. The global
    /// error is `O(dt^4)` for a smooth force (`O(dt)` per jump of a discontinuous one).
    ///
    /// # Errors
    /// [`FourierError::NotPositive`] for `dt`, [`FourierError::NotFinite`] for `x0`, `v0`,
    /// [`FourierError::TooLarge`] for more than [`Oscillator::MAX_STEPS`] steps.
    pub fn simulate(
        &self,
        force: impl Fn(f64) -> f64,
        (x0, v0): (f64, f64),
        dt: f64,
        steps: usize,
    ) -> Result<Array1<f64>, FourierError> {
        positive("dt", dt)?;
        at_most("integration steps", steps, MAX_STEPS)?;
        finite("x0", x0)?;
        finite("v0", v0)?;
        let acceleration =
            |t: f64, x: f64, v: f64| (force(t) - self.damping * v - self.stiffness * x) / self.mass;
        let (mut x, mut v) = (x0, v0);
        let mut positions = Vec::with_capacity(steps + 1);
        positions.push(x);
        for step in 0..steps {
            let t = step as f64 * dt;
            let (k1x, k1v) = (v, acceleration(t, x, v));
            let (k2x, k2v) =
                (v + dt / 2.0 * k1v, acceleration(t + dt / 2.0, x + dt / 2.0 * k1x, v + dt / 2.0 * k1v));
            let (k3x, k3v) =
                (v + dt / 2.0 * k2v, acceleration(t + dt / 2.0, x + dt / 2.0 * k2x, v + dt / 2.0 * k2v));
            let (k4x, k4v) = (v + dt * k3v, acceleration(t + dt, x + dt * k3x, v + dt * k3v));
            x += dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x);
            v += dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v);
            positions.push(x);
        }
        Ok(Array1::from(positions))
    }
}
