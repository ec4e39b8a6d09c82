//! Data sets: the vendored 8x8 digits, MNIST (IDX files) and CIFAR-10 (binary batches), plus
//! the seeded split and one-hot encoding the experiments use.
//!
//! Images come as `[n, height, width, channels]` tensors; labels as class indices.

mod cifar;
mod digits;
mod mnist;

pub use cifar::{CIFAR10_CLASSES, load_cifar10, read_cifar10_batch};
pub use digits::{load_digits, parse_digits_csv};
pub use mnist::{IdxArray, load_mnist, load_mnist_10k, read_idx, read_idx_file};

use std::path::Path;

use ndarray::{ArrayD, Axis, IxDyn};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::{CnnError, DataError};
use crate::float::Float;

/// Images and their labels.
#[derive(Clone, Debug)]
pub struct Dataset<T> {
    /// `[n, height, width, channels]`.
    pub images: ArrayD<T>,
    /// One class index per image.
    pub labels: Vec<usize>,
}

impl<T: Float> Dataset<T> {
    /// The number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The labels as a `[n]` tensor of class indices (targets of the sparse losses).
    pub fn sparse_labels(&self) -> ArrayD<T> {
        ArrayD::from_shape_fn(IxDyn(&[self.len()]), |i| T::of(self.labels[i[0]] as f64))
    }

    /// The samples at `indices`, in that order.
    ///
    /// # Errors
    /// [`CnnError::InvalidParameter`] if an index is not below [`len`](Dataset::len).
    pub fn select(&self, indices: &[usize]) -> Result<Dataset<T>, CnnError> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(CnnError::InvalidParameter {
                name: "indices",
                value: bad.to_string(),
                reason: "every index must be below the number of samples",
            });
        }
        Ok(Dataset {
            images: self.images.select(Axis(0), indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        })
    }

    /// Splits into a shuffled train and test part, like scikit-learn's `train_test_split`: the
    /// test part has `ceil(test_fraction * n)` samples, the permutation is seeded.
    ///
    /// # Errors
    /// [`CnnError::InvalidParameter`] unless `0 < test_fraction < 1` leaves both parts non-empty.
    ///
    /// # Examples
    /// ```
    /// let digits = cnn::data::load_digits::<f32>()?;
    /// let (train, test) = digits.train_test_split(0.2, 0)?;
    /// assert_eq!((train.len(), test.len()), (1437, 360));
    /// # Ok::<(), cnn::CnnError>(())
    /// ```
    pub fn train_test_split(
        &self,
        test_fraction: f64,
        seed: u64,
    ) -> Result<(Dataset<T>, Dataset<T>), CnnError> {
        let n = self.len();
        let test = (test_fraction * n as f64).ceil();
        if !(test_fraction > 0.0 && test_fraction < 1.0) || test < 1.0 || test >= n as f64 {
            return Err(CnnError::InvalidParameter {
                name: "test_size",
                value: format!("{test_fraction} of {n} samples"),
                reason: "must be in (0, 1) and leave both parts non-empty",
            });
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let (test_part, train_part) = order.split_at(test as usize);
        Ok((self.select(train_part)?, self.select(test_part)?))
    }
}

/// One-hot rows `[n, classes]` for class indices.
///
/// # Errors
/// [`CnnError::Label`] for a label `>= classes`.
///
/// # Examples
/// ```
/// let y = cnn::data::one_hot::<f32>(&[2, 0], 3)?;
/// assert_eq!(y.as_slice().unwrap(), &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
/// # Ok::<(), cnn::CnnError>(())
/// ```
pub fn one_hot<T: Float>(labels: &[usize], classes: usize) -> Result<ArrayD<T>, CnnError> {
    if let Some((row, &label)) = labels.iter().enumerate().find(|&(_, &l)| l >= classes) {
        return Err(CnnError::Label { row, label: label.to_string(), classes });
    }
    crate::layers::parameter_values("classes", &[labels.len(), classes])?;
    Ok(ArrayD::from_shape_fn(IxDyn(&[labels.len(), classes]), |i| {
        if labels[i[0]] == i[1] { T::one() } else { T::zero() }
    }))
}

/// The most bytes a gzipped data file may inflate to: 512 MiB (MNIST's largest file is 47 MB).
pub const MAX_DECOMPRESSED_BYTES: u64 = 512 << 20;

/// Reads a whole file, gunzipping it when it starts with the gzip magic bytes. Neither the
/// file nor what it inflates to may exceed [`MAX_DECOMPRESSED_BYTES`]: a gzip bomb (18 MB that
/// inflate to 4 GiB), a huge file or an endless one (`/dev/zero`) stops at the cap.
pub(crate) fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, DataError> {
    let io = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::NotFound => DataError::Missing { path: path.into(), hint: String::new() },
        _ => DataError::Io { path: path.into(), source },
    };
    let over_cap = |what: &str| DataError::Malformed {
        path: path.into(),
        reason: format!("{what} more than {MAX_DECOMPRESSED_BYTES} bytes (the cap for a data file)"),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let bytes = read_at_most(file, MAX_DECOMPRESSED_BYTES).map_err(io)?.ok_or_else(|| over_cap("holds"))?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    read_at_most(flate2::read::GzDecoder::new(&bytes[..]), MAX_DECOMPRESSED_BYTES)
        .map_err(|source| DataError::Io { path: path.into(), source })?
        .ok_or_else(|| over_cap("inflates to"))
}

/// Everything `reader` yields when that is at most `cap` bytes; `None` when it yields more, in
/// which case it is read no further than `cap + 1` bytes. The one bounded read behind the data
/// files, their gzip inflation and the weights files.
///
/// # Errors
/// The reader's own.
pub(crate) fn read_at_most(reader: impl std::io::Read, cap: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= cap).then_some(bytes))
}
