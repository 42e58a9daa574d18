//! Attribution: from observations to figures charged to the work that caused them.
//!
//! Pure and synchronous: every function here takes observations (live or read back from a
//! trace) and returns numbers, so the same trace always yields the same report.

pub mod classify;
pub mod kv;
pub mod memory;
pub mod summary;
pub mod usage_totals;

pub use summary::{Summary, summarize};
pub use usage_totals::UsageTotals;
