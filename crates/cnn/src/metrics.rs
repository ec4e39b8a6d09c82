//! Classification metrics beyond accuracy: the confusion matrix, per-class precision, recall
//! and F1 (scikit-learn's `classification_report`), and top-k accuracy (Keras's
//! `TopKCategoricalAccuracy`).
//!
//! ```
//! use cnn::metrics::{classification_report, confusion_matrix};
//! let truth = [0, 0, 1, 1, 2, 2];
//! let predicted = [0, 1, 1, 1, 2, 0];
//! let matrix = confusion_matrix(&truth, &predicted, 3)?;
//! assert_eq!(matrix.row(0).to_vec(), [1, 1, 0]); // class 0: one right, one taken for 1
//! let report = classification_report(&truth, &predicted, 3)?;
//! assert_eq!(report.classes[1].recall, 1.0);
//! assert!((report.classes[1].precision - 2.0 / 3.0).abs() < 1e-12);
//! println!("{report}");
//! # Ok::<(), cnn::CnnError>(())
//! ```

use std::fmt;

use ndarray::{Array2, ArrayBase, Data, Ix2};

use crate::error::CnnError;
use crate::float::Float;
use crate::loss::argmax;

/// Checks that both label lists have the same length and every label is below `classes`.
fn check_labels(truth: &[usize], predicted: &[usize], classes: usize) -> Result<(), CnnError> {
    if truth.len() != predicted.len() {
        return Err(CnnError::shape(
            "predicted labels",
            format!("{} labels like the truth", truth.len()),
            &[predicted.len()],
        ));
    }
    for (row, &label) in truth.iter().chain(predicted).enumerate() {
        if label >= classes {
            return Err(CnnError::Label { row: row % truth.len().max(1), label: label.to_string(), classes });
        }
    }
    Ok(())
}

/// `matrix[[t, p]]`: how many samples of true class `t` were predicted as `p` (rows are the
/// truth, as scikit-learn's `confusion_matrix`).
///
/// # Errors
/// [`CnnError::Shape`] for lists of different lengths, [`CnnError::Label`] for a label not
/// below `classes`.
pub fn confusion_matrix(
    truth: &[usize],
    predicted: &[usize],
    classes: usize,
) -> Result<Array2<usize>, CnnError> {
    check_labels(truth, predicted, classes)?;
    crate::layers::parameter_values("classes", &[classes, classes])?;
    let mut matrix = Array2::zeros((classes, classes));
    for (&t, &p) in truth.iter().zip(predicted) {
        matrix[[t, p]] += 1;
    }
    Ok(matrix)
}

/// The class with the highest score in each row of `scores` (`[samples, classes]`).
pub fn predicted_classes<T: Float, S: Data<Elem = T>>(scores: &ArrayBase<S, Ix2>) -> Vec<usize> {
    scores.rows().into_iter().map(|row| argmax(row.iter().copied())).collect()
}

/// Precision, recall, F1 and support of one class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassScores {
    /// Of the samples predicted as this class, the fraction that are (0 when none are).
    pub precision: f64,
    /// Of the samples of this class, the fraction predicted as it (0 when there are none).
    pub recall: f64,
    /// The harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Samples of this class.
    pub support: usize,
}

/// scikit-learn's `classification_report`: scores per class, accuracy, and the macro
/// (unweighted) and weighted (by support) averages. `Display` prints the same table.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassificationReport {
    /// One entry per class, in class order.
    pub classes: Vec<ClassScores>,
    /// Fraction of samples predicted right.
    pub accuracy: f64,
    /// The mean of each score over the classes.
    pub macro_avg: ClassScores,
    /// The mean of each score over the classes weighted by support.
    pub weighted_avg: ClassScores,
}

/// The [`ClassificationReport`] of `predicted` against `truth`. Undefined ratios (no sample
/// predicted as a class, or none of it) are 0, as scikit-learn's `zero_division=0`.
///
/// # Errors
/// As [`confusion_matrix`].
pub fn classification_report(
    truth: &[usize],
    predicted: &[usize],
    classes: usize,
) -> Result<ClassificationReport, CnnError> {
    let matrix = confusion_matrix(truth, predicted, classes)?;
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let per_class: Vec<ClassScores> = (0..classes)
        .map(|c| {
            let right = matrix[[c, c]];
            let (predicted_as, support) = (matrix.column(c).sum(), matrix.row(c).sum());
            let (precision, recall) = (ratio(right, predicted_as), ratio(right, support));
            let f1 =
                if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
            ClassScores { precision, recall, f1, support }
        })
        .collect();
    let total = truth.len();
    let average = |weight: &dyn Fn(&ClassScores) -> f64| {
        let weights: f64 = per_class.iter().map(weight).sum();
        let mean = |score: &dyn Fn(&ClassScores) -> f64| {
            if weights == 0.0 {
                0.0
            } else {
                per_class.iter().map(|c| weight(c) * score(c)).sum::<f64>() / weights
            }
        };
        ClassScores {
            precision: mean(&|c| c.precision),
            recall: mean(&|c| c.recall),
            f1: mean(&|c| c.f1),
            support: total,
        }
    };
    let right: usize = (0..classes).map(|c| matrix[[c, c]]).sum();
    Ok(ClassificationReport {
        accuracy: ratio(right, total),
        macro_avg: average(&|_| 1.0),
        weighted_avg: average(&|c| c.support as f64),
        classes: per_class,
    })
}

