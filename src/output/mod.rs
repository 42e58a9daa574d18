//! Outputs: where observations and figures go — the trace file, the reports and the live
//! exporters (Prometheus `/metrics`).

pub mod colour;
pub mod compare;
pub mod html;
pub mod live;
pub mod otlp;
pub mod private_file;
pub mod prometheus;
pub mod report;
pub mod statusline;
pub mod top;
pub mod trace;
