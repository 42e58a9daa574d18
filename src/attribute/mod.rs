//! Attribution: from observations to figures charged to the work that caused them.
//!
//! Pure and synchronous: every function here takes observations (live or read back from a
//! trace) and returns numbers, so the same trace always yields the same report.

pub mod attribution;
pub mod compare;
pub mod cost;
pub mod findings;
pub mod intervals;
pub mod kv;
pub mod live_tally;
pub mod memory;
pub mod memory_attribution;
pub mod memory_growth;
pub mod other_requests;
pub mod period;
pub mod rows;
pub mod rules;
pub mod summary;
pub mod telemetry_join;
pub mod turns;
pub mod usage_totals;

pub use summary::{Summary, summarize};
pub use usage_totals::{Buckets, UsageTotals};
