//! Finite-difference checks (f64, central differences) of every layer's backward pass, for
//! both the input and the parameter gradients, of every loss, and of a whole model with L2.

#![allow(clippy::unwrap_used)] // helpers shared by the tests panic on failure by design

use cnn::layers::{
    Activation, ActivationLayer, AveragePooling2D, Conv2D, Dense, Flatten, Layer, MaxPooling2D, Padding,
};
use cnn::{FitConfig, Loss, Sequential, Sgd};
use conv_core::{ConvBackend, builtin_backends};

/// Every built-in backend that takes any kernel and stride: Winograd (3x3 at stride 1 only) is
/// checked on its own layers in `conv2d_gradients_on_winograd`.
fn general_backends() -> Vec<std::sync::Arc<dyn ConvBackend<f64>>> {
    builtin_backends::<f64>().into_iter().filter(|b| b.name() != "winograd").collect()
}
use ndarray::{ArrayD, IxDyn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const STEP: f64 = 1e-6;

fn random(shape: &[usize], rng: &mut ChaCha8Rng) -> ArrayD<f64> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.random_range(-1.0..1.0))
}

/// `L = sum(forward(x) * r)`: its gradient with respect to the output is `r`.
fn projected_loss(layer: &mut dyn Layer<f64>, x: &ArrayD<f64>, r: &ArrayD<f64>) -> f64 {
    let y = layer.forward(x, true).unwrap();
    (&y * r).sum()
}

fn assert_close(what: &str, analytic: f64, numeric: f64) {
    let tolerance = 1e-6 * (1.0 + numeric.abs().max(analytic.abs()));
    assert!(
        (analytic - numeric).abs() <= tolerance,
        "{what}: analytic {analytic} vs finite difference {numeric}"
    );
}

/// Checks input and parameter gradients of `layer` built for `input_shape` at a random point.
fn check_layer(name: &str, layer: impl Layer<f64>, input_shape: &[usize], batch: usize, seed: u64) {
    check_layer_sampled(name, layer, input_shape, batch, seed, usize::MAX);
}

/// As `check_layer`, checking at most `samples` evenly spread entries of each gradient.
fn check_layer_sampled(
    name: &str,
    mut layer: impl Layer<f64>,
    input_shape: &[usize],
    batch: usize,
    seed: u64,
    samples: usize,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let output_shape = layer.build(input_shape, &mut rng).unwrap();
    let mut full_in = vec![batch];
    full_in.extend_from_slice(input_shape);
    let mut full_out = vec![batch];
    full_out.extend_from_slice(&output_shape);
    let mut x = random(&full_in, &mut rng);
    let r = random(&full_out, &mut rng);
    // Randomise the parameters too (biases start at zero).
    for param in layer.params_mut() {
        param.value = random(param.value.shape(), &mut rng);
    }

    layer.forward(&x, true).unwrap();
    let grad_x = layer.backward(r.clone()).unwrap();
    assert_eq!(grad_x.shape(), x.shape(), "{name}: input gradient shape");
    let param_grads: Vec<ArrayD<f64>> = layer.params().iter().map(|p| p.grad.clone()).collect();

    let spread = |len: usize| (0..len).step_by(len.div_ceil(samples.min(len)).max(1));
    for index in spread(x.len()) {
        let original = x.as_slice().unwrap()[index];
        x.as_slice_mut().unwrap()[index] = original + STEP;
        let plus = projected_loss(&mut layer, &x, &r);
        x.as_slice_mut().unwrap()[index] = original - STEP;
        let minus = projected_loss(&mut layer, &x, &r);
        x.as_slice_mut().unwrap()[index] = original;
        assert_close(
            &format!("{name}: d/dx[{index}]"),
            grad_x.as_slice().unwrap()[index],
            (plus - minus) / (2.0 * STEP),
        );
    }
    for (p, analytic) in param_grads.iter().enumerate() {
        for index in spread(analytic.len()) {
            let nudge = |layer: &mut dyn Layer<f64>, delta: f64| {
                let mut params = layer.params_mut();
                let value = params[p].value.as_slice_mut().unwrap();
                value[index] += delta;
            };
            nudge(&mut layer, STEP);
            let plus = projected_loss(&mut layer, &x, &r);
            nudge(&mut layer, -2.0 * STEP);
            let minus = projected_loss(&mut layer, &x, &r);
            nudge(&mut layer, STEP);
            assert_close(
                &format!("{name}: d/dparam{p}[{index}]"),
                analytic.as_slice().unwrap()[index],
                (plus - minus) / (2.0 * STEP),
            );
        }
    }
}

