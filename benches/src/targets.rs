//! The performance targets (issues #8 and #27), checked against this run's rows: which are met,
//! and for each target missed, the rows that miss it with their numbers.

use std::fmt::Write as _;

/// What one problem of the run measured, as far as the targets need it.
pub struct Measured {
    pub group: String,
    pub label: String,
    /// `auto`'s time over the fastest Python peer's (below 1 = we are faster).
    pub auto_over_peer: Option<f64>,
    /// `auto`'s time over ndarray-conv's best call.
    pub auto_over_ndarray_conv: Option<f64>,
    /// `auto`'s time over OpenCV's `filter2D` (2-D `same` rows).
    pub auto_over_opencv: Option<f64>,
    /// The winning backend's effective GFLOP/s as a percentage of the measured FMA peak.
    pub winner_percent_of_peak: Option<f64>,
    /// A CNN layer's im2col GEMM timed alone, as a percentage of the peak.
    pub gemm_percent_of_peak: Option<f64>,
    /// `auto`'s time over the best backend's (paired calls).
    pub auto_regret: Option<f64>,
}

impl Measured {
    /// A row measured only against a peer (the filtering sections).
    pub fn peer_ratio(group: &str, label: &str, ours_over_peer: Option<f64>) -> Self {
        Self {
            group: group.to_string(),
            label: label.to_string(),
            auto_over_peer: ours_over_peer,
            auto_over_ndarray_conv: None,
            auto_over_opencv: None,
            winner_percent_of_peak: None,
            gemm_percent_of_peak: None,
            auto_regret: None,
        }
    }
}

/// One target: the rows it applies to, the quantity it bounds and the bound.
struct Target {
    name: &'static str,
    /// The group of rows it reads (empty: every group).
    group: &'static str,
    /// Only rows whose label contains one of these (empty: every row of the group).
    labels: &'static [&'static str],
    quantity: fn(&Measured) -> Option<f64>,
    /// Whether the quantity meets the target.
    meets: fn(f64) -> bool,
    /// The share of the rows that must meet it (1.0: every row).
    required_share: f64,
    /// Why rows have missed it in the runs so far (shown only when some row misses).
    known_reason: &'static str,
}

