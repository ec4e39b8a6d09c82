//! PNG figures shared by the cnn examples (plotters' bitmap backend, with an embedded font so
//! that no system font is needed).

#![allow(dead_code)] // each example uses some of the figures

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::FontStyle;

const FONT: &[u8] = include_bytes!("DejaVuSans.ttf");

/// Registers the embedded font as "sans-serif" (once per process).
pub fn register_font() -> Result<(), Box<dyn Error>> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    if ok { Ok(()) } else { Err("the embedded font could not be registered".into()) }
}

/// A perceptually ordered blue-to-yellow colour for `value` in `[0, 1]`.
fn colour(value: f64) -> RGBColor {
    let stops = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if value.is_finite() { value.clamp(0.0, 1.0) * (stops.len() - 1) as f64 } else { 0.0 };
    let i = (t.floor() as usize).min(stops.len() - 2);
    let f = t - i as f64;
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    RGBColor(
        mix(stops[i].0, stops[i + 1].0),
        mix(stops[i].1, stops[i + 1].1),
        mix(stops[i].2, stops[i + 1].2),
    )
}

/// A heat map of `values[row][column]` (rows: `row_labels`, bottom to top; columns:
/// `column_labels`), each cell annotated with its value.
pub fn heatmap(
    path: &Path,
    title: &str,
    values: &[Vec<f64>],
    column_name: &str,
    column_labels: &[String],
    row_name: &str,
    row_labels: &[String],
) -> Result<(), Box<dyn Error>> {
    register_font()?;
    let root = BitMapBackend::new(path, (760, 680)).into_drawing_area();
    root.fill(&WHITE)?;
    let (columns, rows) = (column_labels.len(), row_labels.len());
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..columns as f64, 0.0..rows as f64)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(column_name)
        .y_desc(row_name)
        .x_labels(columns * 2 + 1)
        .y_labels(rows * 2 + 1)
        .x_label_formatter(&|v| label_at(*v, column_labels))
        .y_label_formatter(&|v| label_at(*v, row_labels))
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 14))
        .draw()?;
    for (r, row) in values.iter().enumerate() {
        for (c, &value) in row.iter().enumerate() {
            let (x, y) = (c as f64, r as f64);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, y), (x + 1.0, y + 1.0)],
                colour(value).filled(),
            )))?;
            let text = if value.is_finite() { format!("{value:.3}") } else { "nan".to_string() };
            let ink = if value.is_finite() && value > 0.6 { BLACK } else { WHITE };
            let style =
                ("sans-serif", 15).into_font().color(&ink).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ));
            chart.draw_series(std::iter::once(Text::new(text, (x + 0.5, y + 0.5), style)))?;
        }
    }
    root.present()?;
    Ok(())
}

/// The label of the cell whose centre is at `v`, blank elsewhere.
fn label_at(v: f64, labels: &[String]) -> String {
    let centre = v - 0.5;
    if (centre - centre.round()).abs() < 1e-6 && centre >= 0.0 {
        labels.get(centre.round() as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// Grey-scale images (`[h, w]` each, values scaled by `max`) side by side with their titles.
pub fn image_row(path: &Path, images: &[(Vec<Vec<f64>>, String)], max: f64) -> Result<(), Box<dyn Error>> {
    register_font()?;
    let cell = 160;
    let root = BitMapBackend::new(path, (cell * images.len() as u32, cell + 40)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, images.len()));
    for (panel, (image, title)) in panels.iter().zip(images) {
        let (height, width) = (image.len(), image.first().map_or(0, Vec::len));
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 20))
            .margin(8)
            .build_cartesian_2d(0..width as i32, 0..height as i32)?;
        for (y, row) in image.iter().enumerate() {
            for (x, &value) in row.iter().enumerate() {
                let shade = (255.0 * (1.0 - (value / max).clamp(0.0, 1.0))).round() as u8;
                let top = (height - y) as i32;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x as i32, top - 1), (x as i32 + 1, top)],
                    RGBColor(shade, shade, shade).filled(),
                )))?;
            }
        }
    }
    root.present()?;
    Ok(())
}

/// Lines of `series` (name, values per epoch) against the epoch number.
pub fn curves(
    path: &Path,
    title: &str,
    y_name: &str,
    series: &[(&str, &[f64])],
) -> Result<(), Box<dyn Error>> {
    register_font()?;
    let root = BitMapBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let epochs = series.iter().map(|(_, v)| v.len()).max().unwrap_or(1).max(2);
    let finite = series.iter().flat_map(|(_, v)| v.iter().copied()).filter(|v| v.is_finite());
    let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    let (low, high) = if low < high { (low, high) } else { (0.0, 1.0) };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(1.0..epochs as f64, (low - 0.02)..(high + 0.02))?;
    chart.configure_mesh().x_desc("epoch").y_desc(y_name).label_style(("sans-serif", 14)).draw()?;
    let palette = [BLUE, RED, GREEN, MAGENTA];
    for (i, (name, values)) in series.iter().enumerate() {
        let colour = palette[i % palette.len()];
        chart
            .draw_series(LineSeries::new(
                values.iter().enumerate().map(|(e, &v)| (e as f64 + 1.0, v)),
                colour.stroke_width(2),
            ))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()?;
    Ok(())
}
