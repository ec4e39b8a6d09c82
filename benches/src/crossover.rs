//! The crossover map: which backend wins as signal and kernel grow (SVG via plotters).

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

/// One measured cell: signal length, kernel length, winning backend.
pub struct Cell {
    /// Signal length.
    pub signal: usize,
    /// Kernel length.
    pub kernel: usize,
    /// Name of the fastest backend.
    pub winner: String,
    /// Its time over the second fastest's (how clear the win is).
    pub margin: f64,
}

fn colour(name: &str) -> RGBColor {
    match name {
        "direct" => RGBColor(66, 133, 244),
        "fft" => RGBColor(219, 68, 55),
        "overlap-save" => RGBColor(244, 180, 0),
        "im2col" => RGBColor(15, 157, 88),
        "toeplitz" => RGBColor(171, 71, 188),
        _ => RGBColor(120, 120, 120),
    }
}

/// Draws the map into `path`: signal lengths across, kernel lengths down, each cell coloured by
/// its winner and labelled with its name and the margin over the runner-up.
pub fn draw(path: &Path, title: &str, cells: &[Cell]) -> Result<(), Box<dyn Error>> {
    let mut signals: Vec<usize> = cells.iter().map(|c| c.signal).collect();
    let mut kernels: Vec<usize> = cells.iter().map(|c| c.kernel).collect();
    signals.sort_unstable();
    signals.dedup();
    kernels.sort_unstable();
    kernels.dedup();
    let (width, height) = (160 + 170 * signals.len() as u32, 110 + 80 * kernels.len() as u32);
    let root = SVGBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let text = |size| ("sans-serif", size).into_font();
    root.draw(&Text::new(title.to_string(), (20, 15), text(20)))?;
    root.draw(&Text::new("kernel length \u{2193}   signal length \u{2192}", (20, 45), text(14)))?;
    for (i, n) in signals.iter().enumerate() {
        root.draw(&Text::new(format!("{n}"), (150 + 170 * i as i32, 75), text(15)))?;
    }
    for (j, k) in kernels.iter().enumerate() {
        let y = 100 + 80 * j as i32;
        root.draw(&Text::new(format!("{k}"), (30, y + 30), text(15)))?;
        for (i, n) in signals.iter().enumerate() {
            let x = 140 + 170 * i as i32;
            let Some(cell) = cells.iter().find(|c| c.signal == *n && c.kernel == *k) else { continue };
            root.draw(&Rectangle::new([(x, y), (x + 160, y + 70)], colour(&cell.winner).mix(0.75).filled()))?;
            root.draw(&Text::new(cell.winner.clone(), (x + 10, y + 18), text(17)))?;
            root.draw(&Text::new(format!("{:.1}x ahead", cell.margin), (x + 10, y + 44), text(13)))?;
        }
    }
    root.present()?;
    Ok(())
}
