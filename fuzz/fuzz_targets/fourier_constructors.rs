//! Arbitrary numbers through every fourier constructor and evaluation: a typed error or a
//! finite answer, never a panic, an abort or a long run.
#![no_main]
use arbitrary::Arbitrary;
use fourier::{FourierSeries, Oscillator, PulseTrain, band_limited_square, gibbs_overshoot, square};
use libfuzzer_sys::fuzz_target;
use ndarray::Array1;

#[derive(Arbitrary, Debug)]
struct Request {
    reals: [f64; 8],
    terms: u32,
    steps: u32,
    broadcast_log2: u8,
    samples: Vec<f64>,
}

fuzz_target!(|r: Request| {
    let [duty, period, width, height, mass, damping, stiffness, dt] = r.reals;
    let terms = r.terms as usize;
    // A broadcast of up to 2^10 times (answered) or of 2^28 to 2^40 (over the cap: refused
    // before evaluation); the sizes in between are only slow, a unit test checks the cap.
    let log2 = r.broadcast_log2 % 24;
    let log2 = if log2 <= 10 { log2 } else { log2 + 17 };
    let one = Array1::from_elem(1, period);
    let times = one.broadcast(1usize << log2).expect("a broadcast");
    if let Ok(series) = FourierSeries::square_wave(duty, terms % 256) {
        assert!(series.cos_coefficients().iter().all(|c| c.is_finite()));
        let _ = series.values(&times);
        let _ = gibbs_overshoot(&series, (width, height), 1.0, dt, r.steps as usize % 4096);
        if let Ok(oscillator) = Oscillator::new(mass, damping, stiffness)
            && let Ok(response) = oscillator.steady_state(&series)
        {
            let _ = response.positions(&times);
        }
    }
    let _ = square(&times, duty);
    let _ = band_limited_square(width, height);
    if let Ok(pulses) = PulseTrain::new(period, width, height) {
        let _ = pulses.values(&times);
        let _ = pulses.series(terms % 4096);
    }
    let samples = Array1::from(r.samples);
    let _ = FourierSeries::from_samples(&samples, period, terms);
    if let Ok(oscillator) = Oscillator::new(mass, damping, stiffness) {
        // Up to 2^12 steps (the cap itself is 2^27: a unit test checks it).
        let _ = oscillator.simulate(|t| t.sin(), (duty, width), dt, r.steps as usize % (1 << 12));
    }
    let _ = fourier::circular_convolve(&samples, &samples);
    let _ = fourier::linear_convolve_fft(&samples, &times);
});
