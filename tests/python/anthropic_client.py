"""Drives the official `anthropic` SDK through agentprof and records what the client saw.

Run under `agentprof run`, which sets ANTHROPIC_BASE_URL. Writes a JSON list of observations
(one per call) to the path given as the first argument; the Rust test compares them with the
mock upstream's own record of what it sent.
"""

import json
import sys

import anthropic

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
    out = {
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens or 0,
        "cache_read_input_tokens": u.cache_read_input_tokens or 0,
    }
    return out


def main() -> None:
    out_path = sys.argv[1]
    client = anthropic.Anthropic(api_key="sk-ant-test-SECRETKEY-anthropic-0123456789", max_retries=0)
    system = [
        {"type": "text", "text": "You are a careful assistant. " * 40, "cache_control": {"type": "ephemeral"}}
    ]
    history = [{"role": "user", "content": "Explain prompt caching in two sentences."}]
    seen = []

    # 1. Streaming, parsed by the SDK's high-level helper.
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=300, system=system, messages=history) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
        request_id = stream.response.headers.get("request-id")
    seen.append({"kind": "stream", "id": final.id, "request_id": request_id,
                 "usage": usage_dict(final.usage), "text_bytes": len(text.encode())})

    # 2. Streaming, raw bytes as the client received them.
    history2 = history + [{"role": "assistant", "content": text}, {"role": "user", "content": "And in one?"}]
    with client.messages.with_streaming_response.create(
        model="claude-sonnet-4-6", max_tokens=200, system=system, messages=history2, stream=True
    ) as response:
        raw = b"".join(response.iter_bytes())
        request_id = response.headers.get("request-id")
    seen.append({"kind": "stream_raw", "request_id": request_id, "body_fnv1a64": fnv1a64(raw),
                 "body_bytes": len(raw)})

    # 3. Not streaming.
    message = client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=history)
    seen.append({"kind": "nonstream", "id": message.id, "request_id": message._request_id,
                 "usage": usage_dict(message.usage), "text_bytes": len(message.content[0].text.encode())})

    # 4. Other endpoints pass through.
    counted = client.messages.count_tokens(model="claude-sonnet-4-6", messages=history)
    seen.append({"kind": "count_tokens", "input_tokens": counted.input_tokens})
    models = client.models.list()
    seen.append({"kind": "models", "count": len(models.data)})

    # 5. An upstream error status reaches the SDK unchanged.
    try:
        client.messages.create(model="claude-sonnet-4-6", max_tokens=10, messages=history,
                               extra_headers={"x-mock-fault": "status:529"})
        seen.append({"kind": "status_529", "error": None})
    except anthropic.APIStatusError as err:
        seen.append({"kind": "status_529", "status": err.status_code,
                     "error_type": err.body.get("error", {}).get("type") if isinstance(err.body, dict) else None})

    with open(out_path, "w") as f:
        json.dump(seen, f, indent=1)


if __name__ == "__main__":
    main()
