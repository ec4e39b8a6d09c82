//! `cargo run --release -p bench-suite`: times every registered backend (the built-ins and the
//! example Winograd backend of `examples/custom-backend`) and the automatic backend on a grid of
//! 1-D, 2-D and CNN-layer problems, and prints per problem each backend's median time, its
//! ratio to the fastest, and the automatic backend's regret (its time over the best time).
//! A Markdown copy goes to `target/bench-report/report.md`.
//!
//! Timings are medians of repeated runs on this machine in this run; compare ratios, not
//! absolute times, across machines.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use clap::Parser;
use conv_core::cost::features;
use conv_core::{
    Auto, ConvBackend, ConvError, ConvNum, ConvSpec, Geometry, Mode, conv2d_with, convolve_with, registry,
};
use ndarray::{Array1, Array2, Array4};

/// Compare convolution backends on a grid of problems.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Smaller problems and shorter timing (about 15 seconds).
    #[arg(long)]
    quick: bool,
    /// Time budget per backend and problem, in milliseconds.
    #[arg(long, default_value_t = 200)]
    budget_ms: u64,
    /// Skip a backend on a problem when the cost model predicts more than this many seconds.
    #[arg(long, default_value_t = 1.5)]
    max_predicted_s: f64,
    /// Only these backends (comma-separated names); default: all registered.
    #[arg(long, value_delimiter = ',')]
    backends: Vec<String>,
    /// Where the Markdown report goes.
    #[arg(long, default_value = "target/bench-report")]
    out: std::path::PathBuf,
}

/// Runs a problem once on a backend of element type `T`.
type Run<T> = Box<dyn Fn(&dyn ConvBackend<T>) -> Result<(), ConvError>>;

/// A problem in its element type.
enum Runner {
    F64(Run<f64>),
    F32(Run<f32>),
}

