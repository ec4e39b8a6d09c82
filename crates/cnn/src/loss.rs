//! Losses, with Keras's definitions, and the accuracy metric that goes with them.

use ndarray::{ArrayD, Axis, IxDyn};

use crate::error::CnnError;
use crate::float::Float;

/// Keras's clipping constant for probabilities (`keras.backend.epsilon()`).
pub const EPSILON: f64 = 1e-7;

/// A loss averaged over the batch.
///
/// Targets are `[batch, classes]` one-hot (or soft) rows for [`Loss::CategoricalCrossentropy`]
/// and [`Loss::MeanSquaredError`], and class indices `[batch]` or `[batch, 1]` for
/// [`Loss::SparseCategoricalCrossentropy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// `-sum(t * log(p))` on probabilities: each row is first divided by its sum and clipped to
    /// `[EPSILON, 1 - EPSILON]`, as Keras does.
    CategoricalCrossentropy,
    /// Cross-entropy against an integer label; `from_logits` takes raw scores through a
    /// numerically stable log-softmax (`z_y - max z - log sum exp(z - max z)`).
    SparseCategoricalCrossentropy {
        /// Whether the predictions are logits (true) or probabilities (false).
        from_logits: bool,
    },
    /// `mean((p - t)^2)` over the last axis.
    MeanSquaredError,
}

impl Loss {
    /// The Keras name of the loss.
    pub fn name(self) -> &'static str {
        match self {
            Loss::CategoricalCrossentropy => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy { .. } => "sparse_categorical_crossentropy",
            Loss::MeanSquaredError => "mean_squared_error",
        }
    }

    /// The mean loss over the batch and its gradient with respect to `predictions`.
    ///
    /// # Errors
    /// [`CnnError::Shape`] when the targets do not match the predictions, [`CnnError::Label`]
    /// for a sparse label that is not a class index.
    ///
    /// # Examples
    /// ```
    /// use cnn::Loss;
    /// use ndarray::{array, ArrayD};
    /// let logits: ArrayD<f64> = array![[2.0, 0.0, 0.0]].into_dyn();
    /// let labels: ArrayD<f64> = array![0.0].into_dyn();
    /// let (loss, _grad) = Loss::SparseCategoricalCrossentropy { from_logits: true }.compute(&logits, &labels)?;
    /// let expected = -(2f64.exp() / (2f64.exp() + 2.0)).ln();
    /// assert!((loss - expected).abs() < 1e-12);
    /// # Ok::<(), cnn::CnnError>(())
    /// ```
    pub fn compute<T: Float>(
        self,
        predictions: &ArrayD<T>,
        targets: &ArrayD<T>,
    ) -> Result<(f64, ArrayD<T>), CnnError> {
        let (batch, classes) = rows(predictions)?;
        let dense_targets = match self {
            Loss::SparseCategoricalCrossentropy { .. } => {
                let labels = labels(targets, batch, classes)?;
                let mut one_hot = ArrayD::zeros(IxDyn(&[batch, classes]));
                for (row, &label) in labels.iter().enumerate() {
                    one_hot[[row, label]] = T::one();
                }
                one_hot
            }
            _ => {
                if targets.shape() != predictions.shape() {
                    return Err(self.targets_shape_error(predictions, targets));
                }
                targets.clone()
            }
        };
        let scale = 1.0 / batch as f64;
        let mut grad = ArrayD::zeros(predictions.raw_dim());
        let mut total = 0.0;
        for ((p, t), mut g) in predictions
            .lanes(Axis(1))
            .into_iter()
            .zip(dense_targets.lanes(Axis(1)))
            .zip(grad.lanes_mut(Axis(1)))
        {
            let p: Vec<f64> = p.iter().map(|v| v.to_f64_lossy()).collect();
            let t: Vec<f64> = t.iter().map(|v| v.to_f64_lossy()).collect();
            let (loss, row_grad) = match self {
                Loss::SparseCategoricalCrossentropy { from_logits: true } => logits_cross_entropy(&p, &t),
                Loss::CategoricalCrossentropy
                | Loss::SparseCategoricalCrossentropy { from_logits: false } => {
                    probability_cross_entropy(&p, &t)
                }
                Loss::MeanSquaredError => {
                    let k = p.len() as f64;
                    let loss = p.iter().zip(&t).map(|(p, t)| (p - t).powi(2)).sum::<f64>() / k;
                    (loss, p.iter().zip(&t).map(|(p, t)| 2.0 * (p - t) / k).collect())
                }
            };
            total += loss;
            for (g, v) in g.iter_mut().zip(row_grad) {
                *g = T::of(v * scale);
            }
        }
        Ok((total * scale, grad))
    }

    /// Targets whose shape differs from the predictions', for the losses that take one target
    /// row per prediction row; names the likely mistake when the targets are class indices.
    fn targets_shape_error<T: Float>(self, predictions: &ArrayD<T>, targets: &ArrayD<T>) -> CnnError {
        let batch = predictions.shape().first().copied().unwrap_or(0);
        let looks_sparse = matches!(targets.shape(), [rows] | [rows, 1] if *rows == batch);
        let expected = if looks_sparse && self == Loss::CategoricalCrossentropy {
            format!(
                "{:?} like the predictions (one one-hot row per sample; these targets look like class \
                 indices: use Loss::SparseCategoricalCrossentropy, or data::one_hot to encode them)",
                predictions.shape()
            )
        } else {
            format!("{:?} like the predictions", predictions.shape())
        };
        CnnError::shape("targets", expected, targets.shape())
    }

    /// How many rows of the batch are classified right: the arg-max of the prediction equals
    /// the label (sparse) or the arg-max of the target row.
    ///
    /// # Errors
    /// As [`compute`](Loss::compute).
    pub fn correct<T: Float>(self, predictions: &ArrayD<T>, targets: &ArrayD<T>) -> Result<usize, CnnError> {
        let (batch, classes) = rows(predictions)?;
        let truth = match self {
            Loss::SparseCategoricalCrossentropy { .. } => labels(targets, batch, classes)?,
            _ => {
                if targets.shape() != predictions.shape() {
                    return Err(self.targets_shape_error(predictions, targets));
                }
                targets.lanes(Axis(1)).into_iter().map(|row| argmax(row.iter().copied())).collect()
            }
        };
        Ok(predictions
            .lanes(Axis(1))
            .into_iter()
            .zip(truth)
            .filter(|(row, t)| argmax(row.iter().copied()) == *t)
            .count())
    }
}