#[test]
fn conv2d_gradients_with_every_backend_stride_and_padding() {
    let cases = [
        ((3, 3), (1, 1), Padding::Valid, Activation::Linear),
        ((3, 3), (1, 1), Padding::Same, Activation::Tanh),
        ((2, 3), (2, 2), Padding::Valid, Activation::Sigmoid),
        ((3, 2), (2, 1), Padding::Same, Activation::Linear),
        ((4, 4), (3, 3), Padding::Same, Activation::Tanh),
    ];
    for backend in general_backends() {
        for (i, &(kernel, strides, padding, activation)) in cases.iter().enumerate() {
            let layer = Conv2D::new(3, kernel)
                .strides(strides)
                .padding(padding)
                .activation(activation)
                .with_backend(backend.clone());
            let name =
                format!("Conv2D {kernel:?} {strides:?} {padding:?} {activation:?} on {}", backend.name());
            check_layer(&name, layer, &[7, 6, 2], 2, i as u64);
        }
    }
}

/// Winograd's layers: 3x3 kernels at stride 1, valid and same padding, small and split across
/// threads. Its backward passes are 3x3 stride-1 problems too, so training runs through it.
#[test]
fn conv2d_gradients_on_winograd() {
    let winograd: std::sync::Arc<dyn ConvBackend<f64>> = std::sync::Arc::new(conv_core::Winograd);
    for (i, padding) in [Padding::Valid, Padding::Same].into_iter().enumerate() {
        let layer = Conv2D::new(3, (3, 3)).padding(padding).activation(Activation::Tanh);
        check_layer(
            &format!("Conv2D 3x3 {padding:?} on winograd"),
            layer.with_backend(winograd.clone()),
            &[7, 6, 2],
            2,
            i as u64,
        );
    }
    let layer = Conv2D::new(16, (3, 3)).padding(Padding::Same).activation(Activation::Tanh);
    check_layer_sampled("large Conv2D on winograd", layer.with_backend(winograd), &[16, 16, 8], 8, 40, 40);
}

/// Layers large enough that Conv2D splits each convolution across threads.
#[test]
fn conv2d_gradients_when_split_across_threads() {
    for backend in general_backends() {
        let layer =
            Conv2D::new(16, (3, 3)).strides((1, 2)).padding(Padding::Same).activation(Activation::Tanh);
        let name = format!("large Conv2D on {}", backend.name());
        check_layer_sampled(&name, layer.with_backend(backend), &[16, 16, 8], 8, 40, 40);
    }
}

#[test]
fn conv2d_without_bias_and_with_relu() {
    // ReLU's kink: random inputs land on it with probability zero.
    let layer = Conv2D::new(2, (2, 2)).use_bias(false).activation(Activation::Relu);
    check_layer("Conv2D relu no bias", layer, &[5, 5, 3], 3, 7);
}

#[test]
fn pooling_gradients() {
    check_layer("MaxPooling2D 2x2", MaxPooling2D::new((2, 2)), &[6, 7, 2], 2, 1);
    check_layer(
        "MaxPooling2D 3x3/2 same",
        MaxPooling2D::new((3, 3)).strides((2, 2)).padding(Padding::Same),
        &[7, 6, 2],
        2,
        2,
    );
    check_layer("AveragePooling2D 2x2", AveragePooling2D::new((2, 2)), &[6, 7, 2], 2, 3);
    check_layer(
        "AveragePooling2D 3x2/2 same",
        AveragePooling2D::new((3, 2)).strides((2, 2)).padding(Padding::Same),
        &[5, 7, 3],
        2,
        4,
    );
}

