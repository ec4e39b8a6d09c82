//! Geometries from arbitrary sizes (axes built as struct literals, past `AxisGeometry::new`)
//! through `Geometry::new`, then every built-in backend, the planner and the cost model: `new`
//! refuses what cannot be indexed; what a backend accepts runs on buffers of the lengths the
//! geometry states and agrees with Direct. Nothing panics.
#![no_main]
use arbitrary::Arbitrary;
use conv_core::{Auto, AxisGeometry, ConvBackend, ConvProblem, Direct, Geometry, builtin_backends};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Request {
    batch: u64,
    in_channels: u64,
    out_channels: u64,
    groups: u64,
    axes: [(u64, u64, u64, u64); 2],
    backend: u8,
}

/// Mostly small, any u64 through the top bit.
fn field(v: u64) -> usize {
    if v >> 63 == 1 { v as usize } else { (v % 7) as usize }
}

fuzz_target!(|r: Request| {
    let axis = |i: usize| {
        let (input, kernel, stride, dilation) = r.axes[i];
        // Built unchecked: a struct literal past the constructor.
        AxisGeometry::new(i, field(input).max(1), 1, 1, 1).map(|mut a| {
            a.input = field(input);
            a.kernel = field(kernel);
            a.stride = field(stride);
            a.dilation = field(dilation);
            a.output = field(input.rotate_left(7));
            a
        })
    };
    let (Ok(rows), Ok(cols)) = (axis(0), axis(1)) else { return };
    let built = Geometry::new(field(r.batch), field(r.in_channels), field(r.out_channels), field(r.groups), [rows, cols]);
    let Ok(g) = built else { return };
    let _ = Auto::new().explain::<f64>(&g);
    let backends = builtin_backends::<f64>();
    for b in &backends {
        let _ = b.cost_features(&g);
    }
    let backend = &backends[usize::from(r.backend) % backends.len()];
    if backend.supports(&g).is_err() {
        return;
    }
    let (input_len, kernel_len, output_len) = (g.input_len(), g.kernel_len(), g.output_len());
    if input_len.saturating_add(kernel_len).saturating_add(output_len) > 1 << 20 {
        return;
    }
    let input: Vec<f64> = (0..input_len).map(|i| (i % 5) as f64 - 2.0).collect();
    let kernel: Vec<f64> = (0..kernel_len).map(|i| (i % 3) as f64 - 1.0).collect();
    let Ok(problem) = ConvProblem::new(g, &input, &kernel) else { return };
    let mut want = vec![0.0; output_len];
    let mut got = vec![0.0; output_len];
    let direct = Direct.execute(&problem, &mut want);
    let result = backend.execute(&problem, &mut got);
    if direct.is_ok() && result.is_ok() {
        for (w, v) in want.iter().zip(&got) {
            assert!((w - v).abs() <= 1e-9 * (1.0 + w.abs()), "{}: {v} vs {w}", backend.name());
        }
    }
});
