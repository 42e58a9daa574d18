//! The Codex shape's transcript: Responses API input items (`message`, `function_call`,
//! `function_call_output`, and after a compaction the opaque `compaction` item), re-sent whole
//! on every call as Codex does over HTTP.

use serde_json::{Value, json};

use super::super::turn::ToolStep;

pub(crate) fn user_message(text: &str) -> Value {
    json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})
}

fn assistant_message(text: &str) -> Value {
    json!({"type": "message", "role": "assistant",
           "content": [{"type": "output_text", "text": text}]})
}

/// Codex runs every tool as `shell`; a pretend run becomes the command that would produce it.
fn shell_command(name: &str, input: &Value) -> String {
    let field = |k: &str| input[k].as_str().unwrap_or_default().to_string();
    match name {
        "Read" => format!("sed -n '1,400p' {}", field("file_path")),
        "Grep" => format!("rg -n '{}'", field("pattern")),
        "Glob" => format!("rg --files -g '{}'", field("pattern")),
        _ => field("command"),
    }
}

#[derive(Debug, Default)]
pub(crate) struct History {
    items: Vec<Value>,
}

impl History {
    /// Appends items; returns their JSON bytes.
    pub(crate) fn push(&mut self, items: Vec<Value>) -> usize {
        let n = items.iter().map(json_len).sum();
        self.items.extend(items);
        n
    }

    /// A function call the model made and what it returned, after the model's words if any.
    pub(crate) fn push_call(
        &mut self,
        said: &str,
        call_id: &str,
        name: &str,
        args: Value,
        output: &str,
    ) -> usize {
        let mut items = Vec::new();
        if !said.is_empty() {
            items.push(assistant_message(said));
        }
        items.push(
            json!({"type": "function_call", "call_id": call_id, "name": name,
                          "arguments": args.to_string()}),
        );
        items.push(json!({"type": "function_call_output", "call_id": call_id, "output": output}));
        self.push(items)
    }

    pub(crate) fn push_tool_step(&mut self, said: &str, step: &ToolStep) -> usize {
        let call_id = format!("call_synth_{:016x}", step.id_bits);
        let args = json!({"command": ["bash", "-lc", shell_command(&step.name, &step.input)],
                          "workdir": "/home/dev/agentprof", "timeout_ms": 120000});
        let output = format!(
            "Exit code: 0\nWall time: 0.2 seconds\nOutput:\n{}",
            step.output
        );
        self.push_call(said, &call_id, "shell", args, &output)
    }

    pub(crate) fn push_answer(&mut self, said: &str) -> usize {
        self.push(vec![assistant_message(if said.is_empty() {
            "(no content)"
        } else {
            said
        })])
    }

    /// JSON bytes of all items: what the compaction threshold looks at.
    pub(crate) fn bytes(&self) -> usize {
        self.items.iter().map(json_len).sum()
    }

    /// The input to send: the history plus `extra` items.
    pub(crate) fn for_request(&self, extra: &[Value]) -> Vec<Value> {
        let mut items = self.items.clone();
        items.extend_from_slice(extra);
        items
    }

    /// What remote compaction leaves: the context Codex always sends first, then the opaque
    /// summary item the server returned.
    pub(crate) fn compact(&mut self, context: Value, encrypted: &str) -> usize {
        self.items.clear();
        self.push(vec![
            context,
            json!({"type": "compaction", "encrypted_content": encrypted}),
        ])
    }
}

fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(0, |b| b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_steps_become_shell_calls_with_their_output() {
        let mut h = History::default();
        let step = ToolStep {
            id_bits: 1,
            name: "Grep".into(),
            input: json!({"pattern": "parse_usage"}),
            output: "src/a.rs:1: fn parse_usage".into(),
        };
        let n = h.push_tool_step("Looking.", &step);
        assert_eq!(n, h.bytes());
        let sent = h.for_request(&[json!({"type": "compaction_trigger"})]);
        assert_eq!(sent.len(), 4);
        assert_eq!(sent[1]["name"], "shell");
        assert!(
            sent[1]["arguments"]
                .as_str()
                .unwrap()
                .contains("rg -n 'parse_usage'")
        );
        assert_eq!(sent[2]["call_id"], sent[1]["call_id"]);
        assert_eq!(sent[3]["type"], "compaction_trigger");
        h.compact(user_message("ctx"), "opaque");
        assert_eq!(h.for_request(&[])[1]["type"], "compaction");
    }
}
