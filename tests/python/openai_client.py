"""Drives the official `openai` SDK through agentprof and records what the client saw.

Run under `agentprof run`, which sets OPENAI_BASE_URL (…/openai/v1). Writes a JSON list of
observations to the path given as the first argument.
"""

import json
import sys

import openai

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def fnv1a64(data: bytes) -> str:
    h = FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def usage_dict(u):
    if u is None:
        return None
    cached = written = 0
    details = getattr(u, "prompt_tokens_details", None)
    if details is not None:
        cached = details.cached_tokens or 0
        # Cache writes (late 2026): read the way the SDK exposes them, typed or as an extra field.
        written = getattr(details, "cache_write_tokens", None) or 0
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "cached_tokens": cached, "cache_write_tokens": written}


def main() -> None:
    out_path = sys.argv[1]
    client = openai.OpenAI(api_key="sk-proj-test-SECRETKEY-openai-0123456789", max_retries=0)
    messages = [
        {"role": "system", "content": "You are terse. " * 300},
        {"role": "user", "content": "Name three prime numbers."},
    ]
    seen = []

    # 1. Streaming with include_usage: the client asked, so it gets the usage chunk.
    stream = client.chat.completions.create(model="gpt-4.1", messages=messages, stream=True,
                                            stream_options={"include_usage": True})
    usage, chunk_id, request_id = None, None, None
    for chunk in stream:
        chunk_id = chunk.id
        if chunk.usage is not None:
            usage = usage_dict(chunk.usage)
    request_id = stream.response.headers.get("x-request-id")
    seen.append({"kind": "stream_usage", "id": chunk_id, "request_id": request_id, "usage": usage})

    # 2. Streaming without include_usage: the client must see no usage at all.
    stream = client.chat.completions.create(model="gpt-4.1", messages=messages, stream=True)
    chunks_with_usage, chunks, empty_choices = 0, 0, 0
    for chunk in stream:
        chunks += 1
        if chunk.usage is not None:
            chunks_with_usage += 1
        if not chunk.choices:
            empty_choices += 1
    seen.append({"kind": "stream_no_usage", "request_id": stream.response.headers.get("x-request-id"),
                 "chunks": chunks, "chunks_with_usage": chunks_with_usage, "empty_choice_chunks": empty_choices})

    # 3. The same, raw bytes: not even a "usage" key may appear.
    with client.chat.completions.with_streaming_response.create(model="gpt-4.1", messages=messages,
                                                                stream=True) as response:
        raw = b"".join(response.iter_bytes())
        seen.append({"kind": "stream_no_usage_raw", "request_id": response.headers.get("x-request-id"),
                     "mentions_usage": b'"usage"' in raw, "body_bytes": len(raw)})

    # 4. Streaming with include_usage, raw bytes: byte-identical to what upstream sent.
    with client.chat.completions.with_streaming_response.create(model="gpt-4.1", messages=messages, stream=True,
                                                                stream_options={"include_usage": True}) as response:
        raw = b"".join(response.iter_bytes())
        seen.append({"kind": "stream_usage_raw", "request_id": response.headers.get("x-request-id"),
                     "body_fnv1a64": fnv1a64(raw), "body_bytes": len(raw)})

    # 5. Not streaming.
    completion = client.chat.completions.create(model="gpt-4.1-mini", messages=messages)
    seen.append({"kind": "nonstream", "id": completion.id, "request_id": completion._request_id,
                 "usage": usage_dict(completion.usage)})

    # 6. The Responses API (what Codex CLI speaks), streaming: usage from `response.completed`,
    # cache reads and writes included.
    instructions = "You are terse. " * 300
    for attempt in ("responses_first", "responses_again"):
        stream = client.responses.create(model="gpt-6-sol", instructions=instructions,
                                         input="Name three prime numbers.", stream=True)
        completed = None
        for event in stream:
            if event.type == "response.completed":
                completed = event.response
        details = completed.usage.input_tokens_details
        seen.append({"kind": attempt, "request_id": stream.response.headers.get("x-request-id"),
                     "input_tokens": completed.usage.input_tokens,
                     "output_tokens": completed.usage.output_tokens,
                     "cached_tokens": details.cached_tokens,
                     "cache_write_tokens": getattr(details, "cache_write_tokens", None)})

    with open(out_path, "w") as f:
        json.dump(seen, f, indent=1)


if __name__ == "__main__":
    main()
