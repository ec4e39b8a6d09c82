//! The book's filter figures, from this crate's own numbers (SVG, via plotters):
//!
//! - `filter_windows.svg`: the windows of `get_window`, 51 samples;
//! - `filter_gibbs.svg`: a 51-tap lowpass at 0.3 Nyquist, the truncated ideal filter (boxcar)
//!   against the Hamming and Blackman designs: the window trades the Gibbs ripple for width;
//! - `filter_butter.svg`: Butterworth lowpass responses of order 2, 4 and 8;
//! - `filter_zero_phase.svg`: a noisy pulse filtered forward (delayed) and forward-backward.
//!
//! Run with `cargo run -p filter --example filter_figures [OUTPUT_DIR]` (default `target/figures`).

use std::error::Error;
use std::path::Path;

use filter::{Band, Symmetry, Window, butter, firwin, freqz, sosfilt, sosfiltfilt, sosfreqz};
use plotters::prelude::*;

type Curve = (String, Vec<(f64, f64)>);

/// Tick labels and legend text, in SVG pixels (the book shows figures at about 0.85 of their
/// width on a desktop, so these stay above 12 px on screen).
const LABEL_FONT: u32 = 17;

/// Draws `curves` on one set of axes with the legend in a column to the right of the plot.
fn plot(
    path: &Path,
    title: &str,
    x: (&str, f64, f64),
    y: (f64, f64),
    curves: &[Curve],
) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (860, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot_area, legend_area) = root.split_horizontally(650);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(x.1..x.2, y.0..y.1)?;
    chart
        .configure_mesh()
        .x_desc(x.0)
        .label_style(("sans-serif", LABEL_FONT))
        .axis_desc_style(("sans-serif", LABEL_FONT))
        .draw()?;
    for (index, (label, points)) in curves.iter().enumerate() {
        let clipped = points.iter().map(|&(px, py)| (px, py.clamp(y.0, y.1)));
        chart.draw_series(LineSeries::new(clipped, Palette99::pick(index).stroke_width(2)))?;
        let row = 60 + 30 * index as i32;
        legend_area
            .draw(&PathElement::new(vec![(8, row), (36, row)], Palette99::pick(index).stroke_width(3)))?;
        legend_area.draw(&Text::new(label.as_str(), (44, row - 9), ("sans-serif", LABEL_FONT)))?;
    }
    root.present()?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Gain in dB against frequency as a fraction of Nyquist.
fn gain_curve(label: &str, response: &filter::FrequencyResponse) -> Curve {
    let points = response
        .frequencies
        .iter()
        .zip(response.gain_db())
        .map(|(w, db)| (w / std::f64::consts::PI, db.max(-200.0)))
        .collect();
    (label.to_string(), points)
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "target/figures".to_string());
    let out = Path::new(&out);
    std::fs::create_dir_all(out)?;

    let windows = [
        Window::Boxcar,
        Window::Hann,
        Window::Hamming,
        Window::Blackman,
        Window::Kaiser { beta: 8.6 },
        Window::Tukey { alpha: 0.5 },
    ];
    let mut curves = Vec::new();
    for window in windows {
        let w = window.samples(51, Symmetry::Symmetric)?;
        curves.push((window.to_string(), w.iter().enumerate().map(|(n, v)| (n as f64, *v)).collect()));
    }
    plot(
        &out.join("filter_windows.svg"),
        "Windows, 51 samples (symmetric)",
        ("n", 0.0, 50.0),
        (-0.05, 1.1),
        &curves,
    )?;

    // ANCHOR: gibbs
    // The ideal lowpass truncated to 51 taps (a boxcar window) rings: the Gibbs phenomenon.
    let band = Band::Lowpass(0.3);
    let truncated = firwin(51, &band, &Window::Boxcar)?;
    let hamming = firwin(51, &band, &Window::Hamming)?;
    let blackman = firwin(51, &band, &Window::Blackman)?;
    let responses =
        [("boxcar (truncated ideal)", &truncated), ("hamming", &hamming), ("blackman", &blackman)]
            .map(|(name, taps)| freqz(taps, &[1.0], 2048, false).map(|r| gain_curve(name, &r)));
    // ANCHOR_END: gibbs
    let curves = responses.into_iter().collect::<Result<Vec<_>, _>>()?;
    plot(
        &out.join("filter_gibbs.svg"),
        "51-tap lowpass at 0.3: gain (dB)",
        ("frequency / Nyquist", 0.0, 1.0),
        (-120.0, 10.0),
        &curves,
    )?;

    // ANCHOR: butter
    let mut curves = Vec::new();
    for order in [2, 4, 8] {
        let sos = butter(order, &Band::Lowpass(0.2))?.to_sos()?;
        curves.push(gain_curve(&format!("butter order {order}"), &sosfreqz(&sos, 2048, false)?));
    }
    // ANCHOR_END: butter
    plot(
        &out.join("filter_butter.svg"),
        "Butterworth lowpass at 0.2: gain (dB)",
        ("frequency / Nyquist", 0.0, 1.0),
        (-120.0, 10.0),
        &curves,
    )?;

    // ANCHOR: zero_phase
    // A smooth pulse plus deterministic "noise" at 0.6 Nyquist, filtered two ways.
    let n = 400;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64;
            (-((t - 200.0) / 30.0).powi(2)).exp() + 0.3 * (0.6 * std::f64::consts::PI * t).sin()
        })
        .collect();
    let sos = butter(4, &Band::Lowpass(0.1))?.to_sos()?;
    let forward = sosfilt(&sos, &x)?; // delayed by the filter's group delay
    let zero_phase = sosfiltfilt(&sos, &x)?; // no delay, squared magnitude
    // ANCHOR_END: zero_phase
    let series = |label: &str, v: &[f64]| {
        (label.to_string(), v.iter().enumerate().map(|(i, y)| (i as f64, *y)).collect())
    };
    plot(
        &out.join("filter_zero_phase.svg"),
        "Pulse plus tone: sosfilt against sosfiltfilt",
        ("sample", 0.0, n as f64),
        (-0.5, 1.4),
        &[series("signal", &x), series("sosfilt", &forward), series("sosfiltfilt", &zero_phase)],
    )?;
    Ok(())
}
