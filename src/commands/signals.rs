//! Passing SIGINT, SIGTERM and SIGHUP on to the wrapped agent.
//!
//! A Ctrl-C (or a hang-up) at a terminal already reaches every process of the foreground
//! process group — the agent included. Forwarding it again would deliver it twice, and agents
//! treat a double Ctrl-C as "exit now". So SIGINT and SIGHUP are forwarded only when agentprof
//! is not the foreground job of its controlling terminal (someone ran `kill -INT` on it, or
//! there is no terminal); SIGTERM, which no terminal broadcasts, is always forwarded.

use std::process::ExitStatus;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::Child;
use tokio::signal::unix::{SignalKind, signal};

/// Signal streams, installed before the child starts.
pub struct Forwarder {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Forwarder {
    pub fn install() -> std::io::Result<Forwarder> {
        Ok(Forwarder {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits for the child, forwarding signals agentprof receives meanwhile.
    pub async fn wait(&mut self, child: &mut Child) -> std::io::Result<ExitStatus> {
        loop {
            let forward = tokio::select! {
                status = child.wait() => return status,
                _ = self.interrupt.recv() => (!terminal_already_delivered()).then_some(Signal::SIGINT),
                _ = self.terminate.recv() => Some(Signal::SIGTERM),
                _ = self.hangup.recv() => (!terminal_already_delivered()).then_some(Signal::SIGHUP),
            };
            if let (Some(signal), Some(pid)) = (forward, child.id()) {
                // The child may have exited in between; nothing to do then.
                let _ = kill(Pid::from_raw(pid as i32), signal);
            }
        }
    }
}

/// Whether a terminal-generated signal most likely reached our whole process group already:
/// we have a controlling terminal (whatever stdin is) and our group is its foreground group.
pub(super) fn terminal_already_delivered() -> bool {
    let Ok(tty) = std::fs::File::open("/dev/tty") else {
        return false;
    };
    match nix::unistd::tcgetpgrp(&tty) {
        Ok(foreground) => foreground == nix::unistd::getpgrp(),
        Err(_) => false,
    }
}
