//! Rendering a simulation: JSON for scripts, tables for people.

pub mod json;
pub mod table;
