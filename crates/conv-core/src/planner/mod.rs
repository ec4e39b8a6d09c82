//! Choosing a backend: the [`Auto`] planner, the cost model it predicts with ([`cost`]) and the
//! registry of backends it chooses among ([`registry`]). The backends know nothing of this
//! module; the planner is their client.

mod auto;
pub mod cost;
pub mod registry;

pub(crate) use auto::dtype_name;
pub use auto::{Auto, Candidate, Explanation};
