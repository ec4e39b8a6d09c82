//! The material's figures, drawn from this crate's own numbers (SVG, via plotters):
//!
//! - `square_series.svg`: the square wave against its Fourier partial sums for several term counts;
//! - `gibbs.svg`: the Gibbs region close up, with and without Lanczos sigma factors;
//! - `oscillator.svg`: a pulse-train force and the driven oscillator's steady-state response.
//!
//! Run with `cargo run -p fourier --example fourier_figures [OUTPUT_DIR]` (default `target/figures`).

use std::error::Error;
use std::f64::consts::PI;
use std::path::Path;

use fourier::ndarray::Array1;
use fourier::{FourierSeries, Oscillator, PulseTrain, square};
use plotters::prelude::*;

type Curve = (String, Vec<(f64, f64)>);

/// Tick labels and legend text, in SVG pixels: the book shows the figures at about 0.85 of their
/// width on a desktop, so these stay above 12 px on screen.
const LABEL_FONT: u32 = 17;

/// Draws `curves` on one set of axes into `path`, with the legend in a column of its own to the
/// right of the plot (never over a curve); the vertical range fits the data.
fn plot(path: &Path, title: &str, x_range: (f64, f64), curves: &[Curve]) -> Result<(), Box<dyn Error>> {
    let values = curves.iter().flat_map(|(_, points)| points.iter().map(|p| p.1)).filter(|v| v.is_finite());
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let margin = 0.08 * (high - low).max(f64::MIN_POSITIVE);
    let y_range = (low - margin, high + margin);
    let root = SVGBackend::new(path, (860, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot_area, legend_area) = root.split_horizontally(650);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
    chart
        .configure_mesh()
        .x_desc("t")
        .label_style(("sans-serif", LABEL_FONT))
        .axis_desc_style(("sans-serif", LABEL_FONT))
        .draw()?;
    for (index, (label, points)) in curves.iter().enumerate() {
        chart.draw_series(LineSeries::new(points.iter().copied(), Palette99::pick(index).stroke_width(2)))?;
        let y = 60 + 30 * index as i32;
        legend_area.draw(&PathElement::new(vec![(8, y), (36, y)], Palette99::pick(index).stroke_width(3)))?;
        legend_area.draw(&Text::new(label.as_str(), (44, y - 9), ("sans-serif", LABEL_FONT)))?;
    }
    root.present()?;
    println!("wrote {}", path.display());
    Ok(())
}

/// `points + 1` times evenly spaced over `[from, to]`.
fn times(from: f64, to: f64, points: usize) -> Array1<f64> {
    Array1::linspace(from, to, points + 1)
}

/// The curve `(t, values[t])`.
fn curve(times: &Array1<f64>, values: &Array1<f64>) -> Vec<(f64, f64)> {
    times.iter().copied().zip(values.iter().copied()).collect()
}

/// "1 term", "10 terms".
fn terms_label(terms: usize) -> String {
    if terms == 1 { "1 term".to_string() } else { format!("{terms} terms") }
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "target/figures".to_string());
    let out = Path::new(&out);
    std::fs::create_dir_all(out)?;

    // Square wave and partial sums (the material sums up to 500 terms on 500 points).
    // ANCHOR: partial_sums
    let full = FourierSeries::square_wave(0.5, 500)?; // scipy.signal.square(t, 0.5), 500 harmonics
    let ten = full.truncated(10);
    let value_at_one = ten.value_at(1.0); // the 10-term partial sum at t = 1
    // ANCHOR_END: partial_sums
    assert!((value_at_one - 1.0).abs() < 0.2);
    let (fine, coarse) = (times(-PI, 3.0 * PI, 2000), times(-PI, 3.0 * PI, 500));
    let mut curves: Vec<Curve> = vec![("square(t)".into(), curve(&fine, &square(&fine, 0.5)?))];
    for terms in [1, 3, 10, 50, 500] {
        curves.push((terms_label(terms), curve(&coarse, &full.truncated(terms).values(&coarse)?)));
    }
    plot(
        &out.join("square_series.svg"),
        "Square wave and its Fourier partial sums",
        (-PI, 3.0 * PI),
        &curves,
    )?;

    // The Gibbs region: the overshoot stays near 9% of the jump however many terms are summed.
    let fifty = full.truncated(50);
    let close = times(-0.4, 0.8, 1000);
    let gibbs = vec![
        ("square(t)".to_string(), curve(&close, &square(&close, 0.5)?)),
        ("50 terms".to_string(), curve(&close, &fifty.values(&close)?)),
        ("500 terms".to_string(), curve(&close, &full.values(&close)?)),
        ("50 terms, sigma".to_string(), curve(&close, &fifty.with_sigma_factors().values(&close)?)),
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
    let t = times(0.0, 0.6, 2000);
    let oscillator_curves = vec![
        ("F(t) / k".to_string(), curve(&t, &(pulses.values(&t)? * scale))),
        ("x(t), steady".to_string(), curve(&t, &response.positions(&t)?)),
    ];
    plot(
        &out.join("oscillator.svg"),
        "Driven damped oscillator: m = 1, eta = 2, k = 2000",
        (0.0, 0.6),
        &oscillator_curves,
    )?;
    Ok(())
}
