use bytes::Bytes;

use super::BodySkim;
use crate::capture::request::RequestSummary;
use crate::observation::ApiKind;

/// What the skim makes of `body` fed in frames cut at `cuts`.
fn skim(body: &[u8], cuts: &[usize]) -> Option<RequestSummary> {
    let mut skim = BodySkim::default();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
        let cut = cut.clamp(from, body.len());
        skim.feed(&body[from..cut]);
        from = cut;
    }
    RequestSummary::from_skim(ApiKind::ChatCompletions, skim)
}

fn whole(body: &[u8]) -> RequestSummary {
    RequestSummary::inspect_whole(ApiKind::ChatCompletions, &[Bytes::copy_from_slice(body)])
        .expect("test bodies are valid")
}

/// Bodies meant to trip the skim; each is valid JSON.
const TRICKY: &[&str] = &[
    // Claude Code shape: tool loop, last user message is tool results.
    r#"{"model":"m","stream":true,"system":[{"type":"text","text":"sys"}],"tools":[{"name":"Read"}],"messages":[{"role":"user","content":"first"},{"role":"assistant","content":[{"type":"text","text":"ok \"quoted\" ]} {["}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"a\\"}]}],"metadata":{"user_id":"u"}}"#,
    // Role after content, a repeated role (the last wins), whitespace everywhere.
    "{ \"messages\" : [ { \"content\" : \"typed\" , \"role\" : \"user\" } , { \"role\" : \"user\" , \"content\" : [ { \"type\" : \"text\" , \"text\" : \"x\" } ] , \"role\" : \"assistant\" } ] , \"tools\" : [ ] }\n",
    // OpenAI chat: system and developer messages, the first one is kept.
    r#"{"model":"gpt","messages":[{"role":"developer","content":"dev first"},{"role":"system","content":"sys second"},{"role":"user","content":"hello"},{"role":"assistant","content":null}],"stream_options":{"include_usage":false}}"#,
    // Elements that are not objects, nested arrays, numbers, literals.
    r#"{"messages":[1,"two",[3,[4]],null,{"role":"user","content":[{"type":"image","source":{"data":[1,2,{"a":[]}]}}]},true],"max_tokens":12}"#,
    // No user message at all; empty messages; tools not an array.
    r#"{"messages":[{"role":"assistant","content":"a"}],"tools":{"x":1}}"#,
    r#"{"messages":[],"tools":[]}"#,
    r#"{"tools":[ [], {"a":"]"} ],"messages":[{}]}"#,
    // Escapes: backslashes before a quote, a unicode escape, multi-byte text.
    r#"{"messages":[{"role":"user","content":"a\\\\\"b\\\\","x":"\u00e9€"}],"model":"é"}"#,
    // Names and roles the skim cannot read: serde reads those messages and members.
    r#"{"messages":[{"role":"user","content":"one"},{"role":"us\u0065r","content":"two"},{"role":"assistant"}]}"#,
    r#"{"messages":[{"role":"user","content":"one"},{"r\u006fle":"user","content":"two"}]}"#,
    r#"{"mess\u0061ges":[{"role":"user","content":"escaped name"}],"model":"x"}"#,
    r#"{"messages":[{"role":"s\u0079stem","content":"unsure system"},{"role":"system","content":"sure system"}]}"#,
    // Duplicated members: messages add up, the last tools and model win.
    r#"{"messages":[{"role":"user","content":"a"}],"tools":[1],"messages":[{"role":"assistant"},{"role":"user","content":"b"}],"tools":[],"model":"1","model":"2"}"#,
    r#"{"messages":[{"role":"system","content":"s1"}],"messages":[{"role":"system","content":"s2"},{"role":"user","content":"u"}]}"#,
    // Responses API input: an array of items, or a string.
    r#"{"model":"gpt-5","instructions":"be brief","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]},{"type":"function_call_output","call_id":"c","output":"{\"ok\":true}"}]}"#,
    r#"{"input":"just a string","max_output_tokens":5}"#,
    // A role that is not a string, a role after a long one.
    r#"{"messages":[{"role":"user","content":"x"},{"role":null,"content":"y"},{"role":"a-very-long-role-name","content":"z"}]}"#,
    "{}",
];

