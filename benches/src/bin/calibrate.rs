//! `cargo run --release -p bench-suite --bin calibrate [-- --out PATH]`: times every registered
//! backend on a grid of problems on this machine, fits the cost model's coefficients and writes
//! a profile for `conv_core::Auto`. Point `CONVKIT_PROFILE` at the file to use it.
//!
//! `--only winograd --merge-into crates/conv-core/data/default-profile.txt` re-fits one backend
//! and keeps every other line of an existing profile (a backend whose algorithm changed is
//! re-fitted without moving the others' choices).

use std::time::Duration;

use clap::Parser;
use conv_core::calibration::{calibrate, time_backend};
use conv_core::cost::Profile;
use conv_core::{ConvNum, ConvSpec, Geometry, Mode, registry};

/// Calibrate the automatic backend's cost model on this machine.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Where to write the profile.
    #[arg(long, default_value = "target/convkit-profile.txt")]
    out: std::path::PathBuf,
    /// Time budget per backend and problem, in milliseconds.
    #[arg(long, default_value_t = 40)]
    budget_ms: u64,
    /// Only these backends (comma-separated names); default: every registered one.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Start from this profile and replace only the lines of the backends fitted now.
    #[arg(long)]
    merge_into: Option<std::path::PathBuf>,
}

/// The calibration problems: 1-D and 2-D single-channel convolutions and CNN layers.
fn grid() -> Vec<Geometry> {
    let mut problems = Vec::new();
    let mut add = |spec: &ConvSpec, input: &[usize], kernel: &[usize]| {
        if let Ok(resolved) = spec.resolve(input, kernel) {
            problems.push(resolved.geometry);
        }
    };
    for n in [500, 4_000, 30_000, 200_000] {
        for k in [3, 15, 63, 255, 1023] {
            if k <= n {
                add(&ConvSpec::convolution().mode(Mode::Full), &[1, 1, n], &[1, 1, k]);
            }
        }
    }
    for n in [64, 128, 256, 512] {
        for k in [3, 7, 15, 31] {
            add(&ConvSpec::convolution().mode(Mode::Same), &[1, 1, n, n], &[1, 1, k, k]);
        }
    }
    // Volumes: the 3-D transform and the depth-lowered im2col have their own costs per feature.
    for n in [24, 48, 96] {
        for k in [3, 7, 15] {
            if k < n {
                add(&ConvSpec::convolution().mode(Mode::Same), &[1, 1, n, n, n], &[1, 1, k, k, k]);
            }
        }
    }
    add(&ConvSpec::correlation(), &[4, 16, 12, 12, 12], &[16, 16, 3, 3, 3]);
    add(&ConvSpec::correlation(), &[8, 32, 16, 16, 16], &[32, 32, 3, 3, 3]);
    add(&ConvSpec::correlation(), &[2, 8, 24, 24, 24], &[16, 8, 3, 3, 3]);
    for (batch, size, channels, filters) in
        [(8, 8, 1, 10), (64, 8, 1, 10), (8, 32, 3, 32), (32, 15, 32, 64), (32, 6, 64, 64), (8, 28, 16, 32)]
    {
        add(&ConvSpec::correlation(), &[batch, channels, size, size], &[filters, channels, 3, 3]);
    }
    problems
}

fn calibrate_type<T: ConvNum>(problems: &[Geometry], budget: Duration, only: &[String]) -> Profile {
    let chosen = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let backends: Vec<_> = registry::backends::<T>()
        .into_iter()
        .filter(|b| b.name() != "toeplitz" && chosen(b.name()))
        .collect();
    let total = backends.len() * problems.len();
    let mut done = 0;
    let profile = calibrate::<T>(&backends, problems, budget, |name, _| {
        done += 1;
        eprint!("\r{} {done}/{total} {name:<14}", std::any::type_name::<T>());
    });
    eprintln!();
    // How well the fitted model reproduces the measurements: median relative error per backend.
    for backend in &backends {
        let Some(c) = profile.get(backend.name(), std::any::type_name::<T>()) else {
            continue;
        };
        let mut errors: Vec<f64> = problems
            .iter()
            .filter_map(|g| {
                let measured = time_backend(backend.as_ref(), g, Duration::from_millis(5)).ok()?;
                Some((c.predict(&backend.cost_features(g).ok()?) / measured - 1.0).abs())
            })
            .collect();
        errors.sort_by(f64::total_cmp);
        if let Some(median) = errors.get(errors.len() / 2) {
            println!(
                "{:>4} {:<14} median relative error of the fit {:.0}%",
                std::any::type_name::<T>(),
                backend.name(),
                median * 100.0
            );
        }
    }
    profile
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    if let Err(e) = custom_backend::register() {
        eprintln!("could not register the example pointwise backend: {e}");
    }
    let problems = grid();
    let budget = Duration::from_millis(args.budget_ms);
    let mut profile = calibrate_type::<f32>(&problems, budget, &args.only);
    profile.extend(calibrate_type::<f64>(&problems, budget, &args.only));
    // Toeplitz is calibrated on the problems small enough for its matrix only.
    let small: Vec<Geometry> = problems.iter().filter(|g| g.multiply_adds() < 5_000_000).copied().collect();
    let toeplitz_too = args.only.is_empty() || args.only.iter().any(|o| o == "toeplitz");
    if toeplitz_too && let Ok(toeplitz) = registry::backend::<f32>("toeplitz") {
        profile.extend(calibrate::<f32>(&[toeplitz], &small, budget, |_, _| {}));
    }
    if toeplitz_too && let Ok(toeplitz) = registry::backend::<f64>("toeplitz") {
        profile.extend(calibrate::<f64>(&[toeplitz], &small, budget, |_, _| {}));
    }
    if let Some(base) = &args.merge_into {
        let text = std::fs::read_to_string(base)?;
        let mut merged = Profile::parse(&text).map_err(|e| std::io::Error::other(e.to_string()))?;
        merged.extend(profile);
        profile = merged;
    }
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, profile.to_text())?;
    println!(
        "wrote {} ({} entries); use it with CONVKIT_PROFILE={}",
        args.out.display(),
        profile.len(),
        args.out.display()
    );
    Ok(())
}
