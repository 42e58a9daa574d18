//! The error that means "the user asked for something wrong" (exit code 2).
//!
//! Anything else that fails is an internal or environmental problem (exit code 1). Commands
//! wrap bad flags, unreadable inputs and malformed files in [`InputError`] so `main` can tell
//! the two apart.

/// Bad input: a flag, file or line the user can fix. The message names it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

impl InputError {
    pub fn new(message: impl Into<String>) -> InputError {
        InputError(message.into())
    }
}

/// Exit code for usage and input errors.
pub const EXIT_USAGE: i32 = 2;
/// Exit code for every other failure.
pub const EXIT_FAILURE: i32 = 1;

/// The exit code an error should produce.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if err
        .chain()
        .any(|cause| cause.downcast_ref::<InputError>().is_some())
    {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    }
}

/// Whether an error is a broken pipe on output (`agentprof report | head`): not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(cause_is_broken_pipe)
}

/// An I/O error of kind `BrokenPipe`, also when it travels inside a JSON writer's error (which
/// writers wrap again as an `io::Error` of another kind).
fn cause_is_broken_pipe(cause: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(json) = cause.downcast_ref::<serde_json::Error>() {
        return json.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe);
    }
    let Some(io) = cause.downcast_ref::<std::io::Error>() else {
        return false;
    };
    io.kind() == std::io::ErrorKind::BrokenPipe
        || io
            .get_ref()
            .is_some_and(|inner| cause_is_broken_pipe(inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipes_are_recognised_however_wrapped() {
        let plain = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&plain));
        let json = serde_json::Error::io(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        let wrapped =
            anyhow::Error::from(std::io::Error::other(json)).context("writing the report");
        assert!(is_broken_pipe(&wrapped));
        let other = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(!is_broken_pipe(&other));
    }
}
