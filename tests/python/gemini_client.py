"""Drives the official `google-genai` SDK against a Gemini API base URL and records what it saw.

Usage: gemini_client.py BASE_URL OUT_PATH (BASE_URL `env`: the SDK's own default, which reads
GOOGLE_GEMINI_BASE_URL, as a user's script under `agentprof run` does). Writes a JSON list of observations (one per call) to
OUT_PATH; the Rust test compares them with the mock upstream's own record of what it sent.
"""

import json
import sys

from google import genai
from google.genai import types

# Gemini CLI 0.61.0's classifier router schema (upper-case types, an enum).
ROUTER_SCHEMA = {
    "type": "OBJECT",
    "properties": {
        "reasoning": {"type": "STRING", "description": "why"},
        "model_choice": {"type": "STRING", "enum": ["flash", "pro"]},
    },
    "required": ["reasoning", "model_choice"],
}


def usage_dict(u):
    if u is None:
        return None
    return {
        "prompt_token_count": u.prompt_token_count or 0,
        "cached_content_token_count": u.cached_content_token_count or 0,
        "candidates_token_count": u.candidates_token_count or 0,
        "thoughts_token_count": u.thoughts_token_count or 0,
        "tool_use_prompt_token_count": u.tool_use_prompt_token_count or 0,
        "total_token_count": u.total_token_count or 0,
    }


def request_id(response):
    http = getattr(response, "sdk_http_response", None)
    headers = (http.headers if http else None) or {}
    return {k.lower(): v for k, v in headers.items()}.get("x-goog-request-id")


def text_of(response):
    parts = response.candidates[0].content.parts or []
    return "".join(p.text or "" for p in parts if not p.thought)


def main() -> None:
    base_url, out_path = sys.argv[1], sys.argv[2]
    options = None if base_url == "env" else types.HttpOptions(base_url=base_url)
    client = genai.Client(api_key="test-SECRETKEY-gemini-0123456789", http_options=options)
    model = "gemini-3.8-flash"
    system = "You are a careful assistant. " * 200
    seen = []

    # 1. Non-streaming, with thinking and its thought summary.
    config = types.GenerateContentConfig(
        system_instruction=system,
        thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=1024),
    )
    r = client.models.generate_content(model=model, contents="Explain caching briefly.", config=config)
    seen.append({
        "kind": "generate", "request_id": request_id(r), "response_id": r.response_id,
        "model_version": r.model_version, "finish_reason": r.candidates[0].finish_reason.value,
        "text_bytes": len(text_of(r).encode()), "usage": usage_dict(r.usage_metadata),
        "thought_parts": sum(1 for p in r.candidates[0].content.parts if p.thought),
    })

    # 2. Streaming (alt=sse), same system prompt and a longer history: implicit cache read.
    history = [
        types.Content(role="user", parts=[types.Part(text="Explain caching briefly.")]),
        types.Content(role="model", parts=[types.Part(text=text_of(r))]),
        types.Content(role="user", parts=[types.Part(text="And in one sentence?")]),
    ]
    chunks = list(client.models.generate_content_stream(model=model, contents=history, config=config))
    last = chunks[-1]
    seen.append({
        "kind": "stream", "request_id": request_id(chunks[0]), "response_id": last.response_id,
        "model_version": last.model_version, "chunks": len(chunks),
        "finish_reason": last.candidates[0].finish_reason.value,
        "text_bytes": sum(len(text_of(c).encode()) for c in chunks),
        "usage": usage_dict(last.usage_metadata),
        "snapshots": [usage_dict(c.usage_metadata) for c in chunks],
    })

    # 3. A JSON utility call, as Gemini CLI's router makes it.
    r = client.models.generate_content(
        model="gemini-3.5-flash-lite",
        contents="Which model for: fix a typo?",
        config=types.GenerateContentConfig(
            system_instruction="You are a specialized Task Routing AI.",
            response_mime_type="application/json",
            response_json_schema=ROUTER_SCHEMA,
        ),
    )
    seen.append({
        "kind": "json", "request_id": request_id(r), "response_id": r.response_id,
        "model_version": r.model_version, "parsed": json.loads(r.text),
        "usage": usage_dict(r.usage_metadata),
    })

    # 4. A built-in tool: tool-use prompt tokens.
    r = client.models.generate_content(
        model=model,
        contents="Search the web for the news.",
        config=types.GenerateContentConfig(tools=[types.Tool(google_search=types.GoogleSearch())]),
    )
    seen.append({
        "kind": "search", "request_id": request_id(r), "response_id": r.response_id,
        "usage": usage_dict(r.usage_metadata),
    })

    # 5. countTokens: no usage, just a count.
    c = client.models.count_tokens(model=model, contents="Explain caching briefly.")
    seen.append({"kind": "count_tokens", "total_tokens": c.total_tokens})

    with open(out_path, "w") as f:
        json.dump(seen, f)


if __name__ == "__main__":
    main()
