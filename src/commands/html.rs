//! The `--html DIR` option of `report`, `simulate` and `demo`: check DIR before the work,
//! write the page after it, say where it went.

use std::path::Path;

use crate::error::InputError;
use crate::output::html::{HtmlError, HtmlTarget};

/// Checks DIR against the overwrite policy (nothing is written yet).
pub fn target(dir: &Path) -> anyhow::Result<HtmlTarget> {
    HtmlTarget::check(dir).map_err(|e| InputError::new(e.to_string()).into())
}

/// A failed write as the exit code should see it: the directory is the user's to fix (2),
/// a chart that cannot be drawn is a bug (1).
pub fn error(err: HtmlError) -> anyhow::Error {
    match err {
        HtmlError::Target(e) => InputError::new(e.to_string()).into(),
        HtmlError::Chart(e) => e.into(),
    }
}

/// Tells the user where the page is, on stderr (stdout carries only the report or its JSON).
/// A closed stderr is no reason to fail a report that was written.
pub fn announce(index: &Path) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "agentprof: wrote HTML report {}",
        index.display()
    );
}