/// One problem of the grid.
struct Workload {
    group: &'static str,
    label: String,
    geometry: Geometry,
    run: Runner,
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

fn geometry(spec: &ConvSpec, input: &[usize], kernel: &[usize]) -> Geometry {
    spec.resolve(input, kernel).expect("grid problems are valid").geometry
}

fn grid(quick: bool) -> Vec<Workload> {
    let mut grid = Vec::new();
    let (signals, taps): (&[usize], &[usize]) = if quick {
        (&[1_000, 10_000], &[3, 31, 255])
    } else {
        (&[1_000, 10_000, 100_000, 1_000_000], &[3, 31, 255, 4095])
    };
    for &n in signals {
        for &k in taps.iter().filter(|&&k| k < n) {
            let x = Array1::from(values(n, 1));
            let h = Array1::from(values(k, 2));
            grid.push(Workload {
                group: "1-D full convolution (f64)",
                label: format!("{n} x {k}"),
                geometry: geometry(&ConvSpec::convolution().mode(Mode::Full), &[1, 1, n], &[1, 1, k]),
                run: Runner::F64(Box::new(move |b| convolve_with(&x, &h, Mode::Full, b).map(drop))),
            });
        }
    }
    let images: &[usize] = if quick { &[128] } else { &[512, 2048] };
    for &n in images {
        for &k in &[3usize, 7, 31] {
            for mode in [Mode::Valid, Mode::Same] {
                let x = Array2::from_shape_vec((n, n), values(n * n, 3)).expect("square");
                let h = Array2::from_shape_vec((k, k), values(k * k, 4)).expect("square");
                grid.push(Workload {
                    group: "2-D single channel (f64)",
                    label: format!("{n}x{n} * {k}x{k} {mode:?}"),
                    geometry: geometry(&ConvSpec::convolution().mode(mode), &[1, 1, n, n], &[1, 1, k, k]),
                    run: Runner::F64(Box::new(move |b| convolve_with(&x, &h, mode, b).map(drop))),
                });
            }
        }
    }
    let batch = if quick { 8 } else { 64 };
    for (h, c, o) in [(32usize, 3usize, 32usize), (15, 32, 64), (6, 64, 64), (8, 1, 10), (56, 64, 64)] {
        if quick && h == 56 {
            continue;
        }
        let x = Array4::from_shape_vec((batch, c, h, h), values(batch * c * h * h, 5))
            .expect("shape")
            .mapv(|v| v as f32);
        let w = Array4::from_shape_vec((o, c, 3, 3), values(o * c * 9, 6)).expect("shape").mapv(|v| v as f32);
        grid.push(Workload {
            group: "CNN layers, valid 3x3 (f32, NCHW)",
            label: format!("{batch}x{c}x{h}x{h} -> {o}"),
            geometry: geometry(&ConvSpec::correlation(), &[batch, c, h, h], &[o, c, 3, 3]),
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

/// What happened to one backend on one problem.
enum Outcome {
    Timed(Duration),
    Skipped(String),
}

/// Times every backend (and `auto`, last) on one workload, skipping what the model says is too slow.
fn time_all<T: ConvNum>(
    backends: &[std::sync::Arc<dyn ConvBackend<T>>],
    auto: &Auto,
    workload: &Workload,
    run: &Run<T>,
    args: &Args,
    budget: Duration,
) -> Vec<Outcome> {
    let dtype = std::any::type_name::<T>();
    let mut outcomes: Vec<Outcome> = backends
        .iter()
        .map(|b| {
            if let Err(e) = b.supports(&workload.geometry) {
                return Outcome::Skipped(match e {
                    ConvError::TooLarge { .. } => "refused (over cap)".into(),
                    _ => "unsupported".into(),
                });
            }
            let predicted = auto
                .profile()
                .get(b.name(), dtype)
                .map(|c| c.predict(&features(b.name(), &workload.geometry)));
            match predicted {
                Some(p) if p > args.max_predicted_s => Outcome::Skipped(format!("skipped (model: {p:.0} s)")),
                _ => match time(budget, &|| run(b.as_ref())) {
                    Ok(t) => Outcome::Timed(t),
                    Err(e) => Outcome::Skipped(format!("error: {e}")),
                },
            }
        })
        .collect();
    outcomes.push(match time(budget, &|| run(auto)) {
        Ok(t) => Outcome::Timed(t),
        Err(e) => Outcome::Skipped(format!("error: {e}")),
    });
    outcomes
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    if let Err(e) = custom_backend::register() {
        eprintln!("could not register the example Winograd backend: {e}");
    }
    let budget = Duration::from_millis(if args.quick { args.budget_ms.min(60) } else { args.budget_ms });
    let keep = |name: &str| args.backends.is_empty() || args.backends.iter().any(|b| b == name);
    let backends64: Vec<_> = registry::backends::<f64>().into_iter().filter(|b| keep(b.name())).collect();
    let backends32: Vec<_> = registry::backends::<f32>().into_iter().filter(|b| keep(b.name())).collect();
    let mut names: Vec<String> = backends64.iter().map(|b| b.name().to_string()).collect();
    names.push("auto".into());
    let auto = Auto::new();

    let mut report = String::from(
        "# Backend comparison\n\nMedian time per call; in brackets the ratio to the fastest backend. \
         `auto` is the automatic backend (model mode, shipped profile); `regret` is its time over the best.\n",
    );
    let mut regrets = Vec::new();
    let mut right_picks = 0;
    let mut current_group = "";
    let workloads = grid(args.quick);
    for (index, workload) in workloads.iter().enumerate() {
        if workload.group != current_group {
            current_group = workload.group;
            let header = format!("| problem | {} | winner | auto chose | regret |", names.join(" | "));
            let rule = format!("|---|{}---|---|---|", "---|".repeat(names.len()));
            println!("\n{current_group}\n{header}");
            let _ = write!(report, "\n## {current_group}\n\n{header}\n{rule}\n");
        }
        eprint!("\r[{}/{}] {:<40}", index + 1, workloads.len(), workload.label);
        let (outcomes, chose) = match &workload.run {
            Runner::F32(run) => (
                time_all(&backends32, &auto, workload, run, &args, budget),
                auto.explain::<f32>(&workload.geometry).chosen,
            ),
            Runner::F64(run) => (
                time_all(&backends64, &auto, workload, run, &args, budget),
                auto.explain::<f64>(&workload.geometry).chosen,
            ),
        };
        eprint!("\r{:60}\r", "");
        let timed = |o: &Outcome| match o {
            Outcome::Timed(t) => Some(*t),
            Outcome::Skipped(_) => None,
        };
        let best = outcomes[..outcomes.len() - 1].iter().filter_map(timed).min();
        let winner = outcomes[..outcomes.len() - 1]
            .iter()
            .zip(&names)
            .filter_map(|(o, n)| timed(o).map(|t| (t, n.clone())))
            .min_by_key(|(t, _)| *t)
            .map_or("-".to_string(), |(_, n)| n);
        let cells: Vec<String> = outcomes
            .iter()
            .map(|o| match (o, best) {
                (Outcome::Timed(t), Some(best)) => {
                    format!("{} ({:.1}x)", format_time(*t), t.as_secs_f64() / best.as_secs_f64())
                }
                (Outcome::Timed(t), None) => format_time(*t),
                (Outcome::Skipped(why), _) => why.clone(),
            })
            .collect();
        let regret = match (outcomes.last().and_then(timed), best) {
            (Some(a), Some(b)) => a.as_secs_f64() / b.as_secs_f64(),
            _ => f64::NAN,
        };
        regrets.push(regret);
        let chose = chose.unwrap_or_else(|| "-".into());
        right_picks += usize::from(chose == winner);
        let row =
            format!("| {} | {} | {winner} | {chose} | {regret:.2} |", workload.label, cells.join(" | "));
        println!("{row}");
        let _ = writeln!(report, "{row}");
    }

    let measured: Vec<f64> = regrets.iter().copied().filter(|r| r.is_finite()).collect();
    let within = measured.iter().filter(|&&r| r <= 1.15).count();
    let worst = measured.iter().copied().fold(0.0, f64::max);
    let summary = format!(
        "\nauto: within 1.15x of the best backend on {within} of {} problems ({:.0}%), worst {worst:.2}x; \
         the shipped profile picked the measured winner on {right_picks} of {}.",
        measured.len(),
        100.0 * within as f64 / measured.len().max(1) as f64,
        regrets.len()
    );
    println!("{summary}");
    let _ = writeln!(report, "{summary}");
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join("report.md");
    std::fs::write(&path, report)?;
    println!("wrote {}", path.display());
    Ok(())
}
