//! The problems the report times, shared with the peers script (same groups and labels).

use conv_core::{
    AxisGeometry, ConvBackend, ConvError, ConvNum, ConvProblem, ConvSpec, Geometry, Mode, conv2d_with,
    conv3d_with, convolve_with,
};
use ndarray::{Array1, Array2, Array3, Array4, Array5};
use serde_json::{Value, json};

use crate::ndarray_conv_peer::{self, RustPeer};

/// Runs a problem once on a backend of element type `T`.
pub type Run<T> = Box<dyn Fn(&dyn ConvBackend<T>) -> Result<(), ConvError>>;

/// A problem in its element type.
pub enum Runner {
    /// Double precision.
    F64(Run<f64>),
    /// Single precision.
    F32(Run<f32>),
}

/// Which family of problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Family {
    /// 1-D full convolution of one signal.
    #[value(name = "1d")]
    OneD,
    /// 2-D convolution of one image, valid and same.
    #[value(name = "2d")]
    TwoD,
    /// Batched multi-channel CNN layers.
    #[value(name = "cnn")]
    Cnn,
    /// 3-D: one volume, valid and same; and a conv3d layer.
    #[value(name = "3d")]
    ThreeD,
    /// Filtering (the filter crate against scipy.signal and fft-convolver): its own section.
    #[value(name = "filter")]
    Filter,
}

/// Element type of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Dtype {
    /// Single precision.
    F32,
    /// Double precision.
    F64,
}

/// One problem of the grid.
pub struct Workload {
    /// Table the row goes in.
    pub group: String,
    /// The problem's name in that table.
    pub label: String,
    /// The canonical problem (for the cost model and the FLOP count).
    pub geometry: Geometry,
    /// The call.
    pub run: Runner,
    /// The same problem for the peers script.
    pub peer_problem: Value,
    /// Signal and kernel length (1-D only), for the crossover map.
    pub lengths: Option<(usize, usize)>,
    /// ndarray-conv on the same problem (1-D and 2-D only).
    pub rust_peer: Option<RustPeer>,
}

