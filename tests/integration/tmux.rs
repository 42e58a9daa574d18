//! A real terminal for an interactive agent: a detached tmux session on a tmux server of its
//! own (`tmux -L`), so tests running side by side never see each other's panes.
//!
//! The command runs under `env -i` with only the variables given, and writes its exit code to a
//! file when it ends; the pane stays open afterwards so its last screen can be read.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
    rc: PathBuf,
}

impl Tmux {
    /// Starts `command` (program and arguments) in `dir` with exactly `env`, in a 200×50
    /// terminal. The exit code lands in `state/rc`.
    pub fn start(state: &Path, dir: &Path, env: &[(&str, String)], command: &[String]) -> Tmux {
        let socket = format!(
            "agentprof-test-{}-{}",
            std::process::id(),
            state.file_name().unwrap().to_string_lossy()
        );
        let rc = state.join("rc");
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let env: Vec<String> = env
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        let command: Vec<String> = command.iter().map(|a| quote(a)).collect();
        let script = format!(
            "cd {} && env -i {} {}; echo $? > {}; exec sleep 86400",
            quote(&dir.display().to_string()),
            env.join(" "),
            command.join(" "),
            quote(&rc.display().to_string())
        );
        let tmux = Tmux { socket, rc };
        let status = tmux
            .tmux()
            .args(["new-session", "-d", "-x", "200", "-y", "50", "bash", "-c"])
            .arg(&script)
            .status()
            .unwrap_or_else(|e| {
                panic!("tmux: {e}: run scripts/test, which installs tmux from Debian's packages")
            });
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn tmux(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket]);
        command
    }

    /// What the terminal shows now (wrapped lines joined).
    pub fn pane(&self) -> String {
        let output = self
            .tmux()
            .args(["capture-pane", "-p", "-J"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The screen with its colours and attributes as escape sequences.
    pub fn pane_with_escapes(&self) -> String {
        let output = self
            .tmux()
            .args(["capture-pane", "-p", "-e"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Presses the key `name` (tmux key names: `q`, `Tab`, `3`).
    pub fn key(&self, name: &str) {
        let status = self.tmux().args(["send-keys", name]).status().unwrap();
        assert!(status.success());
    }

    /// Resizes the terminal to `width` × `height` (the program gets SIGWINCH).
    pub fn resize(&self, width: u16, height: u16) {
        let status = self
            .tmux()
            .args([
                "resize-window",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Types `text` as it is (no key names), without pressing Enter.
    pub fn type_text(&self, text: &str) {
        let status = self
            .tmux()
            .args(["send-keys", "-l", text])
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn enter(&self) {
        let status = self.tmux().args(["send-keys", "Enter"]).status().unwrap();
        assert!(status.success());
    }

    /// The command's exit code, once it has ended.
    pub fn exit_code(&self) -> Option<i32> {
        std::fs::read_to_string(&self.rc)
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// Polls `ready` every 100 ms until it holds, or fails after `limit` naming `what` and
    /// showing the screen. Fails at once if the command ended (unless `what` is its end).
    pub fn wait(&self, what: &str, limit: Duration, mut ready: impl FnMut(&Tmux) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            if ready(self) {
                return;
            }
            if let Some(code) = self.exit_code() {
                panic!(
                    "the command ended (exit code {code}) while waiting for {what}; screen:\n{}",
                    self.pane()
                );
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {limit:?} waiting for {what}; screen:\n{}",
                self.pane()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}
