//! The Gemini CLI shape's chat history, as Gemini CLI keeps and re-sends it: `contents` of
//! `{parts, role}` (parts first, as the SDK writes them), the model's words and function call in
//! one `model` content, the tool's result in a `user` content of `functionResponse` parts. The
//! shared pretend tool runs are spelled with Gemini CLI's tools; chat compression replaces the
//! older part of the history with the snapshot.

use serde_json::{Value, json};

use super::super::turn::ToolStep;

pub(crate) fn user_text(text: &str) -> Value {
    json!({"parts": [{"text": text}], "role": "user"})
}

pub(crate) fn model_text(text: &str) -> Value {
    json!({"parts": [{"text": text}], "role": "model"})
}

/// The model's words (if any) and its function call, as one `model` content.
pub(crate) fn model_call(said: &str, name: &str, args: Value) -> Value {
    let mut parts = Vec::new();
    if !said.is_empty() {
        parts.push(json!({"text": said}));
    }
    parts.push(json!({"functionCall": {"name": name, "args": args}}));
    json!({"parts": parts, "role": "model"})
}

/// A tool's result going back to the model.
pub(crate) fn function_response(name: &str, output: Value) -> Value {
    json!({"parts": [{"functionResponse": {"name": name, "response": output}}], "role": "user"})
}

/// A shared pretend tool run as the Gemini CLI tool that does the same job; `read_only` (the
/// investigator, which has no shell) lists a directory instead of running a command.
pub(crate) fn gemini_tool(step: &ToolStep, read_only: bool) -> (&'static str, Value) {
    let field = |k: &str| step.input[k].as_str().unwrap_or_default().to_string();
    match step.name.as_str() {
        "Read" => ("read_file", json!({"file_path": field("file_path")})),
        "Grep" => ("grep_search", json!({"pattern": field("pattern")})),
        "Glob" => ("glob", json!({"pattern": field("pattern")})),
        _ if read_only => (
            "list_directory",
            json!({"dir_path": "/home/dev/agentprof/src"}),
        ),
        _ => (
            "run_shell_command",
            json!({"command": field("command"), "description": field("description")}),
        ),
    }
}

/// The model calling a tool for `step`, then its output.
pub(crate) fn tool_step(said: &str, step: &ToolStep, read_only: bool) -> [Value; 2] {
    let (name, args) = gemini_tool(step, read_only);
    [
        model_call(said, name, args),
        function_response(name, json!({"output": step.output})),
    ]
}

#[derive(Debug, Default)]
pub(crate) struct History {
    contents: Vec<Value>,
}

impl History {
    /// Appends contents; returns their JSON bytes.
    pub(crate) fn push(&mut self, contents: impl IntoIterator<Item = Value>) -> usize {
        let mut n = 0;
        for c in contents {
            n += json_len(&c);
            self.contents.push(c);
        }
        n
    }

    /// JSON bytes of all contents: what the compression threshold looks at.
    pub(crate) fn bytes(&self) -> usize {
        self.contents.iter().map(json_len).sum()
    }

    /// The contents to send, with `extra` after them.
    pub(crate) fn for_request(&self, extra: &[Value]) -> Vec<Value> {
        let mut contents = self.contents.clone();
        contents.extend_from_slice(extra);
        contents
    }

    /// The last `n` contents that hold only text (no function calls or results): what the
    /// router sees of the chat besides the prompt.
    pub(crate) fn recent_text(&self, n: usize) -> Vec<Value> {
        let mut recent: Vec<Value> = self
            .contents
            .iter()
            .rev()
            .filter(|c| {
                c["parts"]
                    .as_array()
                    .is_some_and(|p| p.iter().all(|p| p.get("text").is_some()))
            })
            .take(n)
            .cloned()
            .collect();
        recent.reverse();
        recent
    }

    /// Where compression splits, by Gemini CLI's rule (`findCompressSplitPoint`): the first
    /// prompt (a user content that is not a tool result) with at least `keep_from` of the
    /// history's bytes before it, so the kept part opens a turn; with none, everything when the
    /// history ends in a plain model answer, else the last prompt. `None` when nothing would be
    /// compressed.
    pub(crate) fn split_point(&self, keep_from: f64) -> Option<usize> {
        let total = self.bytes() as f64;
        let mut before = 0usize;
        let mut last = 0;
        for (i, c) in self.contents.iter().enumerate() {
            if is_prompt(c) {
                if before as f64 >= total * keep_from {
                    return Some(i).filter(|i| *i > 0);
                }
                last = i;
            }
            before += json_len(c);
        }
        let answered = self
            .contents
            .last()
            .is_some_and(|c| c["role"] == "model" && !has(c, "functionCall"));
        Some(if answered { self.contents.len() } else { last }).filter(|i| *i > 0)
    }

    /// The contents before `at`: what compression distils.
    pub(crate) fn older(&self, at: usize) -> Vec<Value> {
        self.contents[..at.min(self.contents.len())].to_vec()
    }

    /// After compression: the snapshot, the model's acknowledgement, then the contents from `at`.
    pub(crate) fn compress(&mut self, at: usize, snapshot: &str) -> usize {
        let kept = self.contents.split_off(at.min(self.contents.len()));
        self.contents.clear();
        let head = self.push([
            user_text(snapshot),
            model_text("Got it. Thanks for the additional context!"),
        ]);
        head + self.push(kept)
    }
}

fn is_prompt(c: &Value) -> bool {
    c["role"] == "user" && !has(c, "functionResponse")
}

/// Whether any part of content `c` is a `kind` part.
fn has(c: &Value, kind: &str) -> bool {
    c["parts"]
        .as_array()
        .is_some_and(|parts| parts.iter().any(|p| p.get(kind).is_some()))
}

fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(0, |b| b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_steps_and_compression_keep_the_last_turn() {
        let mut h = History::default();
        h.push([user_text("first"), model_text("ok")]);
        let step = ToolStep {
            id_bits: 1,
            name: "Grep".into(),
            input: json!({"pattern": "parse_usage"}),
            output: "src/a.rs:1: fn parse_usage".into(),
        };
        h.push([user_text("second")]);
        h.push(tool_step("Looking.", &step, false));
        let sent = h.for_request(&[]);
        assert_eq!(sent[3]["parts"][1]["functionCall"]["name"], "grep_search");
        assert_eq!(
            sent[4]["parts"][0]["functionResponse"]["name"],
            "grep_search"
        );
        let at = h.split_point(0.1).unwrap();
        assert_eq!(at, 2, "a tool result is not a prompt");
        assert_eq!(h.split_point(0.0), None, "nothing before the first prompt");
        assert_eq!(
            h.split_point(0.99),
            Some(2),
            "ends in a tool result: the last prompt"
        );
        h.push([model_text("done")]);
        assert_eq!(h.split_point(0.99), Some(6), "ends answered: everything");
        h.contents.pop();
        assert_eq!(h.older(at).len(), 2);
        let n = h.compress(at, "<state_snapshot/>");
        assert_eq!(n, h.bytes());
        let sent = h.for_request(&[]);
        assert_eq!(sent.len(), 5);
        assert_eq!(sent[0]["parts"][0]["text"], "<state_snapshot/>");
        assert_eq!(sent[2]["parts"][0]["text"], "second");
    }
}
