//! The UI's words live in the `catalogue` crate (shared with the evidence pack the
//! backend writes); views use them through this module.

pub use catalogue::*;
