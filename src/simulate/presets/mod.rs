//! The built-in scenarios, compiled into the binary from the TOML files beside this module.
//!
//! Each file says, parameter by parameter, where its numbers come from: a line of the
//! project's facts (a measured figure, a price, a published report) or "assumption" (then
//! `--calibrate TRACE` replaces it with what a real trace shows).

/// `(name, TOML text)`, in the order `--help` lists them.
const PRESETS: &[(&str, &str)] = &[
    ("today-200k", include_str!("today-200k.toml")),
    ("1m-context", include_str!("1m-context.toml")),
    ("swarm", include_str!("swarm.toml")),
    ("daemon", include_str!("daemon.toml")),
    ("seed-workstation", include_str!("seed-workstation.toml")),
];

/// The preset used when neither `--preset` nor `--scenario` is given.
pub const DEFAULT: &str = "today-200k";

/// Every preset name.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|(name, _)| *name).collect()
}

/// The TOML text of a preset.
pub fn text(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