#[test]
fn dense_flatten_and_activation_gradients() {
    for (i, activation) in
        [Activation::Linear, Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Softmax]
            .into_iter()
            .enumerate()
    {
        check_layer(
            &format!("Dense {activation:?}"),
            Dense::new(4).activation(activation),
            &[5],
            3,
            10 + i as u64,
        );
        check_layer(
            &format!("Activation {activation:?}"),
            ActivationLayer::new(activation),
            &[6],
            3,
            20 + i as u64,
        );
    }
    check_layer("Flatten", Flatten::new(), &[3, 2, 2], 2, 30);
}

#[test]
fn loss_gradients() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let raw = random(&[4, 5], &mut rng);
    let probabilities =
        raw.mapv(f64::exp) / raw.mapv(f64::exp).sum_axis(ndarray::Axis(1)).insert_axis(ndarray::Axis(1));
    let labels = ArrayD::from_shape_vec(IxDyn(&[4]), vec![0.0, 3.0, 4.0, 1.0]).unwrap();
    let one_hot = cnn::data::one_hot::<f64>(&[0, 3, 4, 1], 5).unwrap();
    let cases = [
        (Loss::CategoricalCrossentropy, probabilities.clone(), one_hot.clone()),
        (Loss::SparseCategoricalCrossentropy { from_logits: true }, raw.clone(), labels.clone()),
        (Loss::SparseCategoricalCrossentropy { from_logits: false }, probabilities.clone(), labels),
        (Loss::MeanSquaredError, raw, one_hot),
    ];
    for (loss, predictions, targets) in cases {
        let (_, grad) = loss.compute(&predictions, &targets).unwrap();
        for index in 0..predictions.len() {
            let mut shifted = predictions.clone();
            shifted.as_slice_mut().unwrap()[index] += STEP;
            let plus = loss.compute(&shifted, &targets).unwrap().0;
            shifted.as_slice_mut().unwrap()[index] -= 2.0 * STEP;
            let minus = loss.compute(&shifted, &targets).unwrap().0;
            assert_close(
                &format!("{loss:?}[{index}]"),
                grad.as_slice().unwrap()[index],
                (plus - minus) / (2.0 * STEP),
            );
        }
    }
}

#[test]
fn cross_entropy_from_logits_is_stable_for_huge_logits() {
    let logits = ArrayD::<f64>::from_shape_vec(IxDyn(&[1, 3]), vec![1000.0, -1000.0, 0.0]).unwrap();
    let labels = ArrayD::from_shape_vec(IxDyn(&[1]), vec![1.0]).unwrap();
    let (loss, grad) =
        Loss::SparseCategoricalCrossentropy { from_logits: true }.compute(&logits, &labels).unwrap();
    assert!((loss - 2000.0).abs() < 1e-9, "{loss}");
    assert!(grad.iter().all(|g| g.is_finite()));
    assert!((grad[[0, 0]] - 1.0).abs() < 1e-12 && (grad[[0, 1]] + 1.0).abs() < 1e-12);
}

