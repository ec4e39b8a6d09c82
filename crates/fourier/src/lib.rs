//! # fourier
//!
//! Square waves, Fourier series coefficients, partial sums and the convolution theorem.
//!
//! Not built yet: this crate is a placeholder in the workspace so that the layout is in place;
//! its issue ("fourier: square waves, Fourier series, driven oscillators and the convolution
//! theorem") builds it on top of `conv-core`.
