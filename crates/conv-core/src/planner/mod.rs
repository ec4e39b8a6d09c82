//! Choosing a backend: the [`Auto`] planner, the cost model it predicts with ([`cost`]) and the
//! registry of backends it chooses among ([`registry`]). The backends know nothing of this
//! module; the planner is their client.

mod auto;
#[cfg(feature = "calibration")]
pub mod calibration;
pub mod cost;
pub mod registry;

#[cfg(feature = "calibration")]
pub(crate) use auto::dtype_name;
pub use auto::{Auto, Candidate, Explanation};
