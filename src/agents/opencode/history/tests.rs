//! The import of what opencode wrote (tests/fixtures) and of small legacy storages written
//! here: which project each call is reported under.

use std::path::{Path, PathBuf};

use super::{HistoryOptions, import};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `(session the call ran in, project)` of every call, sorted.
fn projects(dir: &Path) -> Vec<(String, Option<String>)> {
    let history = import(&HistoryOptions {
        dir: Some(dir.to_path_buf()),
        ..HistoryOptions::default()
    })
    .unwrap();
    let mut out: Vec<(String, Option<String>)> = history
        .calls
        .iter()
        .map(|c| {
            let own = c.agent_id.clone().or(c.session_id.clone()).unwrap();
            (own, c.project.clone())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn opencode_1_18_33_s_calls_are_in_their_session_s_directory() {
    // Two sessions and a task-tool child of one; the child row names its parent's directory.
    let project = Some("/tmp/r18/home-7/proj".to_string());
    let child = "ses_db12ed0e0ffensVgTIp34KpIFe".to_string();
    let calls = projects(&fixture("opencode_1.18.33"));
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|(_, p)| *p == project), "{calls:?}");
    assert!(calls.iter().any(|(own, _)| *own == child), "{calls:?}");
}

#[test]
fn opencode_1_1_65_legacy_sessions_name_their_directory_too() {
    let project = Some("/tmp/r18/home-10/proj".to_string());
    let child = "ses_db12d6bd1ffe2o1CG6w63KNxd4".to_string();
    let calls = projects(&fixture("opencode_1.1.65"));
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|(_, p)| *p == project), "{calls:?}");
    assert!(calls.iter().any(|(own, _)| *own == child), "{calls:?}");
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn assistant(storage: &Path, session: &str, id: &str, input: u64) {
    write(
        &storage.join(format!("message/{session}/{id}.json")),
        &format!(
            r#"{{"id":"{id}","sessionID":"{session}","role":"assistant","time":{{"created":{input},"completed":{input}}},"modelID":"claude-sonnet-4-6","providerID":"anthropic","agent":"build","tokens":{{"input":{input},"output":1,"reasoning":0,"cache":{{"read":0,"write":0}}}}}}"#
        ),
    );
}

#[test]
fn sessions_in_two_directories_and_a_child_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("storage");
    // Two sessions of one git project (its id), run in two directories; a global one.
    let session = |project: &str, id: &str, extra: &str| {
        write(
            &storage.join(format!("session/{project}/{id}.json")),
            &format!(r#"{{"id":"{id}","projectID":"{project}",{extra}"title":"t"}}"#),
        );
    };
    session("4b825dc6", "ses_a", r#""directory":"/work/app","#);
    session("4b825dc6", "ses_b", r#""directory":"/work/app/web","#);
    session("global", "ses_c", r#""directory":"/home/u/notes","#);
    // A child whose file names no directory: its root session's.
    session("global", "ses_c1", r#""parentID":"ses_c","#);
    for (session, id, input) in [
        ("ses_a", "msg_1", 1),
        ("ses_b", "msg_2", 2),
        ("ses_c", "msg_3", 3),
        ("ses_c1", "msg_4", 4),
    ] {
        assistant(&storage, session, id, input);
    }
    let some = |p: &str| Some(p.to_string());
    assert_eq!(
        projects(dir.path()),
        [
            ("ses_a".into(), some("/work/app")),
            ("ses_b".into(), some("/work/app/web")),
            ("ses_c".into(), some("/home/u/notes")),
            ("ses_c1".into(), some("/home/u/notes")),
        ]
    );
}
