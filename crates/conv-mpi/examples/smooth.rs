//! Smooths a 3-D field with a Gaussian kernel on N ranks: each rank makes its own block of the
//! field (no rank holds the whole), the blocks are convolved with halo exchange, each rank
//! writes its output block to a file and reads it back, and every rank prints its halo bytes,
//! messages and where its time went.
//!
//! ```text
//! mpirun -np 4 --oversubscribe target/conv-mpi/release/examples/smooth --n 128
//! ```
//!
//! `--check` gathers the result on rank 0 and compares it with the single-process call (small
//! fields only); `CONVKIT_NUM_THREADS=1` keeps each rank on one core (the setting for scaling
//! runs, one rank per core).

use std::error::Error;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use conv_core::{Auto, Boundary, ConvBackend, ConvSpec, Direct, Fft, Mode};
use conv_mpi::{DistributedArray, HaloReport, ProcessGrid, balanced_grid, convolve};
use mpi::traits::{Communicator, CommunicatorCollectives};
use ndarray::{ArrayD, Dimension, IxDyn};

#[derive(Parser, Debug)]
#[command(about = "Gaussian smoothing of a 3-D field over MPI ranks")]
struct Args {
    /// Side of the cubic field.
    #[arg(long, default_value_t = 128)]
    n: usize,
    /// The Gaussian's standard deviation, in samples (the kernel spans +-3 sigma).
    #[arg(long, default_value_t = 1.5)]
    sigma: f64,
    /// Timed calls (the median is printed).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// The backend on every rank: auto, direct or fft.
    #[arg(long, default_value = "auto")]
    backend: String,
    /// Gather on rank 0 and compare with the single-process call.
    #[arg(long)]
    check: bool,
    /// Write each rank's output block here and read it back.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("smooth: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The Gaussian kernel, normalised to sum 1, as a 3-D array of side `2 * radius + 1`.
fn gaussian(sigma: f64) -> Result<ArrayD<f64>, Box<dyn Error>> {
    if !(sigma.is_finite() && sigma > 0.0 && sigma <= 50.0) {
        return Err(format!("sigma must be in (0, 50], got {sigma}").into());
    }
    let radius = (3.0 * sigma).ceil() as usize;
    let side = 2 * radius + 1;
    let taps: Vec<f64> = (0..side)
        .map(|i| {
            let x = i as f64 - radius as f64;
            (-x * x / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let kernel = ArrayD::from_shape_fn(IxDyn(&[side, side, side]), |i| taps[i[0]] * taps[i[1]] * taps[i[2]]);
    let total = kernel.sum();
    Ok(kernel / total)
}

/// The field: a few smooth waves plus deterministic noise, from the global index alone.
fn field(index: &[usize]) -> f64 {
    let [z, y, x] = [index[0] as f64, index[1] as f64, index[2] as f64];
    let mut hash = (index[0] as u64).wrapping_mul(73_856_093)
        ^ (index[1] as u64).wrapping_mul(19_349_663)
        ^ (index[2] as u64).wrapping_mul(83_492_791);
    hash = hash.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let noise = (hash >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
    (0.1 * x).sin() + (0.07 * y).cos() * (0.05 * z).sin() + 0.3 * noise
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let universe = mpi::initialize().ok_or("MPI could not be initialised")?;
    let world = universe.world();
    let ranks = usize::try_from(world.size())?;
    let shape = [args.n; 3];
    // ANCHOR: grid
    let grid = ProcessGrid::new(&world, &balanced_grid(ranks, &shape)?)?;
    let backend: &dyn ConvBackend<f64> = match args.backend.as_str() {
        "auto" => Auto::shared(),
        "direct" => &Direct,
        "fft" => &Fft::default(),
        other => return Err(format!("unknown backend {other:?} (auto, direct, fft)").into()),
    };
    let kernel = gaussian(args.sigma)?;
    let made = Instant::now();
    let input = DistributedArray::from_fn(&grid, &shape, field)?;
    // ANCHOR_END: grid
    let make_seconds = made.elapsed().as_secs_f64();

    // Every call's time (barrier to barrier) with its result; the median call's report is printed.
    let mut calls: Vec<(f64, DistributedArray<f64>, HaloReport)> = Vec::new();
    for _ in 0..args.repeat.max(1) {
        grid.communicator().barrier();
        let started = Instant::now();
        // ANCHOR: call
        let (smoothed, report) = convolve(&grid, &input, &kernel, Mode::Same, Boundary::Reflect, backend)?;
        // ANCHOR_END: call
        grid.communicator().barrier();
        calls.push((started.elapsed().as_secs_f64(), smoothed, report));
    }
    let timed = calls.len();
    calls.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (median, output, report) = calls.swap_remove(timed / 2);

    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("block-{}.f64", grid.rank()));
        write_block(&path, &output)?;
        let back = read_block(&path, output.local().len())?;
        if back.iter().zip(output.local().iter()).any(|(a, b)| a.to_bits() != b.to_bits()) {
            return Err(format!("{} did not read back as written", path.display()).into());
        }
    }

    if grid.rank() == 0 {
        println!(
            "field {n}^3 f64 on {ranks} rank(s), grid {:?}, Gaussian sigma {} ({}^3 taps), reflect boundary, backend {}",
            grid.ranks_per_axis(),
            args.sigma,
            kernel.shape()[0],
            backend.name(),
            n = args.n
        );
        println!(
            "| rank | block | halo in (bytes, messages) | halo out | post | interior (outputs) | wait | edges | in the call | \
             call (median of {timed}, barrier to barrier) |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
    }
    for rank in 0..ranks {
        grid.communicator().barrier();
        if rank == grid.rank() {
            let block: Vec<String> =
                output.block().iter().map(|r| format!("{}..{}", r.start, r.end)).collect();
            println!(
                "| {rank} | {} | {} B, {} | {} B, {} | {:.2} ms | {:.2} ms ({:.0}%) | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
                block.join(" x "),
                report.bytes_received,
                report.messages_received,
                report.bytes_sent,
                report.messages_sent,
                report.post_seconds * 1e3,
                report.interior_seconds * 1e3,
                100.0 * report.interior_outputs as f64 / report.block_outputs.max(1) as f64,
                report.wait_seconds * 1e3,
                report.edge_seconds * 1e3,
                report.total_seconds * 1e3,
                median * 1e3
            );
            std::io::stdout().flush()?;
        }
    }
    grid.communicator().barrier();
    if grid.rank() == 0 {
        println!("making the blocks took {:.1} ms on rank 0", make_seconds * 1e3);
    }

    if args.check {
        let gathered = output.gather(&grid, 0)?;
        if let Some(got) = gathered {
            let whole = ArrayD::from_shape_fn(IxDyn(&shape), |i| field(i.slice()));
            let spec = ConvSpec::convolution().mode(Mode::Same).boundary(Boundary::Reflect);
            let expected = conv_core::filter_with(&whole, &kernel, &spec, backend)?;
            let scale = expected.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
            let worst = got.iter().zip(&expected).map(|(a, e)| (a - e).abs()).fold(0.0, f64::max);
            println!(
                "check: the gathered result differs from the single-process call by at most {:.1e} of its scale",
                worst / scale
            );
            if worst > 1e-10 * scale {
                return Err("the distributed result differs from the single-process call".into());
            }
        }
    }
    Ok(())
}

/// Writes a rank's block: a one-line text header (global shape and the block's ranges), then
/// the values as little-endian f64.
fn write_block(path: &Path, block: &DistributedArray<f64>) -> Result<(), Box<dyn Error>> {
    let ranges: Vec<String> = block.block().iter().map(|r| format!("{}..{}", r.start, r.end)).collect();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(file, "convkit-block shape={:?} ranges={}", block.layout().shape(), ranges.join(","))?;
    for value in block.local() {
        file.write_all(&value.to_le_bytes())?;
    }
    file.flush()?;
    Ok(())
}

/// Reads back a block written by [`write_block`], expecting `len` values: the file's size is
/// checked against the header and `len` before anything is allocated.
fn read_block(path: &Path, len: usize) -> Result<Vec<f64>, Box<dyn Error>> {
    let mut file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut header = Vec::new();
    for byte in (&mut file).bytes() {
        let byte = byte?;
        if byte == b'\n' {
            break;
        }
        if header.len() > 4096 {
            return Err("block header longer than 4 KiB".into());
        }
        header.push(byte);
    }
    let body = std::fs::metadata(path)?.len().saturating_sub(header.len() as u64 + 1);
    if body != (len as u64).saturating_mul(8) {
        return Err(format!("{} holds {body} bytes of values, expected {}", path.display(), len * 8).into());
    }
    let mut values = Vec::with_capacity(len);
    let mut bytes = [0u8; 8];
    for _ in 0..len {
        file.read_exact(&mut bytes)?;
        values.push(f64::from_le_bytes(bytes));
    }
    Ok(values)
}
