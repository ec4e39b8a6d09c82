//! Keras's augmentation layers `RandomFlip` and `RandomTranslation`: random pixel moves in
//! training, the identity in inference.
//!
//! Both are a per-sample *gather* of pixels (each output pixel copies one input pixel, or the
//! fill value): the backward pass scatters the output gradient back to the pixels read.

use ndarray::ArrayD;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Layer, cached, check_batch_shape, contiguous, into_row_major, tensor};
use crate::error::CnnError;
use crate::float::Float;

/// The pixels one training pass read: per sample, per output pixel, the input pixel or `None`
/// (the fill value).
#[derive(Clone, Debug)]
struct Gather {
    shape: [usize; 4],
    sources: Vec<Option<u32>>,
}

/// Applies a gather to an NHWC batch.
fn gather<T: Float>(input: &[T], shape: [usize; 4], sources: &[Option<u32>], fill: T) -> Vec<T> {
    let [_, h, w, c] = shape;
    let pixels = h * w;
    let mut output = Vec::with_capacity(input.len());
    for (image, sample) in input.chunks_exact((pixels * c).max(1)).zip(sources.chunks_exact(pixels.max(1))) {
        for source in sample {
            match source {
                Some(s) => output.extend_from_slice(&image[*s as usize * c..][..c]),
                None => output.extend(std::iter::repeat_n(fill, c)),
            }
        }
    }
    output
}

/// The adjoint of [`gather`]: each output pixel's gradient added to the pixel it read.
fn scatter<T: Float>(grad: &[T], gather: &Gather) -> Vec<T> {
    let [_, h, w, c] = gather.shape;
    let pixels = h * w;
    let mut input_grad = vec![T::zero(); grad.len()];
    let samples =
        grad.chunks_exact((pixels * c).max(1)).zip(input_grad.chunks_exact_mut((pixels * c).max(1)));
    for ((g, out), sample) in samples.zip(gather.sources.chunks_exact(pixels.max(1))) {
        for (pixel, source) in sample.iter().enumerate() {
            if let Some(s) = source {
                let target = &mut out[*s as usize * c..][..c];
                target.iter_mut().zip(&g[pixel * c..][..c]).for_each(|(t, &v)| *t = *t + v);
            }
        }
    }
    input_grad
}

/// Which axes [`RandomFlip`] may flip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlipMode {
    /// Left-right (Keras's `"horizontal"`).
    Horizontal,
    /// Top-bottom (`"vertical"`).
    Vertical,
    /// Each independently (`"horizontal_and_vertical"`, Keras's default).
    #[default]
    HorizontalAndVertical,
}

/// How [`RandomTranslation`] fills the pixels shifted in from outside (Keras's `fill_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FillMode {
    /// Mirrored about the edge, the edge pixel repeated: `d c b a | a b c d | d c b a`
    /// (Keras's default).
    #[default]
    Reflect,
    /// The image repeated: `a b c d | a b c d | a b c d`.
    Wrap,
    /// The nearest edge pixel: `a a a a | a b c d | d d d d`.
    Nearest,
    /// The fill value (0 unless set).
    Constant,
}

impl FillMode {
    /// Keras's word: `"reflect"`, `"wrap"`, `"nearest"` or `"constant"`.
    pub fn name(self) -> &'static str {
        match self {
            FillMode::Reflect => "reflect",
            FillMode::Wrap => "wrap",
            FillMode::Nearest => "nearest",
            FillMode::Constant => "constant",
        }
    }
}

/// `index` (possibly outside `0..len`) mapped into the image by `mode`; `None` for a constant.
fn resolve(index: i64, len: usize, mode: FillMode) -> Option<usize> {
    let n = len as i64;
    let inside = match mode {
        _ if (0..n).contains(&index) => index,
        FillMode::Constant => return None,
        FillMode::Nearest => index.clamp(0, n - 1),
        FillMode::Wrap => index.rem_euclid(n),
        FillMode::Reflect => {
            let period = 2 * n;
            let folded = index.rem_euclid(period);
            if folded < n { folded } else { period - 1 - folded }
        }
    };
    Some(inside as usize)
}

/// The `[height, width, channels]` of an augmentation layer's input.
fn image_shape(kind: &str, input_shape: &[usize]) -> Result<[usize; 3], CnnError> {
    match input_shape {
        &[h, w, c] if h > 0 && w > 0 && h.checked_mul(w).is_some_and(|p| p <= u32::MAX as usize) => {
            Ok([h, w, c])
        }
        _ => Err(CnnError::shape(
            format!("input of {kind}"),
            "[height, width, channels], a non-empty image",
            input_shape,
        )),
    }
}

