//! `cargo bench -p bench-suite`: criterion benchmarks, one module per workload, every registered
//! backend plus `auto`, in f32 and f64. Each case is named `backend/shape`. A backend that refuses
//! a shape, or that the cost model predicts would take over a second per call, is skipped with a
//! note on stderr.

mod workloads;

criterion::criterion_main!(
    workloads::signal_1d::benches,
    workloads::image_2d::benches,
    workloads::layers::benches,
    workloads::volume_3d::benches
);