const TARGETS: [Target; 17] = [
    Target {
        name: "1-D f64: auto >= 1.25x faster than the fastest of numpy / scipy (ratio <= 0.80)",
        group: "1-D full convolution (f64)",
        labels: &[],
        quantity: |m| m.auto_over_peer,
        meets: |r| r <= 0.80,
        required_share: 1.0,
        known_reason: "3-tap kernels on long signals are bound by memory traffic (8 bytes read and 8 \
                       written per 3 multiply-adds, the output zeroed by the allocator); numpy streams \
                       the same bytes (README: Where we lose, and why)",
    },
    Target {
        name: "1-D f64: faster than ndarray-conv (ratio < 1)",
        group: "1-D full convolution (f64)",
        labels: &[],
        quantity: |m| m.auto_over_ndarray_conv,
        meets: |r| r < 1.0,
        required_share: 1.0,
        known_reason: "no row has missed it in the recorded runs",
    },
    Target {
        name: "2-D f64: auto >= 3x faster than scipy's fastest call (ratio <= 0.33)",
        group: "2-D single channel (f64)",
        labels: &[],
        quantity: |m| m.auto_over_peer,
        meets: |r| r <= 1.0 / 3.0,
        required_share: 1.0,
        known_reason: "512^2 * 31^2 is a 2-3 ms call whose transforms are shared over the cores; \
                       thread hand-offs and the machine's load move it by +-30% between runs",
    },
    Target {
        name: "2-D f64: faster than ndarray-conv (ratio < 1)",
        group: "2-D single channel (f64)",
        labels: &[],
        quantity: |m| m.auto_over_ndarray_conv,
        meets: |r| r < 1.0,
        required_share: 1.0,
        known_reason: "no row has missed it since the 2-D FFT rework",
    },
    Target {
        name: "CNN layers (f32, channels last): forward at most 1.0x the fastest of PyTorch and TensorFlow",
        group: "CNN layers, valid 3x3 (f32, NHWC)",
        labels: &[],
        quantity: |m| m.auto_over_peer,
        meets: |r| r <= 1.0,
        required_share: 1.0,
        known_reason: "rows within 10% of the fastest framework change between meeting and missing \
                       from run to run (15x15x32: 0.99-1.05, 56x56x64: 1.01-1.09 recorded); the \
                       3-channel layer missed in run P (1.51) before the small-channel solve, \
                       0.68-0.72 after it (BENCHMARKS.md)",
    },
    Target {
        name: "CNN layers (f32, channels first): forward at most 1.0x the fastest of PyTorch and TensorFlow",
        group: "CNN layers, valid 3x3 (f32, NCHW)",
        labels: &[],
        quantity: |m| m.auto_over_peer,
        meets: |r| r <= 1.0,
        required_share: 1.0,
        known_reason: "the layers with many channels run Winograd's channels-last tiles, with a \
                       transpose of the input and of the output per call (NCHW in and out); the \
                       few-channel layers have their own channels-first solve since the sixteenth \
                       session (0.47-0.60 in its first run)",
    },
    Target {
        name: "CNN layers (f32): the im2col GEMM (timed alone at the layer's shape, over the cores) at \
               >= 60% of the FMA peak on the large layers",
        group: "CNN layers, valid 3x3 (f32, NHWC)",
        labels: &["x15x15 ", "x56x56 "],
        quantity: |m| m.gemm_percent_of_peak,
        meets: |p| p >= 60.0,
        required_share: 1.0,
        known_reason: "the `gemm` crate's AVX-512 kernels on these thin products (64 filters) under \
                       the machine's load; the peak is measured at the start of the run",
    },
    Target {
        name: "(stricter reading) the whole layer, patch rows and output included, at >= 60% of the peak",
        group: "CNN layers, valid 3x3 (f32, NHWC)",
        labels: &["x15x15 ", "x56x56 "],
        quantity: |m| m.winner_percent_of_peak,
        meets: |p| p >= 60.0,
        required_share: 1.0,
        known_reason: "building the patch rows and writing the output (48 MB for the 56x56 layer) \
                       run at memory speed beside the GEMM",
    },
    Target {
        name: "2-D same f64: at most 0.8x OpenCV's filter2D",
        group: "2-D single channel (f64)",
        labels: &["Same"],
        quantity: |m| m.auto_over_opencv,
        meets: |r| r <= 0.8,
        required_share: 1.0,
        known_reason: "3^2 and 7^2 kernels on 2048^2 are memory-bound: filter2D streams the image once \
                       with SIMD over both cores, as the band solver now does",
    },
    Target {
        name: "2-D same f32: at most 0.8x OpenCV's filter2D",
        group: "2-D single channel (f32)",
        labels: &["Same"],
        quantity: |m| m.auto_over_opencv,
        meets: |r| r <= 0.8,
        required_share: 1.0,
        known_reason: "3^2 kernels: memory-bound rows (4 bytes read and written per 9 multiply-adds); \
                       the output is zeroed before the sums write it (a reused heap block is \
                       cleared by memset), where filter2D writes numpy's uninitialised array",
    },
    Target {
        name: "Filtering f64: >= 2x faster than scipy.signal's fastest call (ratio <= 0.5)",
        group: "Filtering (f64)",
        labels: &[],
        quantity: |m| m.auto_over_peer,
        meets: |r| r <= 0.5,
        required_share: 1.0,
        known_reason: "sosfilt is a recursion: one core gives 1.6x scipy's loop, the 2x comes \
                       from splitting long signals over both cores, which a busy second core \
                       (another process's spinning threads) takes away",
    },
    Target {
        name: "Streaming FIR: at least as fast as fft-convolver at the same block (ratio <= 1.0)",
        group: "Streaming FIR (f64)",
        labels: &[],
        quantity: |m| m.auto_over_peer,
        meets: |r| r <= 1.0,
        required_share: 1.0,
        known_reason: "no row has missed it in the recorded runs",
    },
    Target {
        name: "auto within 1.15x of the best backend on >= 95% of the rows",
        group: "",
        labels: &[],
        quantity: |m| m.auto_regret,
        meets: |r| r <= 1.15,
        required_share: 0.95,
        known_reason: "rows where auto chose the winner and still timed slower in the paired calls \
                       (a loaded machine), or a cost model that ranks two close backends the other way",
    },
    Target {
        name: "auto never over 2x the best backend",
        group: "",
        labels: &[],
        quantity: |m| m.auto_regret,
        meets: |r| r <= 2.0,
        required_share: 1.0,
        known_reason: "no row has missed it in the recorded runs",
    },
    Target {
        name: "CIFAR-model training at least 1.5x PyTorch eager (time ratio <= 0.67)",
        group: TRAINING,
        labels: &["training vs PyTorch"],
        quantity: |m| m.auto_over_peer,
        meets: |r| r <= 1.0 / 1.5,
        required_share: 1.0,
        known_reason: "no run has missed it since PyTorch joined (#27)",
    },
    Target {
        name: "CIFAR-model training at least 2x Keras (time ratio <= 0.5)",
        group: TRAINING,
        labels: &["training vs Keras"],
        quantity: |m| m.auto_over_peer,
        meets: |r| r <= 0.5,
        required_share: 1.0,
        known_reason: "TensorFlow 2.21's compiled training step runs this model at 3,900-6,550 \
                       images/s from run to run (ours 6,300-6,700: 1.0-1.6x); the 2x was set \
                       against TensorFlow 2.20",
    },
    Target {
        name: "CIFAR-model inference at least 1.5x PyTorch and Keras (time ratio <= 0.67)",
        group: TRAINING,
        labels: &["inference vs"],
        quantity: |m| m.auto_over_peer,
        meets: |r| r <= 1.0 / 1.5,
        required_share: 1.0,
        known_reason: "no run has missed it since PyTorch joined (#27)",
    },
];

