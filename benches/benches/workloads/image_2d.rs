//! 2-D single-channel convolution: 512x512 and 2048x2048 images x 3x3, 7x7, 31x31 kernels,
//! modes valid and same.

use conv_core::{ConvNum, ConvSpec, Mode, convolve_with};
use criterion::{BenchmarkId, Criterion, Throughput};
use ndarray::Array2;

use super::{backends_for, values};

fn run<T: ConvNum>(c: &mut Criterion, dtype: &str) {
    let mut group = c.benchmark_group(format!("conv2d_single_{dtype}"));
    group.sample_size(10);
    for n in [512usize, 2048] {
        for k in [3usize, 7, 31] {
            for mode in [Mode::Valid, Mode::Same] {
                let shape = format!("{n}x{n}*{k}x{k}_{mode:?}");
                let spec = ConvSpec::convolution().mode(mode);
                let geometry = spec.resolve(&[1, 1, n, n], &[1, 1, k, k]).expect("valid").geometry;
                let x = Array2::from_shape_vec((n, n), values::<T>(n * n, 3)).expect("square");
                let h = Array2::from_shape_vec((k, k), values::<T>(k * k, 4)).expect("square");
                group.throughput(Throughput::Elements((n * n) as u64));
                for backend in backends_for::<T>(&geometry, &shape) {
                    group.bench_with_input(BenchmarkId::new(backend.name(), &shape), &(), |b, ()| {
                        b.iter(|| convolve_with(&x, &h, mode, backend.as_ref()).expect("supported"))
                    });
                }
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
