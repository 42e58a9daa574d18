//! Passing SIGINT and SIGTERM on to the wrapped agent.
//!
//! A Ctrl-C at a terminal already reaches every process of the foreground process group — the
//! agent included. Forwarding it again would deliver it twice, and agents treat a double
//! Ctrl-C as "exit now". So SIGINT is forwarded only when agentprof is not the terminal's
//! foreground job (someone ran `kill -INT` on it, or there is no terminal); SIGTERM and SIGHUP,
//! which a terminal does not broadcast that way, are always forwarded.

use std::process::ExitStatus;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::Child;
use tokio::signal::unix::{SignalKind, signal};

/// Waits for the child, forwarding signals agentprof receives meanwhile.
pub async fn wait_forwarding(child: &mut Child) -> std::io::Result<ExitStatus> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    loop {
        let forward = tokio::select! {
            status = child.wait() => return status,
            _ = interrupt.recv() => (!terminal_already_delivered()).then_some(Signal::SIGINT),
            _ = terminate.recv() => Some(Signal::SIGTERM),
            _ = hangup.recv() => Some(Signal::SIGHUP),
        };
        if let (Some(signal), Some(pid)) = (forward, child.id()) {
            // The child may have exited in between; nothing to do then.
            let _ = kill(Pid::from_raw(pid as i32), signal);
        }
    }
}

/// Whether a SIGINT we got most likely came from the terminal to our whole process group.
fn terminal_already_delivered() -> bool {
    let stdin = std::io::stdin();
    match nix::unistd::tcgetpgrp(&stdin) {
        Ok(foreground) => foreground == nix::unistd::getpgrp(),
        Err(_) => false,
    }
}
