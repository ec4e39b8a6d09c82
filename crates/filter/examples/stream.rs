//! Filters a long signal (10^9 samples by default) that arrives from an iterator, in constant
//! memory: a 4,095-tap lowpass by uniformly partitioned overlap-save, blocks of 1,024 samples.
//! Prints the throughput and the process's peak resident memory, which does not grow with
//! `--samples`; the first 100,000 outputs are checked against the one-shot `lfilter`.
//!
//! ```text
//! cargo run --release -p filter --example stream                        # 10^9 samples
//! cargo run --release -p filter --example stream -- --samples 10000000
//! ```

use std::error::Error;
use std::time::Instant;

use clap::Parser;
use filter::{Band, StreamingFir, Window, firwin, lfilter};

#[derive(Parser, Debug)]
#[command(about = "Stream a long signal through a FIR filter in constant memory")]
struct Args {
    /// Samples to filter.
    #[arg(long, default_value_t = 1_000_000_000)]
    samples: u64,
    /// Taps of the lowpass (firwin, Hamming, cutoff 0.1 Nyquist).
    #[arg(long, default_value_t = 4095)]
    taps: usize,
    /// Block size: the latency in samples.
    #[arg(long, default_value_t = 1024)]
    block: usize,
}

/// An endless test signal: a slow sine plus uniform noise (xorshift, seeded).
fn source() -> impl Iterator<Item = f64> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0_u64..).map(move |n| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state >> 11) as f64 / (1_u64 << 53) as f64 - 0.5;
        (n as f64 * 0.001).sin() + noise
    })
}

/// The process's peak resident memory in KiB (Linux), if readable.
fn peak_resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let taps = firwin(args.taps, &Band::Lowpass(0.1), &Window::Hamming)?;

    // The first 100,000 outputs against the one-shot call.
    let head: Vec<f64> = source().take(100_000).collect();
    let reference = lfilter(&taps, &[1.0], &head)?;
    let mut check = StreamingFir::new(&taps, args.block)?;
    let mut streamed = Vec::new();
    for chunk in head.chunks(7_777) {
        check.process(chunk, &mut streamed);
    }
    check.finish(&mut streamed);
    let error = streamed.iter().zip(&reference).fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
    println!("first 100,000 outputs: max |streamed - lfilter| = {error:.1e}");

    // ANCHOR: stream
    let mut filter = StreamingFir::new(&taps, args.block)?;
    let mut input = Vec::with_capacity(65_536);
    let mut output = Vec::with_capacity(65_536 + args.block);
    let (mut energy, mut count) = (0.0_f64, 0_u64);
    let mut samples = source().take(usize::try_from(args.samples)?);
    let started = Instant::now();
    loop {
        input.clear();
        input.extend(samples.by_ref().take(65_536));
        if input.is_empty() {
            break;
        }
        output.clear();
        filter.process(&input, &mut output);
        energy += output.iter().map(|y| y * y).sum::<f64>();
        count += output.len() as u64;
    }
    output.clear();
    filter.finish(&mut output);
    count += output.len() as u64;
    // ANCHOR_END: stream
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{count} samples through {} taps in blocks of {} (latency {} samples): {seconds:.2} s, {:.0} M samples/s, mean square {:.4}",
        args.taps,
        args.block,
        args.block,
        count as f64 / seconds / 1e6,
        energy / count.max(1) as f64
    );
    if let Some(kib) = peak_resident_kib() {
        println!("peak resident memory of the process: {:.1} MiB", kib as f64 / 1024.0);
    }
    if error > 1e-9 {
        return Err(format!("streamed output differs from lfilter by {error:e}").into());
    }
    Ok(())
}