impl fmt::Display for ClassificationReport {
    /// scikit-learn's layout: `precision recall f1-score support` per class, then accuracy and
    /// the two averages, two decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:>12} {:>9} {:>9} {:>9} {:>9}\n", "", "precision", "recall", "f1-score", "support")?;
        let line = |f: &mut fmt::Formatter<'_>, name: &str, s: &ClassScores| {
            writeln!(f, "{name:>12} {:>9.2} {:>9.2} {:>9.2} {:>9}", s.precision, s.recall, s.f1, s.support)
        };
        for (class, scores) in self.classes.iter().enumerate() {
            line(f, &class.to_string(), scores)?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:>12} {:>9} {:>9} {:>9.2} {:>9}",
            "accuracy", "", "", self.accuracy, self.macro_avg.support
        )?;
        line(f, "macro avg", &self.macro_avg)?;
        line(f, "weighted avg", &self.weighted_avg)
    }
}

/// The fraction of rows of `scores` (`[samples, classes]`) whose true class is among the `k`
/// highest scores (Keras's `top_k_categorical_accuracy`; a score tied with the k-th counts as
/// in, as `in_top_k` does).
///
/// # Errors
/// [`CnnError::Shape`] if `labels` has another number of rows, [`CnnError::Label`] for a
/// label not below the number of classes, [`CnnError::InvalidParameter`] for `k == 0`.
pub fn top_k_accuracy<T: Float, S: Data<Elem = T>>(
    scores: &ArrayBase<S, Ix2>,
    labels: &[usize],
    k: usize,
) -> Result<f64, CnnError> {
    let (samples, classes) = scores.dim();
    if k == 0 {
        return Err(CnnError::InvalidParameter { name: "k", value: "0".into(), reason: "must be >= 1" });
    }
    if labels.len() != samples || samples == 0 {
        return Err(CnnError::shape("labels", format!("{samples} labels, one per row"), &[labels.len()]));
    }
    let mut hits = 0;
    for (row, (scores, &label)) in scores.rows().into_iter().zip(labels).enumerate() {
        let Some(&own) = scores.get(label) else {
            return Err(CnnError::Label { row, label: label.to_string(), classes });
        };
        let higher = scores.iter().filter(|&&s| s > own).count();
        hits += usize::from(higher < k && own.is_finite());
    }
    Ok(hits as f64 / samples as f64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_report_matches_scikit_learn_on_a_worked_example() {
        // sklearn.metrics.classification_report([0,0,0,1,1,2,2,2,2], [0,1,0,1,1,2,0,2,1]):
        // class 0: P 2/3, R 2/3; class 1: P 2/4, R 2/2; class 2: P 2/2, R 2/4; accuracy 6/9.
        let truth = [0, 0, 0, 1, 1, 2, 2, 2, 2];
        let predicted = [0, 1, 0, 1, 1, 2, 0, 2, 1];
        let report = classification_report(&truth, &predicted, 3).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(report.classes[0].precision, 2.0 / 3.0) && close(report.classes[0].recall, 2.0 / 3.0));
        assert!(close(report.classes[1].precision, 0.5) && close(report.classes[1].recall, 1.0));
        assert!(close(report.classes[1].f1, 2.0 / 3.0));
        assert!(close(report.classes[2].precision, 1.0) && close(report.classes[2].recall, 0.5));
        assert!(close(report.accuracy, 6.0 / 9.0));
        assert!(close(report.macro_avg.recall, (2.0 / 3.0 + 1.0 + 0.5) / 3.0));
        assert!(close(report.weighted_avg.recall, report.accuracy), "weighted recall is accuracy");
        assert_eq!(confusion_matrix(&truth, &predicted, 3).unwrap().sum(), 9);
        assert!(report.to_string().contains("weighted avg"));
    }

    #[test]
    fn top_k_counts_ties_and_refuses_bad_labels() {
        let scores = ndarray::arr2(&[[0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.8, 0.1, 0.1]]);
        assert_eq!(top_k_accuracy(&scores, &[0, 0, 1], 1).unwrap(), 0.0);
        // Row 0's class is third; row 1's ties for second place, row 2's too: both in the top 2.
        assert!((top_k_accuracy(&scores, &[0, 0, 1], 2).unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(top_k_accuracy(&scores, &[0, 0, 1], 3).unwrap(), 1.0);
        assert!(top_k_accuracy(&scores, &[2, 0, 3], 1).is_err());
        assert!(top_k_accuracy(&scores, &[2, 0], 1).is_err());
        assert!(top_k_accuracy(&scores, &[2, 0, 1], 0).is_err());
        assert!(confusion_matrix(&[0, 4], &[0, 1], 3).is_err());
        assert_eq!(predicted_classes(&scores), [1, 2, 0]);
    }
}
