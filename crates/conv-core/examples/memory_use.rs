//! How much memory one call uses at most: each case runs in a child process of its own, which
//! reports its peak resident memory (`VmHWM` of `/proc/self/status`, so Linux only) next to the
//! size of its input. The README's "Memory a call may use" table comes from this program.
//!
//! Run with `cargo run --release -p conv-core --example memory_use` (about 10 GB of memory at
//! peak over the run, one case at a time; a minute or two).

use std::process::Command;

use conv_core::num_complex::Complex64;
use conv_core::{
    Auto, Boundary, ConvBackend, ConvError, ConvSpec, Direct, Fft, Im2col, Mode, OverlapSave, conv2d_with,
    convolve_complex, filter_with,
};
use ndarray::{Array1, Array4};

/// Samples of the signal cases: 2^25 `f64`, 256 MiB.
const SIGNAL: usize = 1 << 25;

/// Peak resident memory of this process so far, in MiB (`None` off Linux).
fn peak_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? / 1024)
}

fn backend(name: &str) -> Box<dyn ConvBackend<f64>> {
    match name {
        "direct" => Box::new(Direct),
        "fft" => Box::new(Fft::default()),
        "overlap-save" => Box::new(OverlapSave::default()),
        "im2col" => Box::new(Im2col::default()),
        _ => Box::new(Auto::new()),
    }
}

/// Runs one case in this process; returns (input MiB, outcome).
fn run_case(case: &str, backend_name: &str) -> Result<(u64, String), ConvError> {
    let backend = backend(backend_name);
    match case {
        "signal" => {
            // A 256 MiB signal, a 301-tap kernel, full mode with reflected padding.
            let x = Array1::from_elem(SIGNAL, 1.0);
            let k = Array1::from_elem(301, 0.5);
            let spec = ConvSpec::convolution().mode(Mode::Full).boundary(Boundary::Reflect);
            let y = filter_with(&x, &k, &spec, backend.as_ref())?;
            Ok((256, format!("{} outputs", y.len())))
        }
        "image" => {
            // A 256 MiB batch of images, 8 -> 8 channels, 3x3, same padding.
            let x = Array4::from_elem((4, 8, 1024, 1024), 1.0);
            let k = Array4::from_elem((8, 8, 3, 3), 0.5);
            let spec = ConvSpec::correlation().mode(Mode::Same).boundary(Boundary::Symmetric);
            let y = conv2d_with(&x, &k, &spec, backend.as_ref())?;
            Ok((256, format!("{} outputs", y.len())))
        }
        "complex" => {
            // A 256 MiB complex signal (2^24 values); the complex calls use the shared planner.
            let x = Array1::from_elem(SIGNAL / 2, Complex64::new(1.0, 1.0));
            let k = Array1::from_elem(301, Complex64::new(0.5, 0.0));
            let y = convolve_complex(&x, &k, Mode::Full)?;
            Ok((256, format!("{} outputs", y.len())))
        }
        other => Ok((0, format!("unknown case {other}"))),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, case, backend_name] = args.as_slice() {
        let outcome = match run_case(case, backend_name) {
            Ok((input, what)) => format!("{input} | {what}"),
            Err(err) => format!("- | refused: {err}"),
        };
        let peak = peak_mib().map_or("n/a (Linux only)".to_string(), |m| m.to_string());
        println!("| {case} | {backend_name} | {outcome} | {peak} |");
        return;
    }
    println!("| case | backend | input MiB | outcome | peak resident MiB |");
    println!("|---|---|---|---|---|");
    let me = std::env::current_exe().expect("the path of this program");
    for case in ["signal", "image"] {
        for backend_name in ["auto", "direct", "fft", "overlap-save", "im2col"] {
            let out = Command::new(&me).args([case, backend_name]).output().expect("a child process");
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
    }
    let out = Command::new(&me).args(["complex", "auto"]).output().expect("a child process");
    print!("{}", String::from_utf8_lossy(&out.stdout));
}
