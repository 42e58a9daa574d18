//! Where agentprof's own log lines go.
//!
//! While an agent runs, the terminal belongs to it: `run` and `proxy` log to a file beside the
//! trace (`<trace>.log`). Other commands log warnings to stderr. `AGENTPROF_LOG` sets the
//! filter (`debug`, `agentprof=trace`, …).

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_env("AGENTPROF_LOG").unwrap_or_else(|_| EnvFilter::new(default))
}

/// Logs to `<trace>.log`; falls back to no logging if that file cannot be created (the trace
/// itself reports its own problems).
pub fn init_file(trace: &Path) {
    let mut name = trace.as_os_str().to_owned();
    name.push(".log");
    let path = Path::new(&name);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(parent);
    }
    let Ok(file) = crate::output::private_file::append_private(path) else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter("info"))
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
}

/// Logs warnings (or what `AGENTPROF_LOG` asks for) to stderr; in colour only on a terminal
/// and without `NO_COLOR`, so a log captured by a script or CI is plain text.
pub fn init_stderr() {
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter("warn"))
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .try_init();
}
