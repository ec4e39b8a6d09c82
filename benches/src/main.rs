//! `cargo run --release -p bench-suite`: the backend report.
//!
//! Times every registered backend (the built-ins and the example pointwise backend of
//! `examples/custom-backend`) and the automatic backend on a grid of 1-D, 2-D and CNN-layer
//! problems, optionally beside the peers (numpy, scipy, PyTorch, TensorFlow) in the same run.
//! Prints a table per workload — each backend's median time and ratio to the fastest, the
//! winner's GFLOP/s and share of the measured FMA peak, what `auto` chose, its regret and how far
//! its first call raised the process's peak resident memory, the
//! fastest peer and our ratio to it — and writes the same as Markdown and CSV, plus a crossover
//! map of the 1-D results, to `target/bench-report/`.
//!
//! Timings are medians of repeated runs on this machine in this run; compare ratios, not
//! absolute times, across machines.

mod crossover;
mod filtering;
mod gemm_alone;
mod grid;
mod memory;
mod ndarray_conv_peer;
mod peak;
mod peers;
mod targets;
mod training;

use std::fmt::Write as _;
use std::time::Duration;

use clap::Parser;
use conv_core::calibration::median_seconds;
use conv_core::{Auto, ConvBackend, ConvError, ConvNum, registry};
use indicatif::{ProgressBar, ProgressStyle};

use grid::{Dtype, Family, Run, Runner, Workload};
use peers::Peers;

/// Compare convolution backends (and, optionally, numpy/scipy/PyTorch/TensorFlow) on a grid of problems.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Smaller problems and shorter timing (about 10 seconds).
    #[arg(long)]
    quick: bool,
    /// Which workloads.
    #[arg(long, value_enum, value_delimiter = ',', default_values = ["1d", "2d", "cnn", "3d", "filter"])]
    workloads: Vec<Family>,
    /// Element types for the 1-D, 2-D and 3-D workloads (the CNN layers always run in f32).
    #[arg(long, value_enum, value_delimiter = ',', default_values = ["f64"])]
    dtypes: Vec<Dtype>,
    /// Only these backends (comma-separated names); default: all registered.
    #[arg(long, value_delimiter = ',')]
    backends: Vec<String>,
    /// Time budget per backend and problem, in milliseconds.
    #[arg(long, default_value_t = 200)]
    budget_ms: u64,
    /// Skip a backend on a problem when the cost model predicts more than this many seconds.
    #[arg(long, default_value_t = 1.5)]
    max_predicted_s: f64,
    /// Peer timings from a JSON file written by `benches/peers/peers.py --all`.
    #[arg(long, conflicts_with = "run_peers")]
    peers: Option<std::path::PathBuf>,
    /// Run `benches/peers/peers.py --serve` and time the peers problem by problem, interleaved.
    #[arg(long)]
    run_peers: bool,
    /// Hide the progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Training and inference rates from `train_vs_keras --json FILE` (cnn crate): adds the
    /// training targets to the Targets table.
    #[arg(long)]
    training: Option<std::path::PathBuf>,
    /// Where the report goes.
    #[arg(long, default_value = "target/bench-report")]
    out: std::path::PathBuf,
}

fn format_seconds(s: f64) -> String {
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
    Timed(f64),
    Skipped(String),
}

impl Outcome {
    fn seconds(&self) -> Option<f64> {
        match self {
            Outcome::Timed(s) => Some(*s),
            Outcome::Skipped(_) => None,
        }
    }
}

/// Times every backend and then `auto` (last) on one workload, skipping what the model says is too slow.
fn time_all<T: ConvNum>(
    backends: &[std::sync::Arc<dyn ConvBackend<T>>],
    auto: &Auto,
    workload: &Workload,
    run: &Run<T>,
    args: &Args,
    budget: Duration,
) -> (Vec<Outcome>, Option<String>) {
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
                .and_then(|c| Some(c.predict(&b.cost_features(&workload.geometry).ok()?)));
            match predicted {
                Some(p) if p > args.max_predicted_s => Outcome::Skipped(format!("skipped (model: {p:.0} s)")),
                _ => match median_seconds(budget, 50, || run(b.as_ref())) {
                    Ok(t) => Outcome::Timed(t),
                    Err(e) => Outcome::Skipped(format!("error: {e}")),
                },
            }
        })
        .collect();
    outcomes.push(match median_seconds(budget, 50, || run(auto)) {
        Ok(t) => Outcome::Timed(t),
        Err(e) => Outcome::Skipped(format!("error: {e}")),
    });
    (outcomes, auto.explain::<T>(&workload.geometry).chosen)
}

