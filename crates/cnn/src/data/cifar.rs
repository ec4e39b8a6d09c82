//! The binary version of CIFAR-10.

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};

use super::{Dataset, read_maybe_gzip};
use crate::error::{CnnError, DataError};
use crate::float::Float;

/// The ten class names, in label order.
pub const CIFAR10_CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

const SIDE: usize = 32;
const RECORD: usize = 1 + 3 * SIDE * SIDE;

/// Parses one CIFAR-10 binary batch: records of a label byte and 3,072 pixel bytes (the red,
/// green and blue 32x32 planes), into images `[n, 32, 32, 3]` scaled to `[0, 1]`.
///
/// # Errors
/// [`DataError::Truncated`] when the length is not a whole number of records,
/// [`DataError::Malformed`] for an empty batch or a label above 9.
pub fn read_cifar10_batch<T: Float>(bytes: &[u8], path: &Path) -> Result<Dataset<T>, DataError> {
    if bytes.is_empty() {
        return Err(DataError::Malformed { path: path.into(), reason: "empty batch".into() });
    }
    if !bytes.len().is_multiple_of(RECORD) {
        let expected = bytes.len().div_ceil(RECORD) * RECORD;
        return Err(DataError::Truncated {
            path: path.into(),
            expected: expected as u64,
            got: bytes.len() as u64,
        });
    }
    let n = bytes.len() / RECORD;
    let mut labels = Vec::with_capacity(n);
    let mut pixels = vec![T::zero(); n * RECORD - n];
    for (index, record) in bytes.chunks_exact(RECORD).enumerate() {
        if record[0] > 9 {
            return Err(DataError::Malformed {
                path: path.into(),
                reason: format!("record {index} has label {}", record[0]),
            });
        }
        labels.push(usize::from(record[0]));
        let image = &mut pixels[index * 3 * SIDE * SIDE..][..3 * SIDE * SIDE];
        for (channel, plane) in record[1..].chunks_exact(SIDE * SIDE).enumerate() {
            for (position, &value) in plane.iter().enumerate() {
                image[position * 3 + channel] = T::of(f64::from(value) / 255.0);
            }
        }
    }
    let images = ArrayD::from_shape_vec(IxDyn(&[n, SIDE, SIDE, 3]), pixels)
        .map_err(|e| DataError::Malformed { path: path.into(), reason: e.to_string() })?;
    Ok(Dataset { images, labels })
}

fn batch_path(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    [dir.join(name), dir.join("cifar-10-batches-bin").join(name)].into_iter().find(|p| p.exists()).ok_or_else(|| {
        DataError::Missing {
            path: dir.join(name),
            hint: "; CIFAR-10's binary version (cifar-10-binary.tar.gz) is at https://www.cs.toronto.edu/~kriz/cifar.html, \
                   extract it and pass the directory"
                .into(),
        }
    })
}

fn concat<T: Float>(parts: Vec<Dataset<T>>) -> Result<Dataset<T>, CnnError> {
    let views: Vec<_> = parts.iter().map(|d| d.images.view()).collect();
    let images = ndarray::concatenate(ndarray::Axis(0), &views)
        .map_err(|_| CnnError::shape("CIFAR-10 batches", "[n, 32, 32, 3]", &[]))?;
    Ok(Dataset { images, labels: parts.into_iter().flat_map(|d| d.labels).collect() })
}

/// Loads CIFAR-10 from a directory holding `data_batch_1.bin` .. `data_batch_5.bin` and
/// `test_batch.bin` (directly or in `cifar-10-batches-bin/`), as `(train, test)`; only the first
/// `train_batches` (1..=5) training files are read.
///
/// # Errors
/// [`DataError::Missing`] naming the first missing file and saying where the data come from, and
/// the errors of [`read_cifar10_batch`].
pub fn load_cifar10<T: Float>(
    dir: impl AsRef<Path>,
    train_batches: usize,
) -> Result<(Dataset<T>, Dataset<T>), CnnError> {
    let dir = dir.as_ref();
    if !(1..=5).contains(&train_batches) {
        return Err(CnnError::InvalidParameter {
            name: "train_batches",
            value: train_batches.to_string(),
            reason: "must be 1..=5",
        });
    }
    let read = |name: &str| -> Result<Dataset<T>, DataError> {
        let path = batch_path(dir, name)?;
        read_cifar10_batch(&read_maybe_gzip(&path)?, &path)
    };
    let train =
        (1..=train_batches).map(|i| read(&format!("data_batch_{i}.bin"))).collect::<Result<Vec<_>, _>>()?;
    let test = read("test_batch.bin")?;
    Ok((concat(train)?, test))
}
