//! The IDX format of MNIST (raw or gzip-compressed).

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};

use super::{Dataset, read_maybe_gzip};
use crate::error::{CnnError, DataError};
use crate::float::Float;

/// An IDX array of unsigned bytes: its dimensions and its values, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions from the header.
    pub dims: Vec<usize>,
    /// `dims.iter().product()` bytes.
    pub data: Vec<u8>,
}

/// Parses IDX bytes: magic `0x0000_08nn` (unsigned bytes, `nn` dimensions), `nn` big-endian
/// `u32` dimensions, then the data. The size is checked against the header before anything is
/// allocated.
///
/// # Errors
/// [`DataError::BadMagic`] for another magic number or element type, [`DataError::Truncated`]
/// when the file is shorter than its header says, [`DataError::Malformed`] for trailing bytes
/// or dimensions whose product overflows.
pub fn read_idx(bytes: &[u8], path: &Path) -> Result<IdxArray, DataError> {
    let truncated =
        |expected: u64| DataError::Truncated { path: path.into(), expected, got: bytes.len() as u64 };
    let magic_bytes: [u8; 4] = bytes.get(..4).and_then(|b| b.try_into().ok()).ok_or_else(|| truncated(4))?;
    let magic = u32::from_be_bytes(magic_bytes);
    if magic_bytes[..3] != [0, 0, 0x08] || magic_bytes[3] == 0 {
        return Err(DataError::BadMagic { path: path.into(), format: "IDX unsigned-byte", found: magic });
    }
    let rank = usize::from(magic_bytes[3]);
    let header = 4 + 4 * rank;
    let dims: Vec<usize> = bytes
        .get(4..header)
        .ok_or_else(|| truncated(header as u64))?
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(header as u64, |acc, &d| {
            if d == 0 {
                Some(acc)
            } else {
                (acc - header as u64).max(1).checked_mul(d as u64).map(|p| p + header as u64)
            }
        })
        .ok_or_else(|| DataError::Malformed {
            path: path.into(),
            reason: format!("dimensions {dims:?} overflow"),
        })?;
    let expected = if dims.contains(&0) { header as u64 } else { expected };
    if (bytes.len() as u64) < expected {
        return Err(truncated(expected));
    }
    if bytes.len() as u64 > expected {
        return Err(DataError::Malformed {
            path: path.into(),
            reason: format!(
                "{} bytes after the {expected} the header describes",
                bytes.len() as u64 - expected
            ),
        });
    }
    Ok(IdxArray { dims, data: bytes[header..].to_vec() })
}

/// Reads an IDX file, gunzipping it if needed.
///
/// # Errors
/// [`DataError::Missing`] if the file does not exist, and as [`read_idx`].
pub fn read_idx_file(path: &Path) -> Result<IdxArray, DataError> {
    read_idx(&read_maybe_gzip(path)?, path)
}

/// `dir/name`, or `dir/name.gz` when only that exists.
fn find(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    let plain = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    if plain.exists() {
        Ok(plain)
    } else if gz.exists() {
        Ok(gz)
    } else {
        Err(DataError::Missing {
            path: plain,
            hint:
                " (nor .gz); MNIST's four IDX files are at https://yann.lecun.com/exdb/mnist/ and its mirrors"
                    .into(),
        })
    }
}

fn load_split<T: Float>(dir: &Path, prefix: &str) -> Result<Dataset<T>, DataError> {
    let images_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let images = read_idx_file(&images_path)?;
    let labels = read_idx_file(&labels_path)?;
    dataset((images, &images_path), (labels, &labels_path))
}

/// Images `[n, h, w]` and labels `[n]` (digits) as a dataset, pixels scaled to `[0, 1]`.
fn dataset<T: Float>(
    (images, images_path): (IdxArray, &Path),
    (labels, labels_path): (IdxArray, &Path),
) -> Result<Dataset<T>, DataError> {
    let &[n, height, width] = images.dims.as_slice() else {
        return Err(DataError::Malformed {
            path: images_path.into(),
            reason: format!("images have dimensions {:?}, not [n, h, w]", images.dims),
        });
    };
    if labels.dims != [n] {
        return Err(DataError::Malformed {
            path: labels_path.into(),
            reason: format!("labels have dimensions {:?}, images {n}", labels.dims),
        });
    }
    if let Some(bad) = labels.data.iter().position(|&l| l > 9) {
        return Err(DataError::Malformed {
            path: labels_path.into(),
            reason: format!("label {} at index {bad} is not a digit", labels.data[bad]),
        });
    }
    let pixels = images.data.iter().map(|&p| T::of(f64::from(p) / 255.0)).collect();
    let images = ArrayD::from_shape_vec(IxDyn(&[n, height, width, 1]), pixels)
        .map_err(|e| DataError::Malformed { path: images_path.into(), reason: e.to_string() })?;
    Ok(Dataset { images, labels: labels.data.iter().map(|&l| usize::from(l)).collect() })
}

const MNIST_10K_IMAGES: &[u8] = include_bytes!("../../data/mnist-10k-images-idx3-ubyte.gz");
const MNIST_10K_LABELS: &[u8] = include_bytes!("../../data/mnist-10k-labels-idx1-ubyte.gz");

/// Ten thousand real MNIST digits that ship inside the crate (`crates/cnn/data`, with their
/// attribution): images `[10000, 28, 28, 1]` scaled to `[0, 1]`, labels 0..9, classes
/// interleaved (about 1,000 of each), so the first 8,000 and the last 2,000 make a train and a
/// test split without shuffling.
///
/// # Errors
/// [`DataError`] only if the embedded files were corrupt.
///
/// # Examples
/// ```
/// let mnist = cnn::data::load_mnist_10k::<f32>()?;
/// assert_eq!(mnist.images.shape(), &[10_000, 28, 28, 1]);
/// assert!(mnist.labels.iter().all(|&l| l < 10));
/// # Ok::<(), cnn::CnnError>(())
/// ```
pub fn load_mnist_10k<T: Float>() -> Result<Dataset<T>, CnnError> {
    let embedded = |bytes: &[u8], name: &str| -> Result<(IdxArray, PathBuf), DataError> {
        let path = PathBuf::from(format!("crates/cnn/data/{name}"));
        let inflated =
            super::read_at_most(flate2::read::GzDecoder::new(bytes), super::MAX_DECOMPRESSED_BYTES)
                .map_err(|source| DataError::Io { path: path.clone(), source })?
                .ok_or_else(|| DataError::Malformed {
                    path: path.clone(),
                    reason: "inflates past the cap".into(),
                })?;
        Ok((read_idx(&inflated, &path)?, path))
    };
    let (images, images_path) = embedded(MNIST_10K_IMAGES, "mnist-10k-images-idx3-ubyte.gz")?;
    let (labels, labels_path) = embedded(MNIST_10K_LABELS, "mnist-10k-labels-idx1-ubyte.gz")?;
    Ok(dataset((images, &images_path), (labels, &labels_path))?)
}

/// Loads MNIST from a directory holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` (each raw or with `.gz`), as
/// `(train, test)` with images `[n, 28, 28, 1]` scaled to `[0, 1]`.
///
/// # Errors
/// [`DataError::Missing`] naming the first missing file, and the errors of [`read_idx`].
pub fn load_mnist<T: Float>(dir: impl AsRef<Path>) -> Result<(Dataset<T>, Dataset<T>), CnnError> {
    let dir = dir.as_ref();
    Ok((load_split(dir, "train")?, load_split(dir, "t10k")?))
}
