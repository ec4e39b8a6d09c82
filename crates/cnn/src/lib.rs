//! # cnn
//!
//! Convolutional layers, pooling, dense layers, losses and optimizers, generic over the
//! `conv-core` backend.
//!
//! Not built yet: this crate is a placeholder in the workspace so that the layout is in place;
//! its issue ("cnn: layers generic over the conv backend") builds it.