/// Deterministic pseudo-random values in [-1, 1) (a fixed linear congruential sequence).
pub fn values(len: usize, seed: u64) -> Vec<f64> {
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

fn signal_1d<T: ConvNum>(n: usize, k: usize) -> Run<T> {
    let x = Array1::from_iter(values(n, 1).into_iter().map(T::from_f64_lossy));
    let h = Array1::from_iter(values(k, 2).into_iter().map(T::from_f64_lossy));
    Box::new(move |b| convolve_with(&x, &h, Mode::Full, b).map(drop))
}

fn image_2d<T: ConvNum>(n: usize, k: usize, mode: Mode) -> Run<T> {
    let x = Array2::from_shape_vec((n, n), values(n * n, 3).into_iter().map(T::from_f64_lossy).collect())
        .expect("square");
    let h = Array2::from_shape_vec((k, k), values(k * k, 4).into_iter().map(T::from_f64_lossy).collect())
        .expect("square");
    Box::new(move |b| convolve_with(&x, &h, mode, b).map(drop))
}

fn layer<T: ConvNum>(batch: usize, c: usize, size: usize, o: usize) -> Run<T> {
    let x = Array4::from_shape_vec((batch, c, size, size), values(batch * c * size * size, 5))
        .expect("shape")
        .mapv(T::from_f64_lossy);
    let w =
        Array4::from_shape_vec((o, c, 3, 3), values(o * c * 9, 6)).expect("shape").mapv(T::from_f64_lossy);
    Box::new(move |b| conv2d_with(&x, &w, &ConvSpec::correlation(), b).map(drop))
}

fn volume_3d<T: ConvNum>(n: usize, k: usize, mode: Mode) -> Run<T> {
    let x = Array3::from_shape_vec((n, n, n), values(n * n * n, 7)).expect("cube").mapv(T::from_f64_lossy);
    let h = Array3::from_shape_vec((k, k, k), values(k * k * k, 8)).expect("cube").mapv(T::from_f64_lossy);
    Box::new(move |b| convolve_with(&x, &h, mode, b).map(drop))
}

fn layer_3d<T: ConvNum>(batch: usize, c: usize, size: usize, o: usize) -> Run<T> {
    let x = Array5::from_shape_vec((batch, c, size, size, size), values(batch * c * size.pow(3), 9))
        .expect("shape")
        .mapv(T::from_f64_lossy);
    let w = Array5::from_shape_vec((o, c, 3, 3, 3), values(o * c * 27, 10))
        .expect("shape")
        .mapv(T::from_f64_lossy);
    Box::new(move |b| conv3d_with(&x, &w, &ConvSpec::correlation(), b).map(drop))
}

/// The same layer with the input stored `[batch, size, size, c]` and the output
/// `[batch, out, out, o]` (Keras's and TensorFlow's layout), through
/// [`ConvBackend::execute_channels_last`].
fn layer_channels_last<T: ConvNum>(batch: usize, c: usize, size: usize, o: usize) -> Run<T> {
    let x: Vec<T> = values(batch * size * size * c, 5).into_iter().map(T::from_f64_lossy).collect();
    let w: Vec<T> = values(o * c * 9, 6).into_iter().map(T::from_f64_lossy).collect();
    Box::new(move |b| {
        let axis = |index| AxisGeometry::new(index, size, 3, 1, 1);
        let g = Geometry::planar(batch, c, o, 1, [axis(1)?, axis(2)?])?;
        let mut output = vec![T::zero(); g.output_len()];
        b.execute_channels_last(&ConvProblem::new(g, &x, &w)?, &mut output)
    })
}

fn runner(dtype: Dtype, f32_run: impl FnOnce() -> Run<f32>, f64_run: impl FnOnce() -> Run<f64>) -> Runner {
    match dtype {
        Dtype::F32 => Runner::F32(f32_run()),
        Dtype::F64 => Runner::F64(f64_run()),
    }
}

fn dtype_name(dtype: Dtype) -> &'static str {
    match dtype {
        Dtype::F32 => "f32",
        Dtype::F64 => "f64",
    }
}