/// The index of the largest value (the first one on ties).
pub fn argmax<T: Float>(values: impl Iterator<Item = T>) -> usize {
    let mut best = (0, T::neg_infinity());
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

fn rows<T>(predictions: &ArrayD<T>) -> Result<(usize, usize), CnnError> {
    match predictions.shape() {
        &[batch, classes] if batch > 0 && classes > 0 => Ok((batch, classes)),
        other => Err(CnnError::shape("predictions", "[batch >= 1, classes >= 1]", other)),
    }
}

/// The class indices of sparse targets, checked.
fn labels<T: Float>(targets: &ArrayD<T>, batch: usize, classes: usize) -> Result<Vec<usize>, CnnError> {
    let ok_shape = targets.shape() == [batch] || targets.shape() == [batch, 1];
    if !ok_shape {
        return Err(CnnError::shape("sparse targets", format!("[{batch}] or [{batch}, 1]"), targets.shape()));
    }
    targets
        .iter()
        .enumerate()
        .map(|(row, &v)| {
            let value = v.to_f64_lossy();
            if value >= 0.0 && value.fract() == 0.0 && value < classes as f64 {
                Ok(value as usize)
            } else {
                Err(CnnError::Label { row, label: value.to_string(), classes })
            }
        })
        .collect()
}

/// Cross-entropy of logits against target rows, and its gradient `softmax(z) * sum(t) - t`.
fn logits_cross_entropy(z: &[f64], t: &[f64]) -> (f64, Vec<f64>) {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_sum = z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
    let total_t: f64 = t.iter().sum();
    // Only classes with target weight count: a -inf logit of another class adds nothing (its
    // `0 * -inf` would be NaN), as in Keras, which reads the label's log-probability alone.
    let loss =
        -z.iter().zip(t).filter(|(_, t)| **t != 0.0).map(|(z, t)| t * (z - max - log_sum)).sum::<f64>();
    let grad = z.iter().zip(t).map(|(z, t)| (z - max - log_sum).exp() * total_t - t).collect();
    (loss, grad)
}

/// Cross-entropy of probability rows (normalised, clipped) against target rows, and its exact
/// gradient (zero through clipped entries).
fn probability_cross_entropy(p: &[f64], t: &[f64]) -> (f64, Vec<f64>) {
    let sum: f64 = p.iter().sum();
    let q: Vec<f64> = p.iter().map(|v| v / sum).collect();
    let clipped = |v: f64| v.clamp(EPSILON, 1.0 - EPSILON);
    let loss = -q.iter().zip(t).map(|(&q, t)| t * clipped(q).ln()).sum::<f64>();
    let d_q: Vec<f64> = q
        .iter()
        .zip(t)
        .map(|(&q, t)| if (EPSILON..=1.0 - EPSILON).contains(&q) { -t / q } else { 0.0 })
        .collect();
    let weighted: f64 = d_q.iter().zip(&q).map(|(d, q)| d * q).sum();
    (loss, d_q.iter().map(|d| (d - weighted) / sum).collect())
}
