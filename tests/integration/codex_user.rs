//! A Codex user for the tests: a `CODEX_HOME`, a work directory and a pinned Codex, kept across
//! runs as a user's are, and `agentprof run -- codex …` started the way a user starts it.

use std::path::{Path, PathBuf};

use agentprof::output::trace::{ReadTrace, read_trace};

use crate::codex::codex_bin_at;
use crate::support::{Mock, stderr};

/// The API key runs get unless a test says otherwise: it must appear in no output.
pub(crate) const KEY: &str = "sk-test-SECRETKEY-codex-0123456789";

pub(crate) struct CodexUser {
    dir: tempfile::TempDir,
    codex: PathBuf,
}

/// One finished `agentprof run`: what it printed on stderr and the trace it wrote.
pub(crate) struct Ran {
    pub(crate) stderr: String,
    pub(crate) trace: ReadTrace,
    /// The trace file as written, for searching it as text.
    pub(crate) trace_text: String,
}

impl CodexUser {
    /// A new user of the pinned Codex `pin` (`OLDEST` or `NEWEST`).
    pub(crate) fn new(pin: &str) -> CodexUser {
        let dir = tempfile::tempdir().unwrap();
        let codex = codex_bin_at(dir.path(), pin);
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        CodexUser { dir, codex }
    }

    /// `CODEX_HOME`.
    pub(crate) fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Where the user works (Codex's working directory).
    pub(crate) fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// A file of the user's own, beside the home and work directories (traces).
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `agentprof run --openai-upstream <mock> --trace <trace> -- codex exec
    /// --skip-git-repo-check <args>` with [`KEY`]; the run must succeed.
    pub(crate) fn exec(&self, mock: &Mock, trace: &str, args: &[&str]) -> ReadTrace {
        let upstream = ["--openai-upstream".to_string(), mock.url()];
        let codex: Vec<&str> = ["exec", "--skip-git-repo-check"]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        self.run(&upstream, Some(KEY), trace, &codex).trace
    }

    /// `agentprof run <run_args> --trace <trace> -- codex <codex_args>`, in the work
    /// directory, with `OPENAI_API_KEY` set to `key` (unset with `None`); the run must succeed.
    pub(crate) fn run(
        &self,
        run_args: &[String],
        key: Option<&str>,
        trace: &str,
        codex_args: &[&str],
    ) -> Ran {
        let path = self.file(trace);
        // Bounded: a Codex that cannot reach the proxy retries for minutes.
        let mut command = std::process::Command::new("timeout");
        command
            .arg("180")
            .arg(env!("CARGO_BIN_EXE_agentprof"))
            .current_dir(self.work())
            .env("CODEX_HOME", self.home())
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL");
        if let Some(key) = key {
            command.env("OPENAI_API_KEY", key);
        }
        let output = command
            .args(["run", "--trace"])
            .arg(&path)
            .args(run_args)
            .arg("--")
            .arg(&self.codex)
            .args(codex_args)
            .output()
            .unwrap();
        let stderr = stderr(&output);
        assert!(
            output.status.success(),
            "codex {codex_args:?} failed:\n{}\n{stderr}",
            String::from_utf8_lossy(&output.stdout),
        );
        Ran {
            trace: read_trace(&path).unwrap(),
            trace_text: std::fs::read_to_string(&path).unwrap(),
            stderr,
        }
    }

    /// The directory all of this lives in.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }
}
