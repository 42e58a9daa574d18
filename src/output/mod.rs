//! Outputs: where observations and figures go — the trace file and the reports.

pub mod live;
pub mod otlp;
pub mod private_file;
pub mod report;
pub mod trace;
