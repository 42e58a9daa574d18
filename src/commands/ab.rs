//! `agentprof ab`: the same agent command N times per side under `agentprof run`, alternating
//! A and B in a counterbalanced order (A B, B A, A B, …), each with its side's environment
//! (and, if asked, in a fresh copy of a directory, after a prepare command), then the
//! comparison of the traces — hyperfine's ergonomics for what a feature costs.
//!
//! Each run is a child `agentprof run --quiet --trace <out>/<side>-<n>.jsonl -- COMMAND`, so it
//! is exactly what a user's own `run` records. A Ctrl-C reaches the run in progress (it ends
//! its trace as `run` always does); no run starts after it, and the runs that finished are
//! compared.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;

use anyhow::Context as _;
use tokio::signal::unix::{SignalKind, signal};

use super::compare::{Settings, compare_traces};
use crate::cli::AbArgs;
use crate::error::InputError;

/// One side of the experiment.
struct Side<'a> {
    name: &'static str,
    env: &'a [(String, String)],
    finished: Vec<PathBuf>,
}

pub fn run(args: AbArgs) -> anyhow::Result<i32> {
    let settings = Settings::of(&args.output, None)?;
    if let Some(dir) = &args.workdir
        && !dir.is_dir()
    {
        return Err(
            InputError::new(format!("--workdir {}: not a directory", dir.display())).into(),
        );
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        PathBuf::from("agentprof-ab").join(stamp)
    });
    // `run` never writes over a trace: runs into a used directory would all fail.
    if out.join("a-1.jsonl").exists() {
        return Err(InputError::new(format!(
            "--out {}: holds the traces of an earlier ab (give another directory)",
            out.display()
        ))
        .into());
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let exe = std::env::current_exe().context("finding agentprof's own executable")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Installed before the first run: a Ctrl-C must not end `ab` itself.
    let mut interrupt = runtime.block_on(async { signal(SignalKind::interrupt()) })?;

    let mut sides = [
        Side {
            name: "a",
            env: &args.a_env,
            finished: Vec::new(),
        },
        Side {
            name: "b",
            env: &args.b_env,
            finished: Vec::new(),
        },
    ];
    let total = args.runs * 2;
    let bar = super::progress::bar(u64::from(total), "runs {wide_bar} {pos}/{len}");
    let mut interrupted = false;
    let mut done = 0;
    'runs: for n in 1..=args.runs {
        // A B, then B A, …: a prompt cache the first run of a pair wrote is read by the second
        // (it lives 5 minutes), so each side goes first as often as the other.
        let order = if n % 2 == 1 { [0, 1] } else { [1, 0] };
        for index in order {
            let side = &mut sides[index];
            done += 1;
            let trace = out.join(format!("{}-{n}.jsonl", side.name));
            let place = Place::new(args.workdir.as_deref(), &out, side.name, n)?;
            let env = substitute_env(side.env, n);
            if let Some(prepare) = &args.prepare {
                let status = std::process::Command::new("sh")
                    .args(["-c", prepare])
                    .current_dir(place.dir())
                    .envs(env.iter().map(|(k, v)| (k, v)))
                    .status()
                    .context("running --prepare")?;
                if !status.success() {
                    anyhow::bail!("--prepare failed ({status}) before {} run {n}", side.name);
                }
            }
            let mut child = tokio::process::Command::new(&exe);
            child
                .args(["run", "--quiet", "--trace"])
                .arg(std::path::absolute(&trace)?)
                .arg("--")
                .args(
                    args.command
                        .iter()
                        .map(|a| a.replace("{run}", &n.to_string())),
                )
                .current_dir(place.dir())
                .envs(env.iter().map(|(k, v)| (k, v)))
                .env("AGENTPROF_AB_SIDE", side.name)
                .env("AGENTPROF_AB_RUN", n.to_string())
                // The agent's own output (an answer, a diff) goes beside its trace: stdout is
                // the comparison's (a --json document must stay one).
                .stdout(std::fs::File::create(
                    out.join(format!("{}-{n}.out", side.name)),
                )?);
            let (status, stopped) = runtime.block_on(wait(child, &mut interrupt))?;
            interrupted |= stopped;
            let outcome = match (status.success(), stopped) {
                (_, true) => "interrupted: left out".to_string(),
                (true, false) => {
                    side.finished.push(trace.clone());
                    "ok".to_string()
                }
                (false, false) => format!("{status}: left out"),
            };
            progress(bar.as_ref(), done, total, side.name, n, &outcome, &trace);
            if interrupted {
                break 'runs;
            }
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let [a, b] = &sides;
    if a.finished.is_empty() || b.finished.is_empty() {
        anyhow::bail!(
            "no comparison: finished runs A {}, B {} (each side needs one; traces in {})",
            a.finished.len(),
            b.finished.len(),
            out.display()
        );
    }
    if interrupted {
        eprintln!(
            "agentprof ab: interrupted; comparing the {} + {} runs that finished",
            a.finished.len(),
            b.finished.len()
        );
    }
    compare_traces(&a.finished, &b.finished, &settings)
}

/// Runs `agentprof run`; a Ctrl-C meanwhile is passed on (unless the terminal already sent it
/// to the whole process group) and reported.
async fn wait(
    mut command: tokio::process::Command,
    interrupt: &mut tokio::signal::unix::Signal,
) -> anyhow::Result<(ExitStatus, bool)> {
    let mut child = command.spawn().context("starting agentprof run")?;
    let mut stopped = false;
    loop {
        tokio::select! {
            status = child.wait() => return Ok((status?, stopped)),
            Some(()) = interrupt.recv() => {
                stopped = true;
                if !super::signals::terminal_already_delivered()
                    && let Some(pid) = child.id()
                {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid as i32),
                        nix::sys::signal::Signal::SIGINT,
                    );
                }
            }
        }
    }
}

/// `{run}` in values becomes the run's number.
fn substitute_env(env: &[(String, String)], n: u32) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| (k.clone(), v.replace("{run}", &n.to_string())))
        .collect()
}

/// One line per run; on a terminal above a bar of the runs done.
fn progress(
    bar: Option<&indicatif::ProgressBar>,
    done: u32,
    total: u32,
    side: &str,
    n: u32,
    outcome: &str,
    trace: &Path,
) {
    let line = format!(
        "agentprof ab: [{done}/{total}] {} run {n}: {outcome} ({})",
        side.to_uppercase(),
        trace.display()
    );
    match bar {
        Some(bar) => {
            bar.println(line);
            bar.set_position(u64::from(done));
        }
        None => eprintln!("{line}"),
    }
}

/// Where a run runs: the current directory, or a fresh copy of `--workdir` removed after it.
enum Place {
    Here(PathBuf),
    Copy(PathBuf),
}

impl Place {
    fn new(workdir: Option<&Path>, out: &Path, side: &str, n: u32) -> anyhow::Result<Place> {
        let Some(source) = workdir else {
            return Ok(Place::Here(std::env::current_dir()?));
        };
        let copy = std::path::absolute(out.join(format!("work-{side}-{n}")))?;
        if copy.exists() {
            std::fs::remove_dir_all(&copy)?;
        }
        copy_dir(source, &copy)
            .with_context(|| format!("copying {} to {}", source.display(), copy.display()))?;
        Ok(Place::Copy(copy))
    }

    fn dir(&self) -> &Path {
        match self {
            Place::Here(dir) | Place::Copy(dir) => dir,
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Place::Copy(dir) = self {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Copies a directory tree: files, directories and symbolic links (as links).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
