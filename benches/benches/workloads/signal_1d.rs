//! 1-D full convolution: signals 10^3..10^6 x kernels 3..4095.

use conv_core::{ConvNum, ConvSpec, Mode, convolve_with};
use criterion::{BenchmarkId, Criterion, Throughput};
use ndarray::Array1;

use super::{backends_for, values};

fn run<T: ConvNum>(c: &mut Criterion, dtype: &str) {
    let mut group = c.benchmark_group(format!("conv1d_full_{dtype}"));
    group.sample_size(10);
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        for k in [3usize, 31, 255, 4095].into_iter().filter(|&k| k < n) {
            let shape = format!("{n}x{k}");
            let geometry = ConvSpec::convolution()
                .mode(Mode::Full)
                .resolve(&[1, 1, n], &[1, 1, k])
                .expect("valid")
                .geometry;
            let x = Array1::from(values::<T>(n, 1));
            let h = Array1::from(values::<T>(k, 2));
            group.throughput(Throughput::Elements((n * k) as u64));
            for backend in backends_for::<T>(&geometry, &shape) {
                group.bench_with_input(BenchmarkId::new(backend.name(), &shape), &(), |b, ()| {
                    b.iter(|| convolve_with(&x, &h, Mode::Full, backend.as_ref()).expect("supported"))
                });
            }
        }
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    run::<f64>(c, "f64");
    run::<f32>(c, "f32");
}

criterion::criterion_group!(benches, bench);