/// Flips each training sample left-right and/or top-bottom with probability 1/2 per axis, as
/// Keras's `RandomFlip(mode)`; the identity in inference. Seeded from the model's seed (or
/// [`seed`](RandomFlip::seed)).
///
/// # Examples
/// ```
/// use cnn::layers::{FlipMode, RandomFlip};
/// let mut model = cnn::Sequential::<f32>::new(&[28, 28, 1], 0);
/// model.add(RandomFlip::new(FlipMode::Horizontal))?;
/// # Ok::<(), cnn::CnnError>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomFlip {
    mode: FlipMode,
    seed: Option<u64>,
    rng: Option<ChaCha8Rng>,
    input: Option<[usize; 3]>,
    last: Option<Gather>,
}

impl RandomFlip {
    /// Flips along the axes of `mode`.
    pub fn new(mode: FlipMode) -> Self {
        RandomFlip { mode, seed: None, rng: None, input: None, last: None }
    }

    /// Seeds the flips with `seed` instead of the model's generator.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
}

impl<T: Float> Layer<T> for RandomFlip {
    fn kind(&self) -> &'static str {
        "RandomFlip"
    }

    fn config(&self) -> Option<serde_json::Value> {
        Some(
            serde_json::json!({"mode": match self.mode { FlipMode::Horizontal => "horizontal", FlipMode::Vertical => "vertical", FlipMode::HorizontalAndVertical => "horizontal_and_vertical" }, "seed": self.seed}),
        )
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        self.input = Some(image_shape("RandomFlip", input_shape)?);
        self.rng = Some(ChaCha8Rng::seed_from_u64(self.seed.unwrap_or_else(|| rng.random())));
        Ok(input_shape.to_vec())
    }

    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let [h, w, c] = *cached("RandomFlip", &self.input)?;
        check_batch_shape("RandomFlip", input, &[h, w, c])?;
        Ok(input.clone())
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let [h, w, c] = *cached("RandomFlip", &self.input)?;
        check_batch_shape("RandomFlip", input, &[h, w, c])?;
        if !training {
            return Ok(input.clone());
        }
        let rng = self.rng.as_mut().ok_or_else(|| CnnError::shape("RandomFlip", "a built layer", &[]))?;
        let batch = input.shape()[0];
        let (may_flip_x, may_flip_y) = match self.mode {
            FlipMode::Horizontal => (true, false),
            FlipMode::Vertical => (false, true),
            FlipMode::HorizontalAndVertical => (true, true),
        };
        let mut sources = Vec::with_capacity(batch * h * w);
        for _ in 0..batch {
            let flip_x = may_flip_x && rng.random_bool(0.5);
            let flip_y = may_flip_y && rng.random_bool(0.5);
            for y in 0..h {
                let sy = if flip_y { h - 1 - y } else { y };
                for x in 0..w {
                    let sx = if flip_x { w - 1 - x } else { x };
                    sources.push(Some((sy * w + sx) as u32));
                }
            }
        }
        let shape = [batch, h, w, c];
        let input = input.as_standard_layout();
        let output = gather(contiguous(&input)?, shape, &sources, T::zero());
        self.last = Some(Gather { shape, sources });
        tensor(&shape, output)
    }

    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        backward_of("RandomFlip", &self.last, grad_output)
    }
}

/// Shifts each training sample by a whole number of pixels drawn uniformly from
/// `[-height_factor * h, height_factor * h]` down and `[-width_factor * w, width_factor * w]`
/// right, filling what comes in from outside by `fill_mode`, as Keras's
/// `RandomTranslation(height_factor, width_factor)`; the identity in inference.
///
/// Keras moves by fractional amounts with bilinear interpolation; this layer rounds the shift
/// to whole pixels (Keras's `interpolation="nearest"`), so no pixel is blurred.
///
/// # Examples
/// ```
/// use cnn::layers::{FillMode, RandomTranslation};
/// let shift = RandomTranslation::new(0.1, 0.1).fill_mode(FillMode::Constant);
/// # let _ = shift;
/// ```
#[derive(Clone, Debug)]
pub struct RandomTranslation {
    factors: [f64; 2],
    fill_mode: FillMode,
    fill_value: f64,
    seed: Option<u64>,
    rng: Option<ChaCha8Rng>,
    input: Option<[usize; 3]>,
    last: Option<Gather>,
}

impl RandomTranslation {
    /// Shifts by up to these fractions of the height and the width, in either direction.
    pub fn new(height_factor: f64, width_factor: f64) -> Self {
        RandomTranslation {
            factors: [height_factor, width_factor],
            fill_mode: FillMode::Reflect,
            fill_value: 0.0,
            seed: None,
            rng: None,
            input: None,
            last: None,
        }
    }

