//! The filtering section of the report: the filter crate beside scipy.signal (lfilter,
//! oaconvolve, filtfilt, sosfilt, sosfiltfilt) and, for streaming, beside fft-convolver (the
//! Rust crate for real-time partitioned convolution), timed in the same run.

use std::fmt::Write as _;
use std::time::Duration;

use conv_core::calibration::median_seconds;
use fft_convolver::FFTConvolver;
use filter::{
    Band, FilterError, StreamingFir, Window, butter, filtfilt, firwin, lfilter, sosfilt, sosfiltfilt,
};
use serde_json::{Value, json};

use crate::peers::Peers;
use crate::targets::Measured;

fn seconds(s: f64) -> String {
    if s >= 1e-3 { format!("{:.2} ms", s * 1e3) } else { format!("{:.1} us", s * 1e6) }
}

/// A deterministic test signal in [-1, 1).
fn signal(n: usize) -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

type Call<'a> = Box<dyn Fn() -> Result<(), FilterError> + 'a>;

/// Times the rows, asks the peers for theirs, and returns the Markdown section and the rows
/// for the targets table.
pub fn section(
    peers: &mut Peers,
    budget: Duration,
    quick: bool,
) -> Result<(String, Vec<Measured>), FilterError> {
    let n = if quick { 100_000 } else { 1_000_000 };
    let x = signal(n);
    let sos = butter(8, &Band::Lowpass(0.1))?.to_sos()?;
    let taps: Vec<(usize, Vec<f64>)> = [31, 255, 4095]
        .into_iter()
        .map(|k| firwin(k, &Band::Lowpass(0.3), &Window::Hamming).map(|h| (k, h)))
        .collect::<Result<_, _>>()?;
    let h255 = firwin(255, &Band::Lowpass(0.3), &Window::Hamming)?;
    let mut rows: Vec<(Value, Call)> = Vec::new();
    let signal_ref = &x;
    for (k, h) in &taps {
        let problem = json!({"op": "fir", "taps": k, "label": format!("lfilter FIR {n} x {k}")});
        rows.push((problem, Box::new(move || lfilter(h, &[1.0], signal_ref).map(drop))));
    }
    rows.push((
        json!({"op": "filtfilt_fir", "taps": 255, "label": format!("filtfilt FIR {n} x 255")}),
        Box::new(|| filtfilt(&h255, &[1.0], &x).map(drop)),
    ));
    rows.push((
        json!({"op": "sosfilt", "order": 8, "label": format!("sosfilt butter(8) {n}")}),
        Box::new(|| sosfilt(&sos, &x).map(drop)),
    ));
    rows.push((
        json!({"op": "sosfiltfilt", "order": 8, "label": format!("sosfiltfilt butter(8) {n}")}),
        Box::new(|| sosfiltfilt(&sos, &x).map(drop)),
    ));

    let group = "Filtering (f64)";
    let mut text = format!(
        "\n## {group}\n\nThe filter crate's call against scipy.signal's on the same sizes (FIR taps from \
         `firwin(k, 0.3)`, IIR `butter(8, 0.1)` as second-order sections), in this run. Target: at most \
         0.5 (2x faster than scipy's fastest call).\n\n| problem | ours | fastest scipy call | ours / scipy |\n|---|---|---|---|\n"
    );
    print!("{text}");
    let mut measured = Vec::new();
    for (mut problem, call) in rows {
        let label = problem["label"].as_str().unwrap_or_default().to_string();
        let ours = median_seconds(budget, 30, &call)?;
        problem["n"] = json!(n);
        problem["kind"] = json!("filter");
        let peer_times = peers.times(group, &label, &problem);
        let fastest = peer_times.iter().min_by(|a, b| a.1.total_cmp(b.1));
        let (peer_cell, ratio) = match fastest {
            Some((name, s)) => (format!("{name} {}", seconds(*s)), Some(ours / s)),
            None => ("-".to_string(), None),
        };
        let ratio_cell = ratio.map_or("-".to_string(), |r| format!("{r:.2}"));
        let row = format!("| {label} | {} | {peer_cell} | {ratio_cell} |", seconds(ours));
        println!("{row}");
        let _ = writeln!(text, "{row}");
        measured.push(Measured::peer_ratio(group, &label, ratio));
    }

    let stream_group = "Streaming FIR (f64)";
    let _ = write!(
        text,
        "\n## {stream_group}\n\n`StreamingFir` (uniformly partitioned overlap-save) against fft-convolver's \
         `FFTConvolver` (the same algorithm) at the same block size, {n} samples fed in chunks of one \
         block; latency = one block. Target: at most 1.0.\n\n| taps, block (latency) | ours | fft-convolver | ours / fft-convolver | ours, samples/s |\n|---|---|---|---|---|\n"
    );
    if let Some(header) = text.rfind(&format!("\n## {stream_group}")) {
        print!("{}", &text[header..]);
    }
    for (k, block) in [(255, 64), (4095, 64), (4095, 256), (4095, 1024), (65_535, 1024)] {
        let h = signal(k);
        let mut ours = StreamingFir::new(&h, block)?;
        let mut out = Vec::with_capacity(n + block);
        let ours_s = median_seconds(budget, 20, || {
            out.clear();
            for chunk in x.chunks(block) {
                ours.process(chunk, &mut out);
            }
            Ok::<(), FilterError>(())
        })?;
        let mut peer = FFTConvolver::<f64>::default();
        let peer_s = match peer.init(block, &h) {
            Ok(()) => {
                let mut output = vec![0.0; block];
                median_seconds(budget, 20, || {
                    for chunk in x.chunks(block) {
                        let output = &mut output[..chunk.len()];
                        peer.process(chunk, output).map_err(|e| e.to_string())?;
                    }
                    Ok::<(), String>(())
                })
                .ok()
            }
            Err(_) => None,
        };
        let label = format!("{k} taps, block {block}");
        let ratio = peer_s.map(|p| ours_s / p);
        let row = format!(
            "| {label} | {} | {} | {} | {:.0} M |",
            seconds(ours_s),
            peer_s.map_or("-".to_string(), seconds),
            ratio.map_or("-".to_string(), |r| format!("{r:.2}")),
            n as f64 / ours_s / 1e6
        );
        println!("{row}");
        let _ = writeln!(text, "{row}");
        measured.push(Measured::peer_ratio(stream_group, &label, ratio));
    }
    Ok((text, measured))
}
