//! `cargo run --release -p bench-suite`: times every registered backend (the built-ins and the
//! example Winograd backend of `examples/custom-backend`) on a compact grid of
//! 1-D, 2-D and CNN-layer problems and prints, per problem, each backend's time and its ratio
//! to the fastest. A Markdown copy goes to `target/bench-report/report.md`.
//!
//! Timings are medians of repeated runs on this machine in this run; compare ratios, not
//! absolute times, across machines.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use clap::Parser;
use conv_core::{ConvBackend, ConvError, ConvSpec, Mode, conv2d_with, convolve_with, registry};
use ndarray::{Array1, Array2, Array4};

/// Compare convolution backends on a compact grid of problems.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Smaller problems and fewer repetitions (about 20 seconds).
    #[arg(long)]
    quick: bool,
    /// Time budget per backend and problem, in milliseconds.
    #[arg(long, default_value_t = 300)]
    budget_ms: u64,
    /// Only these backends (comma-separated names); default: all.
    #[arg(long, value_delimiter = ',')]
    backends: Vec<String>,
    /// Where the Markdown report goes.
    #[arg(long, default_value = "target/bench-report")]
    out: std::path::PathBuf,
}

/// One problem of the grid.
struct Workload {
    group: &'static str,
    label: String,
    run: Runner,
}

/// Runs a problem once on a backend of element type `T`.
type Run<T> = Box<dyn Fn(&dyn ConvBackend<T>) -> Result<(), ConvError>>;

/// A problem in its element type.
enum Runner {
    F64(Run<f64>),
    F32(Run<f32>),
}

/// Deterministic pseudo-random values in [-1, 1) (a fixed linear congruential sequence).
fn values(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn grid(quick: bool) -> Vec<Workload> {
    let mut grid = Vec::new();
    let signals: &[usize] = if quick { &[1_000, 10_000] } else { &[1_000, 10_000, 100_000] };
    for &n in signals {
        for &k in &[3usize, 31, 255] {
            let x = Array1::from(values(n, 1));
            let h = Array1::from(values(k, 2));
            grid.push(Workload {
                group: "1-D full convolution (f64)",
                label: format!("{n} x {k}"),
                run: Runner::F64(Box::new(move |b| convolve_with(&x, &h, Mode::Full, b).map(drop))),
            });
        }
    }
    let images: &[usize] = if quick { &[128] } else { &[256, 512] };
    for &n in images {
        for &k in &[3usize, 7, 31] {
            let x = Array2::from_shape_vec((n, n), values(n * n, 3)).expect("square");
            let h = Array2::from_shape_vec((k, k), values(k * k, 4)).expect("square");
            grid.push(Workload {
                group: "2-D single channel, same mode (f64)",
                label: format!("{n}x{n} * {k}x{k}"),
                run: Runner::F64(Box::new(move |b| convolve_with(&x, &h, Mode::Same, b).map(drop))),
            });
        }
    }
    let batch = if quick { 8 } else { 64 };
    for (h, c, o) in [(8usize, 1usize, 10usize), (32, 3, 32), (15, 32, 64), (6, 64, 64)] {
        let x = Array4::from_shape_vec((batch, c, h, h), values(batch * c * h * h, 5))
            .expect("shape")
            .mapv(|v| v as f32);
        let w = Array4::from_shape_vec((o, c, 3, 3), values(o * c * 9, 6)).expect("shape").mapv(|v| v as f32);
        grid.push(Workload {
            group: "CNN layers, valid 3x3 (f32, NCHW)",
            label: format!("{batch}x{c}x{h}x{h} -> {o}"),
            run: Runner::F32(Box::new(move |b| conv2d_with(&x, &w, &ConvSpec::correlation(), b).map(drop))),
        });
    }
    grid
}

/// Median wall time of `run`, repeated within `budget` (at least 3 runs after one warm-up).
fn time(budget: Duration, run: &dyn Fn() -> Result<(), ConvError>) -> Result<Duration, ConvError> {
    run()?;
    let start = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < 3 || (start.elapsed() < budget && samples.len() < 50) {
        let t = Instant::now();
        run()?;
        samples.push(t.elapsed());
    }
    samples.sort();
    Ok(samples[samples.len() / 2])
}

fn format_time(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} us", s * 1e6)
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    // Backends come from the registry: built-ins plus whatever is registered here.
    if let Err(e) = custom_backend::register() {
        eprintln!("could not register the example Winograd backend: {e}");
    }
    let budget = Duration::from_millis(if args.quick { args.budget_ms.min(100) } else { args.budget_ms });
    let keep = |name: &str| args.backends.is_empty() || args.backends.iter().any(|b| b == name);
    let backends64: Vec<_> = registry::backends::<f64>().into_iter().filter(|b| keep(b.name())).collect();
    let backends32: Vec<_> = registry::backends::<f32>().into_iter().filter(|b| keep(b.name())).collect();
    let names: Vec<String> = backends64.iter().map(|b| b.name().to_string()).collect();

    let mut report = String::from(
        "# Backend comparison\n\nMedian time per call; ratio to the fastest backend in brackets.\n",
    );
    let mut current_group = "";
    for workload in grid(args.quick) {
        if workload.group != current_group {
            current_group = workload.group;
            let header = format!("| problem | {} | winner |", names.join(" | "));
            let rule = format!("|---|{}---|", "---|".repeat(names.len()));
            println!("\n{current_group}\n{header}");
            let _ = write!(report, "\n## {current_group}\n\n{header}\n{rule}\n");
        }
        let times: Vec<Result<Duration, ConvError>> = match &workload.run {
            Runner::F32(run) => backends32.iter().map(|b| time(budget, &|| run(b.as_ref()))).collect(),
            Runner::F64(run) => backends64.iter().map(|b| time(budget, &|| run(b.as_ref()))).collect(),
        };
        let best = times.iter().filter_map(|t| t.as_ref().ok()).min().copied();
        let cells: Vec<String> = times
            .iter()
            .map(|t| match (t, best) {
                (Ok(t), Some(best)) => {
                    format!("{} ({:.1}x)", format_time(*t), t.as_secs_f64() / best.as_secs_f64())
                }
                (Ok(t), None) => format_time(*t),
                (Err(ConvError::TooLarge { .. }), _) => "refused (over cap)".to_string(),
                (Err(ConvError::Unsupported { .. }), _) => "unsupported".to_string(),
                (Err(e), _) => format!("error: {e}"),
            })
            .collect();
        let winner = times
            .iter()
            .zip(&names)
            .filter_map(|(t, n)| t.as_ref().ok().map(|t| (t, n)))
            .min_by_key(|(t, _)| **t)
            .map_or("-", |(_, n)| n.as_str());
        let row = format!("| {} | {} | {winner} |", workload.label, cells.join(" | "));
        println!("{row}");
        let _ = writeln!(report, "{row}");
    }
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join("report.md");
    std::fs::write(&path, report)?;
    println!("\nwrote {}", path.display());
    Ok(())
}