/// The model's gradient (loss + L2 through conv, pooling and dense layers) against finite
/// differences of the model's own loss.
#[test]
fn whole_model_gradient_with_l2() {
    let mut model = Sequential::<f64>::new(&[6, 6, 1], 3);
    model.add(Conv2D::new(2, (3, 3)).activation(Activation::Tanh).kernel_regularizer_l2(0.05)).unwrap();
    model.add(AveragePooling2D::new((2, 2))).unwrap();
    model.add(Flatten::new()).unwrap();
    model.add(Dense::new(3).activation(Activation::Softmax).kernel_regularizer_l2(0.1)).unwrap();
    model.compile(Sgd::new(0.1), Loss::CategoricalCrossentropy).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let x = random(&[4, 6, 6, 1], &mut rng);
    let y = cnn::data::one_hot::<f64>(&[0, 1, 2, 1], 3).unwrap();
    let (_, grads) = model.loss_and_gradients(&x, &y).unwrap();
    for (p, analytic) in grads.iter().enumerate() {
        for index in 0..analytic.len() {
            model.params_mut()[p].value.as_slice_mut().unwrap()[index] += STEP;
            let plus = model.loss_and_gradients(&x, &y).unwrap().0;
            model.params_mut()[p].value.as_slice_mut().unwrap()[index] -= 2.0 * STEP;
            let minus = model.loss_and_gradients(&x, &y).unwrap().0;
            model.params_mut()[p].value.as_slice_mut().unwrap()[index] += STEP;
            assert_close(
                &format!("param {p}[{index}]"),
                analytic.as_slice().unwrap()[index],
                (plus - minus) / (2.0 * STEP),
            );
        }
    }
}

/// A small model drives the loss on a tiny batch close to zero.
#[test]
fn small_model_overfits_a_tiny_batch() {
    let mut model = Sequential::<f64>::new(&[6, 6, 1], 11);
    model.add(Conv2D::new(4, (3, 3)).activation(Activation::Relu)).unwrap();
    model.add(Flatten::new()).unwrap();
    model.add(Dense::new(3).activation(Activation::Softmax)).unwrap();
    model.compile(cnn::Adam::new(0.01), Loss::CategoricalCrossentropy).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let x = random(&[6, 6, 6, 1], &mut rng);
    let y = cnn::data::one_hot::<f64>(&[0, 1, 2, 0, 1, 2], 3).unwrap();
    let history = model.fit(&x, &y, &FitConfig::new(300).batch_size(6).verbose(false)).unwrap();
    let last = *history.loss.last().unwrap();
    assert!(last < 0.01, "loss after 300 steps: {last} (first {})", history.loss[0]);
    assert_eq!(*history.accuracy.last().unwrap(), 1.0);
}

/// Every backend trains the same model to the same weights (to rounding). The model is smooth
/// (tanh, average pooling): with ReLU or max pooling, the digits' many exact zeros put
/// pre-activations on the kink and pooling windows on ties, where a rounding difference of
/// 1e-17 legitimately picks another branch.
#[test]
fn every_backend_trains_to_the_same_weights() {
    let train = |backend: std::sync::Arc<dyn ConvBackend<f64>>| {
        let mut model = Sequential::<f64>::new(&[8, 8, 1], 5);
        model
            .add(
                Conv2D::new(3, (3, 3))
                    .strides((2, 1))
                    .padding(Padding::Same)
                    .activation(Activation::Tanh)
                    .with_backend(backend),
            )
            .unwrap();
        model.add(AveragePooling2D::new((2, 2))).unwrap();
        model.add(Flatten::new()).unwrap();
        model.add(Dense::new(10)).unwrap();
        model
            .compile(Sgd::new(0.05).momentum(0.9), Loss::SparseCategoricalCrossentropy { from_logits: true })
            .unwrap();
        let digits = cnn::data::load_digits::<f64>().unwrap().select(&(0..64).collect::<Vec<_>>()).unwrap();
        model
            .fit(
                &(digits.images.clone() / 16.0),
                &digits.sparse_labels(),
                &FitConfig::new(3).batch_size(16).verbose(false),
            )
            .unwrap();
        model.params().iter().flat_map(|p| p.value.iter().copied().collect::<Vec<_>>()).collect::<Vec<f64>>()
    };
    let backends = general_backends(); // the model's stride (2, 1) is not Winograd's
    let reference = train(backends[0].clone());
    assert_eq!(backends[0].name(), "direct");
    for backend in &backends[1..] {
        let weights = train(backend.clone());
        let worst = reference.iter().zip(&weights).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-9, "{} differs from direct by {worst}", backend.name());
    }
}

