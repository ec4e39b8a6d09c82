//! The 8x8 handwritten digits (scikit-learn's `load_digits`), vendored in `crates/cnn/data`.

use std::io::Read;
use std::path::Path;

use ndarray::{ArrayD, IxDyn};

use super::Dataset;
use crate::error::{CnnError, DataError};
use crate::float::Float;

const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// The 1,797 digits, images `[1797, 8, 8, 1]` with pixel values 0..16 (unscaled, as
/// scikit-learn gives them) and labels 0..9. The data ship inside the crate.
///
/// # Errors
/// [`DataError`] only if the embedded file were corrupt.
///
/// # Examples
/// ```
/// let digits = cnn::data::load_digits::<f64>()?;
/// assert_eq!(digits.images.shape(), &[1797, 8, 8, 1]);
/// assert_eq!(digits.labels[..5], [0, 1, 2, 3, 4]);
/// # Ok::<(), cnn::CnnError>(())
/// ```
pub fn load_digits<T: Float>() -> Result<Dataset<T>, CnnError> {
    let path = Path::new("crates/cnn/data/digits.csv.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .map_err(|source| DataError::Io { path: path.into(), source })?;
    Ok(parse_digits_csv(&text, path)?)
}

/// Parses digits CSV text: one image per line, 64 pixel values (0..=16) then the label (0..=9).
///
/// # Errors
/// [`DataError::Malformed`] naming the line and field of the first bad value.
pub fn parse_digits_csv<T: Float>(text: &str, path: &Path) -> Result<Dataset<T>, DataError> {
    let malformed = |line: usize, reason: String| DataError::Malformed {
        path: path.into(),
        reason: format!("line {line}: {reason}"),
    };
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 65 {
            return Err(malformed(
                number,
                format!("{} fields, expected 65 (64 pixels and a label)", fields.len()),
            ));
        }
        for (column, field) in fields.iter().enumerate() {
            let value: u8 = field.trim().parse().map_err(|_| {
                malformed(number, format!("field {} is `{field}`, not an integer", column + 1))
            })?;
            let limit = if column == 64 { 9 } else { 16 };
            if value > limit {
                return Err(malformed(number, format!("field {} is {value}, above {limit}", column + 1)));
            }
            if column == 64 {
                labels.push(usize::from(value));
            } else {
                pixels.push(T::of(f64::from(value)));
            }
        }
    }
    if labels.is_empty() {
        return Err(DataError::Malformed { path: path.into(), reason: "no images".into() });
    }
    let images = ArrayD::from_shape_vec(IxDyn(&[labels.len(), 8, 8, 1]), pixels)
        .map_err(|e| DataError::Malformed { path: path.into(), reason: e.to_string() })?;
    Ok(Dataset { images, labels })
}