/// Auto's time over the winner's, timed in alternating calls (auto, winner, winner, auto, ...) for
/// `budget`: the median of the per-pair ratios. A slow spell of a shared machine then slows both
/// calls of a pair alike instead of landing on one of them.
fn paired_regret<T: ConvNum>(
    backends: &[std::sync::Arc<dyn ConvBackend<T>>],
    auto: &Auto,
    winner: &str,
    run: &Run<T>,
    budget: Duration,
) -> Option<f64> {
    let winner = backends.iter().find(|b| b.name() == winner)?;
    run(auto).ok()?;
    run(winner.as_ref()).ok()?;
    let start = std::time::Instant::now();
    let mut ratios = Vec::new();
    while ratios.len() < 7 || (start.elapsed() < budget && ratios.len() < 50) {
        // Which of the two goes first alternates too, so neither always follows the other.
        let auto_first = ratios.len() % 2 == 0;
        let mut seconds = [0.0; 2];
        for turn in 0..2 {
            let is_auto = (turn == 0) == auto_first;
            let t = std::time::Instant::now();
            run(if is_auto { auto as &dyn ConvBackend<T> } else { winner.as_ref() }).ok()?;
            seconds[usize::from(!is_auto)] = t.elapsed().as_secs_f64();
        }
        ratios.push(seconds[0] / seconds[1].max(1e-12));
    }
    ratios.sort_by(f64::total_cmp);
    Some(ratios[ratios.len() / 2])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if let Err(e) = custom_backend::register() {
        eprintln!("could not register the example pointwise backend: {e}");
    }
    let budget = Duration::from_millis(if args.quick { args.budget_ms.min(60) } else { args.budget_ms });
    let keep = |name: &str| args.backends.is_empty() || args.backends.iter().any(|b| b == name);
    let backends64: Vec<_> = registry::backends::<f64>().into_iter().filter(|b| keep(b.name())).collect();
    let backends32: Vec<_> = registry::backends::<f32>().into_iter().filter(|b| keep(b.name())).collect();
    let mut names: Vec<String> = backends64.iter().map(|b| b.name().to_string()).collect();
    names.push("auto".into());
    let auto = Auto::new();

    let peak = peak::measure_peak();
    let mut peers = match (&args.peers, args.run_peers) {
        (Some(path), _) => Peers::from_file(path)?,
        (None, true) => {
            let (peers, versions) = Peers::live(budget.as_secs_f64())?;
            println!("peers: {versions}");
            peers
        }
        (None, false) => Peers::None,
    };
    let with_peers = !matches!(peers, Peers::None);

    let mut report = String::from("# Backend comparison\n\n");
    let mut csv = String::from("group,problem,backend,seconds,gflops\n");
    let peak_line = match peak {
        Some(p) => format!(
            "Measured FMA peak of this machine (all cores): {:.0} GFLOP/s f32, {:.0} GFLOP/s f64.",
            p.f32_gflops, p.f64_gflops
        ),
        None => "No FMA peak measured (no AVX2+FMA on this CPU).".to_string(),
    };
    println!("{peak_line}");
    let _ = writeln!(
        report,
        "{peak_line}\n\nMedian time per call; in brackets the ratio to the fastest backend. Effective GFLOP/s counts \
         2 x the multiply-adds of the direct sum, for the winner (so a transform-based winner can exceed 100% of the peak: it does \
         fewer operations than it is credited with). `auto` is the automatic backend \
         (model mode, shipped profile); `regret` is its time over the best backend's, measured in alternating calls of the two (median of the pair ratios) so that the machine's slow spells cancel. `auto memory growth` is how far auto's first call on the problem raised the resident memory of the process at its peak (Linux's high-water mark, reset before the call, minus the resident size before it): output, padded copy and scratch that did not fit in memory the process already held; 0 means the call ran in memory already there (flat). Buffers a thread kept from an earlier problem are reused, not counted again. The peer \
         columns give the fastest Python peer in this run and auto's time over it (below 1 = we are faster), then \
         the faster of ndarray-conv's `conv` and `conv_fft` (Rust, same process) and auto's time over it."
    );

    let workloads = grid::grid(args.quick, &args.workloads, &args.dtypes);
    let progress =
        if args.no_progress { ProgressBar::hidden() } else { ProgressBar::new(workloads.len() as u64) };
    let say = |line: String| if progress.is_hidden() { println!("{line}") } else { progress.println(line) };
    progress.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut regrets = Vec::new();
    let mut measured_rows = Vec::new();
    let mut right_picks = 0;
    let mut crossover_cells: Vec<(String, crossover::Cell)> = Vec::new();
    let mut current_group = String::new();
    for workload in &workloads {
        progress.set_message(workload.label.clone());
        if workload.group != current_group {
            current_group = workload.group.clone();
            let peer_header = if with_peers {
                " fastest peer | auto / peer | ndarray-conv | auto / ndarray-conv |"
            } else {
                ""
            };
            let header = format!(
                "| problem | {} | winner | effective GFLOP/s (% peak) | auto chose | regret | auto memory growth |{peer_header}",
                names.join(" | ")
            );
            let rule = format!(
                "|---|{}---|---|---|---|---|{}",
                "---|".repeat(names.len()),
                if with_peers { "---|---|---|---|" } else { "" }
            );
            say(format!("\n{current_group}\n{header}"));
            let _ = write!(report, "\n## {current_group}\n\n{header}\n{rule}\n");
        }
        // Auto's first call on this problem: the most memory it holds at once.
        let peak_memory = match &workload.run {
            Runner::F32(run) => memory::peak_added_bytes(|| drop(run(&auto))),
            Runner::F64(run) => memory::peak_added_bytes(|| drop(run(&auto))),
        }
        .map_or_else(|| "-".to_string(), memory::format_bytes);
        let (outcomes, chose) = match &workload.run {
            Runner::F32(run) => time_all(&backends32, &auto, workload, run, &args, budget),
            Runner::F64(run) => time_all(&backends64, &auto, workload, run, &args, budget),
        };
        let peer_times = peers.times(&workload.group, &workload.label, &workload.peer_problem);
        let rust_times = match &workload.rust_peer {
            Some(rust_peer) if with_peers => rust_peer(budget),
            _ => Vec::new(),
        };
        progress.inc(1);

        let ours = &outcomes[..outcomes.len() - 1];
        let mut ranked: Vec<(f64, &String)> =
            ours.iter().zip(&names).filter_map(|(o, n)| o.seconds().map(|s| (s, n))).collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
        let best = ranked.first().map(|r| r.0);
        let winner = ranked.first().map_or("-".to_string(), |r| r.1.clone());
        let flops = 2.0 * workload.geometry.multiply_adds() as f64;
        for (outcome, name) in outcomes.iter().zip(&names) {
            if let Some(s) = outcome.seconds() {
                let _ = writeln!(
                    csv,
                    "\"{}\",\"{}\",{name},{s:e},{:.3}",
                    workload.group,
                    workload.label,
                    flops / s / 1e9
                );
            }
        }
        for (peer, s) in peer_times.iter().chain(rust_times.iter().map(|(p, s)| (p, s))) {
            let _ = writeln!(
                csv,
                "\"{}\",\"{}\",{peer},{s:e},{:.3}",
                workload.group,
                workload.label,
                flops / s / 1e9
            );
        }
        let cells: Vec<String> = outcomes
            .iter()
            .map(|o| match (o, best) {
                (Outcome::Timed(s), Some(b)) => format!("{} ({:.1}x)", format_seconds(*s), s / b),
                (Outcome::Timed(s), None) => format_seconds(*s),
                (Outcome::Skipped(why), _) => why.clone(),
            })
            .collect();
        let auto_time = outcomes.last().and_then(Outcome::seconds);
        // Auto against the winner in alternating calls: both see the same machine state.
        let paired = match &workload.run {
            Runner::F32(run) => paired_regret(&backends32, &auto, &winner, run, budget),
            Runner::F64(run) => paired_regret(&backends64, &auto, &winner, run, budget),
        };
        let regret = match (paired, auto_time, best) {
            (Some(r), _, _) => r,
            (None, Some(a), Some(b)) => a / b,
            _ => f64::NAN,
        };
        regrets.push(regret);
        let chose = chose.unwrap_or_else(|| "-".into());
        right_picks += usize::from(chose == winner);
        let gflops = best.map_or(0.0, |b| flops / b / 1e9);
        let peak_gflops =
            peak.map(|p| if matches!(workload.run, Runner::F32(_)) { p.f32_gflops } else { p.f64_gflops });
        let percent = peak_gflops.map_or(String::from("-"), |p| format!("{:.1}%", 100.0 * gflops / p));
        let mut row = format!(
            "| {} | {} | {winner} | {gflops:.1} ({percent}) | {chose} | {regret:.2} | {peak_memory} |",
            workload.label,
            cells.join(" | ")
        );
        let fastest_peer = peer_times.iter().min_by(|a, b| a.1.total_cmp(b.1));
        // The targets against scipy/numpy leave OpenCV out; it has targets of its own.
        let fastest_python =
            peer_times.iter().filter(|(p, _)| !p.starts_with("cv2.")).min_by(|a, b| a.1.total_cmp(b.1));
        let opencv = peer_times.get("cv2.filter2D");
        let fastest_rust = rust_times.iter().min_by(|a, b| a.1.total_cmp(&b.1));
        if with_peers {
            match (fastest_peer, auto_time) {
                (Some((peer, s)), Some(a)) => {
                    let _ = write!(row, " {peer} {} | {:.2} |", format_seconds(*s), a / s);
                }
                _ => row.push_str(" - | - |"),
            }
            match (fastest_rust, auto_time) {
                (Some((call, s)), Some(a)) => {
                    let _ = write!(row, " {call} {} | {:.2} |", format_seconds(*s), a / s);
                }
                _ => row.push_str(" - | - |"),
            }
        }
        measured_rows.push(targets::Measured {
            group: workload.group.clone(),
            label: workload.label.clone(),
            auto_over_peer: fastest_python.zip(auto_time).map(|((_, s), a)| a / s),
            auto_over_opencv: opencv.zip(auto_time).map(|(s, a)| a / s),
            auto_over_ndarray_conv: fastest_rust.zip(auto_time).map(|((_, s), a)| a / s),
            winner_percent_of_peak: peak_gflops.filter(|_| best.is_some()).map(|p| 100.0 * gflops / p),
            gemm_percent_of_peak: if with_peers && workload.group.contains("NHWC") {
                gemm_alone::layer_gemm_gflops(&workload.geometry, budget)
                    .zip(peak.map(|p| p.f32_gflops))
                    .map(|(gemm, peak)| 100.0 * gemm / peak)
            } else {
                None
            },
            auto_regret: Some(regret).filter(|r| r.is_finite()),
        });
        say(row.clone());
        let _ = writeln!(report, "{row}");
        if let (Some((signal, kernel)), [first, second, ..]) = (workload.lengths, ranked.as_slice()) {
            let cell =
                crossover::Cell { signal, kernel, winner: first.1.clone(), margin: second.0 / first.0 };
            crossover_cells.push((workload.group.clone(), cell));
        }
    }
    progress.finish_and_clear();
    if args.workloads.contains(&Family::Filter) {
        let (section, rows) = filtering::section(&mut peers, budget, args.quick)?;
        report.push_str(&section);
        measured_rows.extend(rows);
    }

    if let Some(path) = &args.training {
        measured_rows.extend(training::rows(path)?);
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
    if with_peers {
        let targets = targets::section(&measured_rows);
        println!("{targets}");
        report.push_str(&targets);
    }

    std::fs::create_dir_all(&args.out)?;
    let mut groups: Vec<String> = crossover_cells.iter().map(|(g, _)| g.clone()).collect();
    groups.dedup();
    for (index, group) in groups.iter().enumerate() {
        let cells: Vec<crossover::Cell> = crossover_cells
            .iter()
            .filter(|(g, _)| g == group)
            .map(|(_, c)| crossover::Cell { winner: c.winner.clone(), ..*c })
            .collect();
        let file = format!("crossover-{index}.svg");
        crossover::draw(&args.out.join(&file), &format!("Fastest backend: {group}"), &cells)?;
        let _ = writeln!(report, "\n![Crossover map: {group}]({file})");
    }
    std::fs::write(args.out.join("report.md"), report)?;
    std::fs::write(args.out.join("report.csv"), csv)?;
    println!("wrote {0}/report.md, {0}/report.csv and the crossover maps", args.out.display());
    Ok(())
}
