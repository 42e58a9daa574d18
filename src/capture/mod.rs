//! Capture: everything agentprof observes, turned into [observations](crate::observation).
//!
//! - [`proxy`]: the streaming reverse proxy between the agent and its model APIs;
//! - [`sse`] and [`usage`]: reading token usage from response bytes as they stream;
//! - [`request`]: reading the few facts classification needs from a request body;
//! - [`sampler`]: the memory of the agent's whole process tree, on its own thread.

pub mod http_client;
pub mod proxy;
pub mod redact;
pub mod request;
pub mod sampler;
pub mod sse;
pub mod telemetry;
pub mod transcripts;
pub mod usage;