/// The group of the training rows (read from `train_vs_keras --json`, see `training.rs`).
pub const TRAINING: &str = "Training the CIFAR model (f32, batch 32)";

/// The Markdown section: per target, how many rows meet it and the rows that miss it.
pub fn section(rows: &[Measured]) -> String {
    let mut out = String::from(
        "\n## Targets (issues #8 and #27)\n\n| target | rows meeting it | misses (problem: value; every row for the large layers) | why |\n|---|---|---|---|\n",
    );
    for target in &TARGETS {
        let values: Vec<(&str, f64)> = rows
            .iter()
            .filter(|m| target.group.is_empty() || m.group == target.group)
            .filter(|m| target.labels.is_empty() || target.labels.iter().any(|l| m.label.contains(l)))
            .filter_map(|m| (target.quantity)(m).map(|v| (m.label.as_str(), v)))
            .collect();
        if values.is_empty() {
            let _ = writeln!(out, "| {} | not measured in this run | | |", target.name);
            continue;
        }
        let misses: Vec<String> =
            values.iter().filter(|(_, v)| !(target.meets)(*v)).map(|(l, v)| format!("{l}: {v:.2}")).collect();
        let met = values.len() - misses.len();
        let enough = met as f64 >= target.required_share * values.len() as f64;
        // A target on a few named rows shows every value, met or not.
        let shown = if target.labels.is_empty() {
            misses.join("; ")
        } else {
            values.iter().map(|(l, v)| format!("{l}: {v:.2}")).collect::<Vec<_>>().join("; ")
        };
        let verdict = if enough { "**met**" } else { "not met" };
        let why = if enough { "" } else { target.known_reason };
        let _ =
            writeln!(out, "| {} | {met} of {} ({verdict}) | {shown} | {why} |", target.name, values.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(group: &str, label: &str, peer: f64) -> Measured {
        Measured {
            group: group.into(),
            label: label.into(),
            auto_over_peer: Some(peer),
            auto_over_ndarray_conv: Some(0.5),
            auto_over_opencv: None,
            winner_percent_of_peak: Some(70.0),
            gemm_percent_of_peak: Some(80.0),
            auto_regret: Some(1.0),
        }
    }

    #[test]
    fn a_target_lists_exactly_the_rows_that_miss_it() {
        let rows = [
            row("1-D full convolution (f64)", "1000 x 3", 0.5),
            row("1-D full convolution (f64)", "1000000 x 3", 1.3),
            row("1-D full convolution (f32)", "1000 x 3", 9.0), // another dtype: not a target row
        ];
        let text = section(&rows);
        let line = text.lines().find(|l| l.contains("1-D f64: auto")).unwrap_or_default();
        assert!(line.contains("1 of 2 (not met)"), "{line}");
        assert!(line.contains("1000000 x 3: 1.30") && !line.contains("1000 x 3: 0.50"), "{line}");
        let ndarray_conv = text.lines().find(|l| l.contains("1-D f64: faster than nd")).unwrap_or_default();
        assert!(ndarray_conv.contains("2 of 2 (**met**)"), "{ndarray_conv}");
        let cnn = text.lines().find(|l| l.contains("GEMM")).unwrap_or_default();
        assert!(cnn.contains("not measured in this run"), "{cnn}");
    }

    #[test]
    fn the_gemm_target_reads_only_the_large_layers() {
        let mut small = row("CNN layers, valid 3x3 (f32, NHWC)", "64x1x8x8 -> 10", 0.2);
        small.gemm_percent_of_peak = Some(5.0);
        let mut large = row("CNN layers, valid 3x3 (f32, NHWC)", "64x64x56x56 -> 64", 0.9);
        large.gemm_percent_of_peak = Some(55.0);
        let text = section(&[small, large]);
        let line = text.lines().find(|l| l.contains("GEMM")).unwrap_or_default();
        assert!(line.contains("0 of 1 (not met)") && line.contains("64x64x56x56 -> 64: 55.00"), "{line}");
        let whole = text.lines().find(|l| l.contains("stricter")).unwrap_or_default();
        assert!(whole.contains("1 of 1 (**met**)") && whole.contains("64x64x56x56 -> 64: 70.00"), "{whole}");
    }
}
