//! The im2col GEMM of a CNN layer timed alone: `positions x taps` times `taps x filters`, the
//! positions shared out over the cores and multiplied in bands as the im2col backend does, on
//! the crate's GEMM (`convkit-gemm`). Its rate against the FMA peak is the GEMM target; the
//! layer's own rate also counts building the patch rows and writing the output.

use std::time::{Duration, Instant};

use conv_core::Geometry;
use convkit_gemm::{MatMut, MatRef, matmul};

/// GFLOP/s of the layer's GEMM (`2 * positions * taps * filters` flops per call), the median of
/// calls repeated for about `budget`; `None` if the shapes do not make a GEMM.
pub fn layer_gemm_gflops(g: &Geometry, budget: Duration) -> Option<f64> {
    let positions = g.batch() * g.output_plane();
    let taps = g.in_per_group() * g.kernel_plane();
    let filters = g.out_channels();
    if positions == 0 || taps == 0 || filters == 0 || g.groups() != 1 {
        return None;
    }
    let threads = conv_core::parallel::max_threads().clamp(1, positions);
    let share = positions.div_ceil(threads);
    // Bands of about 1 MiB of patch rows, as the im2col backend multiplies them; each thread
    // reuses one band for all of its products (the backend refills it from the input, which is
    // the part of the layer's time this leaves out).
    let band = ((1 << 20) / (taps * size_of::<f32>())).clamp(1, share);
    // Seeded, value-independent timing: small integers scaled, no NaN or denormals.
    let patches: Vec<f32> = (0..band * taps).map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.5).collect();
    let weights: Vec<f32> = (0..taps * filters).map(|i| ((i * 104_729) % 89) as f32 / 89.0 - 0.5).collect();
    let mut output = vec![0.0f32; positions * filters];
    // On the crate's own worker threads (`split_items`, as the backends split their calls), in
    // pieces of whole output positions.
    let mut workers = vec![(); threads];
    let mut call = |output: &mut [f32]| -> Option<()> {
        conv_core::parallel::split_items(output, filters, &mut workers, |piece, _, ()| {
            for out_band in piece.chunks_mut(band * filters) {
                let m = out_band.len() / filters;
                let c = MatMut::new(out_band, m, filters, filters)?;
                let a = MatRef::new(&patches[..m * taps], m, taps, taps)?;
                let b = MatRef::new(&weights, taps, filters, filters)?;
                matmul(c, a, b, false)?;
            }
            Ok::<(), convkit_gemm::GemmError>(())
        })
        .ok()
    };
    call(&mut output)?; // warm-up: pages, packing buffers
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < 3 || (start.elapsed() < budget && times.len() < 200) {
        let t = Instant::now();
        call(&mut output)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    Some(2.0 * (positions * taps * filters) as f64 / median / 1e9)
}