#[test]
fn skimmed_bodies_read_like_whole_ones_however_the_frames_fall() {
    for body in TRICKY {
        let bytes = body.as_bytes();
        let want = whole(bytes);
        assert_eq!(skim(bytes, &[]).as_ref(), Some(&want), "one frame: {body}");
        for cut in 0..=bytes.len() {
            assert_eq!(
                skim(bytes, &[cut]).as_ref(),
                Some(&want),
                "cut at {cut}: {body}"
            );
        }
        let every: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(
            skim(bytes, &every).as_ref(),
            Some(&want),
            "byte frames: {body}"
        );
        let chunks: Vec<Bytes> = bytes.chunks(7).map(Bytes::copy_from_slice).collect();
        assert_eq!(
            RequestSummary::inspect(ApiKind::ChatCompletions, &chunks),
            Ok(want)
        );
    }
}

#[test]
fn a_long_tool_loop_is_cut_down_to_the_messages_inspection_reads() {
    let code = r#"fn main() {\n    let s = \"a \\\"quoted\\\" word\";\n}\n"#.repeat(40);
    let mut messages =
        vec![r#"{"role":"user","content":[{"type":"text","text":"fix the test"}]}"#.to_string()];
    for i in 0..400 {
        messages.push(format!(r#"{{"role":"assistant","content":[{{"type":"tool_use","id":"t{i}","name":"Read","input":{{"file_path":"/f{i}.rs"}}}}]}}"#));
        messages.push(format!(r#"{{"role":"user","content":[{{"type":"tool_result","tool_use_id":"t{i}","content":"{code}"}}]}}"#));
    }
    let body = format!(
        r#"{{"model":"claude-sonnet-4-5","max_tokens":32000,"stream":true,"system":[{{"type":"text","text":"You are Claude Code."}}],"tools":[{{"name":"Read","input_schema":{{"type":"object"}}}}],"messages":[{}],"metadata":{{"user_id":"u1"}}}}"#,
        messages.join(",")
    );
    let bytes = body.as_bytes();
    let want = whole(bytes);
    assert_eq!(want.message_count, 801);
    assert!(want.last_user_is_tool_result);
    for frame in [1 << 10, 8 << 10, 65 << 10, 1 << 20] {
        let cuts: Vec<usize> = (frame..bytes.len()).step_by(frame).collect();
        assert_eq!(skim(bytes, &cuts), Some(want.clone()), "frames of {frame}");
    }
    let mut skim = BodySkim::default();
    skim.feed(bytes);
    let reduced = skim.finish().expect("well formed");
    assert!(bytes.len() > 900_000, "{}", bytes.len());
    assert!(
        reduced.body.len() < 4_000,
        "reduced to {} bytes",
        reduced.body.len()
    );
    assert_eq!((reduced.elements, reduced.written), (801, 1));
}

/// What the skim cannot follow gives `None`; `inspect` then reads the whole body, so an error
/// says where the body broke.
#[test]
fn malformed_bodies_end_the_skim() {
    for body in [
        r#"{"messages":[{"role":"user"}] "#,
        r#"{"messages":[{"role":"user"}]} x"#,
        r#"{"messages":[{"role":"user"]}]}"#,
        r#"{"messages":[{"role":"user","content":"torn}]}"#,
        r#"{"messages":[,{"role":"user"}]}"#,
        r#"{"messages":[{"role":"user","content":[}]}]}"#,
        r#"{"a" 1}"#,
        r#"{"a":1,,"b":2}"#,
        r#"{"tools":[{"a":1]}"#,
        // A message that names its role again after being dropped cannot be kept whole.
        r#"{"messages":[{"role":"assistant","content":"x","role":"user"}]}"#,
        "[]",
        "",
        "{",
    ] {
        assert_eq!(skim(body.as_bytes(), &[]), None, "{body}");
        let chunks = [Bytes::copy_from_slice(body.as_bytes())];
        assert_eq!(
            RequestSummary::inspect(ApiKind::Messages, &chunks),
            RequestSummary::inspect_whole(ApiKind::Messages, &chunks),
            "{body}"
        );
    }
    let body = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\n\"model\": tru}";
    let chunks = [Bytes::copy_from_slice(body.as_bytes())];
    let err = RequestSummary::inspect(ApiKind::Messages, &chunks).expect_err("not JSON");
    assert_eq!(
        err,
        RequestSummary::inspect_whole(ApiKind::Messages, &chunks).expect_err("not JSON")
    );
    assert!(err.to_string().contains("line 2"), "{err}");
}