    /// How pixels from outside are filled.
    pub fn fill_mode(mut self, fill_mode: FillMode) -> Self {
        self.fill_mode = fill_mode;
        self
    }

    /// The value of [`FillMode::Constant`].
    pub fn fill_value(mut self, fill_value: f64) -> Self {
        self.fill_value = fill_value;
        self
    }

    /// Seeds the shifts with `seed` instead of the model's generator.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
}

impl<T: Float> Layer<T> for RandomTranslation {
    fn kind(&self) -> &'static str {
        "RandomTranslation"
    }

    fn config(&self) -> Option<serde_json::Value> {
        Some(
            serde_json::json!({"height_factor": self.factors[0], "width_factor": self.factors[1], "fill_mode": self.fill_mode.name(), "fill_value": self.fill_value, "seed": self.seed}),
        )
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        for (name, factor) in ["height_factor", "width_factor"].into_iter().zip(self.factors) {
            if !(0.0..=1.0).contains(&factor) {
                return Err(CnnError::InvalidParameter {
                    name,
                    value: factor.to_string(),
                    reason: "must be in [0, 1]",
                });
            }
        }
        if !self.fill_value.is_finite() {
            return Err(CnnError::InvalidParameter {
                name: "fill_value",
                value: self.fill_value.to_string(),
                reason: "must be finite",
            });
        }
        self.input = Some(image_shape("RandomTranslation", input_shape)?);
        self.rng = Some(ChaCha8Rng::seed_from_u64(self.seed.unwrap_or_else(|| rng.random())));
        Ok(input_shape.to_vec())
    }

    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let [h, w, c] = *cached("RandomTranslation", &self.input)?;
        check_batch_shape("RandomTranslation", input, &[h, w, c])?;
        Ok(input.clone())
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let [h, w, c] = *cached("RandomTranslation", &self.input)?;
        check_batch_shape("RandomTranslation", input, &[h, w, c])?;
        if !training {
            return Ok(input.clone());
        }
        let rng =
            self.rng.as_mut().ok_or_else(|| CnnError::shape("RandomTranslation", "a built layer", &[]))?;
        let batch = input.shape()[0];
        let mut sources = Vec::with_capacity(batch * h * w);
        for _ in 0..batch {
            let mut shift = |factor: f64, len: usize| {
                let reach = factor * len as f64;
                if reach == 0.0 { 0 } else { rng.random_range(-reach..=reach).round() as i64 }
            };
            let (dy, dx) = (shift(self.factors[0], h), shift(self.factors[1], w));
            for y in 0..h as i64 {
                let sy = resolve(y - dy, h, self.fill_mode);
                for x in 0..w as i64 {
                    let sx = resolve(x - dx, w, self.fill_mode);
                    sources.push(sy.zip(sx).map(|(sy, sx)| (sy * w + sx) as u32));
                }
            }
        }
        let shape = [batch, h, w, c];
        let input = input.as_standard_layout();
        let output = gather(contiguous(&input)?, shape, &sources, T::of(self.fill_value));
        self.last = Some(Gather { shape, sources });
        tensor(&shape, output)
    }

    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        backward_of("RandomTranslation", &self.last, grad_output)
    }
}

/// The input gradient of the last training gather.
fn backward_of<T: Float>(
    kind: &str,
    last: &Option<Gather>,
    grad_output: ArrayD<T>,
) -> Result<ArrayD<T>, CnnError> {
    let last = cached(kind, last)?;
    if grad_output.shape() != last.shape {
        return Err(CnnError::shape(
            format!("gradient of {kind}"),
            format!("{:?}", last.shape),
            grad_output.shape(),
        ));
    }
    let grad = into_row_major(grad_output);
    tensor(&last.shape, scatter(contiguous(&grad)?, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_modes_follow_keras_pictures() {
        // d c b a | a b c d | d c b a, and the others, for a 4-pixel row.
        let row = |mode| (-4..8).map(|i| resolve(i, 4, mode)).collect::<Vec<_>>();
        let some = |v: &[usize]| v.iter().map(|&i| Some(i)).collect::<Vec<_>>();
        assert_eq!(row(FillMode::Reflect), some(&[3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]));
        assert_eq!(row(FillMode::Wrap), some(&[0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]));
        assert_eq!(row(FillMode::Nearest), some(&[0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3]));
        assert_eq!(row(FillMode::Constant)[..5], [None, None, None, None, Some(0)]);
    }
}