/// The grid: 1-D signals 10^3..10^6 x kernels 3..4095; 512 and 2048 square images x 3, 7, 31
/// kernels, valid and same; the CIFAR-10 model's three conv layers, the digits layer and a
/// 56x56x64 layer at batch 64. `quick` shrinks every family.
pub fn grid(quick: bool, families: &[Family], dtypes: &[Dtype]) -> Vec<Workload> {
    let mut grid = Vec::new();
    let (signals, taps): (&[usize], &[usize]) = if quick {
        (&[1_000, 10_000], &[3, 31, 255])
    } else {
        (&[1_000, 10_000, 100_000, 1_000_000], &[3, 31, 255, 4095])
    };
    let images: &[usize] = if quick { &[128] } else { &[512, 2048] };
    let batch = if quick { 8 } else { 64 };
    for &dtype in dtypes {
        let name = dtype_name(dtype);
        if families.contains(&Family::OneD) {
            for &n in signals {
                for &k in taps.iter().filter(|&&k| k < n) {
                    grid.push(Workload {
                        group: format!("1-D full convolution ({name})"),
                        label: format!("{n} x {k}"),
                        geometry: geometry(&ConvSpec::convolution().mode(Mode::Full), &[1, 1, n], &[1, 1, k]),
                        run: runner(dtype, || signal_1d(n, k), || signal_1d(n, k)),
                        peer_problem: json!({"kind": "1d", "n": n, "k": k, "dtype": name}),
                        lengths: Some((n, k)),
                        rust_peer: Some(match dtype {
                            Dtype::F32 => ndarray_conv_peer::signal_1d_f32(n, k),
                            Dtype::F64 => ndarray_conv_peer::signal_1d_f64(n, k),
                        }),
                    });
                }
            }
        }
        if families.contains(&Family::TwoD) {
            for &n in images {
                for &k in &[3usize, 7, 31] {
                    for mode in [Mode::Valid, Mode::Same] {
                        grid.push(Workload {
                            group: format!("2-D single channel ({name})"),
                            label: format!("{n}x{n} * {k}x{k} {mode:?}"),
                            geometry: geometry(&ConvSpec::convolution().mode(mode), &[1, 1, n, n], &[1, 1, k, k]),
                            run: runner(dtype, || image_2d(n, k, mode), || image_2d(n, k, mode)),
                            peer_problem: json!({"kind": "2d", "n": n, "k": k, "mode": format!("{mode:?}").to_lowercase(), "dtype": name}),
                            lengths: None,
                            rust_peer: Some(match dtype {
                                Dtype::F32 => ndarray_conv_peer::image_2d_f32(n, k, mode),
                                Dtype::F64 => ndarray_conv_peer::image_2d_f64(n, k, mode),
                            }),
                        });
                    }
                }
            }
        }
    }
    if families.contains(&Family::ThreeD) {
        let (volume, kernels): (usize, &[usize]) = if quick { (32, &[3, 7]) } else { (128, &[3, 7, 15]) };
        for &dtype in dtypes {
            let name = dtype_name(dtype);
            for &k in kernels {
                for mode in [Mode::Valid, Mode::Same] {
                    let n = volume;
                    grid.push(Workload {
                        group: format!("3-D single volume ({name})"),
                        label: format!("{n}^3 * {k}^3 {mode:?}"),
                        geometry: geometry(&ConvSpec::convolution().mode(mode), &[1, 1, n, n, n], &[1, 1, k, k, k]),
                        run: runner(dtype, || volume_3d(n, k, mode), || volume_3d(n, k, mode)),
                        peer_problem: json!({"kind": "3d", "n": n, "k": k, "mode": format!("{mode:?}").to_lowercase(), "dtype": name}),
                        lengths: None,
                        rust_peer: None,
                    });
                }
            }
        }
        // A conv3d layer, in f32 as deep-learning frameworks run it.
        let (batch, c, size, o) = if quick { (2, 8, 8, 8) } else { (8, 32, 16, 32) };
        grid.push(Workload {
            group: "conv3d layers, valid 3x3x3 (f32, NCDHW)".to_string(),
            label: format!("{batch}x{c}x{size}^3 -> {o}"),
            geometry: geometry(&ConvSpec::correlation(), &[batch, c, size, size, size], &[o, c, 3, 3, 3]),
            run: Runner::F32(layer_3d(batch, c, size, o)),
            peer_problem: json!({"kind": "layer3d", "batch": batch, "channels": c, "size": size, "filters": o, "dtype": "f32"}),
            lengths: None,
            rust_peer: None,
        });
    }
    // The CNN layers run in f32, as deep-learning frameworks do.
    if families.contains(&Family::Cnn) {
        for channels_last in [false, true] {
            for (size, c, o) in
                [(32usize, 3usize, 32usize), (15, 32, 64), (6, 64, 64), (8, 1, 10), (56, 64, 64)]
            {
                if quick && size == 56 {
                    continue;
                }
                let layout = if channels_last { "NHWC" } else { "NCHW" };
                grid.push(Workload {
                    group: format!("CNN layers, valid 3x3 (f32, {layout})"),
                    label: format!("{batch}x{c}x{size}x{size} -> {o}"),
                    geometry: geometry(&ConvSpec::correlation(), &[batch, c, size, size], &[o, c, 3, 3]),
                    run: Runner::F32(if channels_last {
                        layer_channels_last(batch, c, size, o)
                    } else {
                        layer(batch, c, size, o)
                    }),
                    peer_problem: json!({"kind": "layer", "batch": batch, "channels": c, "size": size, "filters": o, "dtype": "f32"}),
                    lengths: None,
                    rust_peer: None,
                });
            }
        }
    }
    grid
}
