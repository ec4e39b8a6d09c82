//! The element types a network computes in.

use conv_core::ConvNum;

/// `f32` or `f64`: what conv-core computes in, plus what initialisation and the weights file
/// format need.
pub trait Float: ConvNum + rand::distr::uniform::SampleUniform {
    /// The safetensors dtype of this type.
    const DTYPE: safetensors::Dtype;

    /// Little-endian bytes of `values`, as safetensors stores them.
    fn to_le_bytes(values: &[Self]) -> Vec<u8>;

    /// The values stored little-endian in `bytes` (whose length is a multiple of the size).
    fn from_le_bytes(bytes: &[u8]) -> Vec<Self>;

    /// Converts an `f64` hyper-parameter into this type.
    fn of(value: f64) -> Self {
        Self::from_f64_lossy(value)
    }
}

impl Float for f32 {
    const DTYPE: safetensors::Dtype = safetensors::Dtype::F32;

    fn to_le_bytes(values: &[Self]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn from_le_bytes(bytes: &[u8]) -> Vec<Self> {
        bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    }
}

impl Float for f64 {
    const DTYPE: safetensors::Dtype = safetensors::Dtype::F64;

    fn to_le_bytes(values: &[Self]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn from_le_bytes(bytes: &[u8]) -> Vec<Self> {
        bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect()
    }
}
