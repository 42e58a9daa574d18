//! The simulation as `agentprof.simulation/v1` JSON.

use std::io::Write;

use crate::simulate::results::Simulation;

/// Writes pretty JSON followed by a newline.
pub fn write(simulation: &Simulation, out: &mut impl Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, simulation).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}
