//! The material's figures, drawn from this crate's own numbers (SVG, via plotters):
//!
//! - `square_series.svg`: the square wave against its Fourier partial sums for several term counts;
//! - `gibbs.svg`: the Gibbs region close up, with and without Lanczos sigma factors;
//! - `oscillator.svg`: a pulse-train force and the driven oscillator's steady-state response.
//!
//! Run with `cargo run -p fourier --example figures [OUTPUT_DIR]` (default `target/figures`).

use std::error::Error;
use std::f64::consts::PI;
use std::path::Path;

use fourier::{FourierSeries, Oscillator, PulseTrain, square};
use plotters::prelude::*;

type Curve = (String, Vec<(f64, f64)>);

/// Draws `curves` on one set of axes into `path`; the vertical range fits the data.
fn plot(path: &Path, title: &str, x_range: (f64, f64), curves: &[Curve]) -> Result<(), Box<dyn Error>> {
    let values = curves.iter().flat_map(|(_, points)| points.iter().map(|p| p.1)).filter(|v| v.is_finite());
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let margin = 0.08 * (high - low).max(f64::MIN_POSITIVE);
    let y_range = (low - margin, high + margin);
    let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
    chart.configure_mesh().x_desc("t").draw()?;
    for (index, (label, points)) in curves.iter().enumerate() {
        let colour = Palette99::pick(index).stroke_width(2);
        chart.draw_series(LineSeries::new(points.iter().copied(), colour))?.label(label.as_str()).legend(
            move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], Palette99::pick(index).stroke_width(2)),
        );
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw()?;
    root.present()?;
    println!("wrote {}", path.display());
    Ok(())
}

fn sample(from: f64, to: f64, points: usize, f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
    (0..=points).map(|i| from + (to - from) * i as f64 / points as f64).map(|t| (t, f(t))).collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "target/figures".to_string());
    let out = Path::new(&out);
    std::fs::create_dir_all(out)?;

    // Square wave and partial sums (the material sums up to 500 terms on 500 points).
    // ANCHOR: partial_sums
    let full = FourierSeries::square_wave(0.5, 500)?; // scipy.signal.square(t, 0.5), 500 harmonics
    let ten = full.truncated(10);
    let value_at_one = ten.eval(1.0); // the 10-term partial sum at t = 1
    // ANCHOR_END: partial_sums
    assert!((value_at_one - 1.0).abs() < 0.2);
    let mut curves: Vec<Curve> =
        vec![("square(t)".into(), sample(-PI, 3.0 * PI, 2000, |t| square(t, 0.5).unwrap_or(f64::NAN)))];
    for terms in [1, 3, 10, 50, 500] {
        let series = full.truncated(terms);
        curves.push((format!("{terms} terms"), sample(-PI, 3.0 * PI, 500, |t| series.eval(t))));
    }
    plot(
        &out.join("square_series.svg"),
        "Square wave and its Fourier partial sums",
        (-PI, 3.0 * PI),
        &curves,
    )?;

    // The Gibbs region: the overshoot stays near 9% of the jump however many terms are summed.
    let fifty = full.truncated(50);
    let gibbs = vec![
        ("square(t)".to_string(), sample(-0.4, 0.8, 1000, |t| square(t, 0.5).unwrap_or(f64::NAN))),
        ("50 terms".to_string(), sample(-0.4, 0.8, 1000, |t| fifty.eval(t))),
        ("500 terms".to_string(), sample(-0.4, 0.8, 1000, |t| full.eval(t))),
        (
            "50 terms, sigma factors".to_string(),
            sample(-0.4, 0.8, 1000, |t| fifty.with_sigma_factors().eval(t)),
        ),
    ];
    plot(&out.join("gibbs.svg"), "Gibbs overshoot near the jump at t = 0", (-0.4, 0.8), &gibbs)?;

    // The material's pulse train (period 0.2, width 0.1, F = 2) driving an oscillator.
    // ANCHOR: oscillator
    let pulses = PulseTrain::new(0.2, 0.1, 2.0)?; // period 0.2, width 0.1, F = 2
    let oscillator = Oscillator::new(1.0, 2.0, 2000.0)?; // m, eta, k
    let response = oscillator.steady_state(&pulses.series(200)?)?;
    for harmonic in &response.harmonics()[..3] {
        println!("n = {}: amplitude {:.3e}, phase {:.3} rad", harmonic.n, harmonic.amplitude, harmonic.phase);
    }
    // ANCHOR_END: oscillator
    let scale = 1.0 / oscillator.natural_frequency().powi(2); // force / k has units of length
    let oscillator_curves = vec![
        ("F(t) / k".to_string(), sample(0.0, 0.6, 2000, |t| pulses.value(t).unwrap_or(f64::NAN) * scale)),
        ("x(t), steady state".to_string(), sample(0.0, 0.6, 2000, |t| response.position(t))),
    ];
    plot(
        &out.join("oscillator.svg"),
        "Driven damped oscillator: m = 1, eta = 2, k = 2000",
        (0.0, 0.6),
        &oscillator_curves,
    )?;
    Ok(())
}
