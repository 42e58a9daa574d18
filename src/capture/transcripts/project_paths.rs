//! The directory each project stands for.
//!
//! Claude Code keeps a project's transcripts under `projects/<name>`, `<name>` being the
//! directory it was started in with every `/` (and `.`) made `-`, which cannot be undone:
//! `/a/b-c` and `/a/b/c` give one name. Its records carry that directory (`cwd`), so the first
//! one in the project's first session names it — `/home/dev/api`, as the Codex, Gemini CLI
//! and opencode imports name theirs, so `--by project` puts one directory's rows of every
//! agent side by side. A project whose files say nothing readable keeps its directory's name.

use std::collections::HashMap;
use std::io::Read;

use super::discover::{FileRole, Found};

/// How much of a transcript's start is searched for a `cwd`: Claude Code writes it on the
/// first user record, after at most a few queue and summary lines.
const HEAD_BYTES: u64 = 64 << 10;

/// Files tried per project before giving up on naming it.
const FILES_TRIED: usize = 3;

/// The started-in directory of each project `found` holds, by its `projects/` name; projects
/// none of whose first files names one are not in the map.
pub fn resolve(found: &Found) -> HashMap<String, String> {
    let mut candidates: HashMap<&str, Vec<&std::path::Path>> = HashMap::new();
    // Main session files first: a sub-agent's records carry the session's directory too, but
    // may be all a project has.
    for role in [FileRole::Main, FileRole::Agent, FileRole::Other] {
        for file in found.files.iter().filter(|f| f.role == role) {
            if let Some(project) = file.project.as_deref() {
                let files = candidates.entry(project).or_default();
                if files.len() < FILES_TRIED {
                    files.push(&file.path);
                }
            }
        }
    }
    candidates
        .into_iter()
        .filter_map(|(project, files)| {
            let cwd = files.into_iter().find_map(first_cwd)?;
            Some((project.to_string(), cwd))
        })
        .collect()
}

/// The first `"cwd"` string in the head of the transcript at `path`.
fn first_cwd(path: &std::path::Path) -> Option<String> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .ok()?;
    cwd_in(&head)
}

/// The first non-empty `"cwd":"…"` value in `bytes`, unescaped.
fn cwd_in(bytes: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"cwd\":";
    memchr::memmem::find_iter(bytes, KEY).find_map(|at| {
        let value = &bytes[at + KEY.len()..];
        let mut values = serde_json::Deserializer::from_slice(value).into_iter::<String>();
        values.next()?.ok().filter(|cwd| !cwd.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_cwd_is_read_unescaped_past_lines_without_one() {
        let head = br#"{"type":"queue-operation","operation":"enqueue"}
{"type":"user","cwd":"","sessionId":"s"}
{"type":"user","cwd":"/home/dev/my \"quoted\" app","sessionId":"s"}
{"type":"assistant","cwd":"/elsewhere"}
"#;
        assert_eq!(
            cwd_in(head).as_deref(),
            Some(r#"/home/dev/my "quoted" app"#)
        );
        assert_eq!(cwd_in(br#"{"cwd":"/a/b-c"}"#).as_deref(), Some("/a/b-c"));
        assert_eq!(cwd_in(br#"{"type":"user"}"#), None);
        // Cut off inside the value (the head ends there): not a name.
        assert_eq!(cwd_in(br#"{"cwd":"/home/de"#), None);
    }
}