/// A layer trains through its own backend: every product of a training step (forward, input
/// gradient, kernel gradient) reaches the backend the layer was given, here `Fft` behind a
/// wrapper that counts what it is asked.
#[test]
fn a_layer_on_fft_trains_through_fft() {
    use conv_core::{ConvError, ConvProblem, Fft, Geometry, Layout};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Counted {
        forward: AtomicUsize,
        input_gradient: AtomicUsize,
        kernel_gradient: AtomicUsize,
    }
    struct CountingFft(std::sync::Arc<Counted>);
    impl ConvBackend<f64> for CountingFft {
        fn name(&self) -> &str {
            "counting-fft"
        }
        fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
            ConvBackend::<f64>::supports(&Fft::default(), g)
        }
        fn execute(&self, problem: &ConvProblem<'_, f64>, output: &mut [f64]) -> Result<(), ConvError> {
            self.0.forward.fetch_add(1, Ordering::Relaxed);
            Fft::default().execute(problem, output)
        }
        fn input_gradient(
            &self,
            g: &Geometry,
            layout: Layout,
            kernel: &[f64],
            grad_output: &[f64],
            grad_input: &mut [f64],
        ) -> Result<(), ConvError> {
            self.0.input_gradient.fetch_add(1, Ordering::Relaxed);
            Fft::default().input_gradient(g, layout, kernel, grad_output, grad_input)
        }
        fn kernel_gradient(
            &self,
            g: &Geometry,
            layout: Layout,
            input: &[f64],
            grad_output: &[f64],
            grad_kernel: &mut [f64],
        ) -> Result<(), ConvError> {
            self.0.kernel_gradient.fetch_add(1, Ordering::Relaxed);
            Fft::default().kernel_gradient(g, layout, input, grad_output, grad_kernel)
        }
    }

    let counts = std::sync::Arc::new(Counted::default());
    let mut model = Sequential::<f64>::new(&[6, 6, 2], 3);
    model.add(Conv2D::new(3, (3, 3)).activation(Activation::Tanh)).unwrap();
    model
        .add(Conv2D::new(2, (2, 2)).padding(Padding::Same).with_backend(CountingFft(counts.clone())))
        .unwrap();
    model.add(Flatten::new()).unwrap();
    model.add(Dense::new(1)).unwrap();
    model.compile(Sgd::new(0.01), Loss::MeanSquaredError).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = random(&[4, 6, 6, 2], &mut rng);
    let y = random(&[4, 1], &mut rng);
    model.fit(&x, &y, &FitConfig::new(2).batch_size(4).verbose(false)).unwrap();
    // Two epochs of one batch: each a forward pass and both gradients of the second layer.
    assert_eq!(counts.forward.load(Ordering::Relaxed), 2, "forward passes");
    assert_eq!(counts.input_gradient.load(Ordering::Relaxed), 2, "input gradients");
    assert_eq!(counts.kernel_gradient.load(Ordering::Relaxed), 2, "kernel gradients");
}

#[test]
fn batch_normalization_and_global_pooling_gradients() {
    use cnn::layers::{BatchNormalization, GlobalAveragePooling2D};
    // Training mode: the batch statistics depend on every input, so the input gradient has
    // the two correction terms; gamma and beta too.
    check_layer("BatchNormalization images", BatchNormalization::new(), &[4, 3, 2], 5, 31);
    check_layer("BatchNormalization features", BatchNormalization::new().epsilon(1e-5), &[6], 7, 32);
    check_layer("BatchNormalization no scale", BatchNormalization::new().scale(false), &[3, 3, 2], 4, 33);
    check_layer("BatchNormalization no center", BatchNormalization::new().center(false), &[5], 6, 34);
    check_layer("GlobalAveragePooling2D", GlobalAveragePooling2D::new(), &[3, 4, 5], 3, 35);
}
