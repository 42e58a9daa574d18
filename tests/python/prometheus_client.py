"""A Claude-Code-shaped workload on the official `anthropic` SDK, in rounds the test paces.

Run under `agentprof run --prometheus …`. Argument: a control directory. Each round makes the
same mix of calls — a main-loop prompt (streaming, cached system prompt, tools), a title on
Haiku, a sub-agent call, a memory-extraction fork, count_tokens, an overloaded (529) retry and a
call to a model with no price — then writes `round<N>.done` and waits for the test to write
`go<N+1>` (or `release` after the last round), so Prometheus can scrape between rounds and the
process stays alive until the test has queried everything. Gives up after 120 s of waiting.
"""

import os
import sys
import time

import anthropic

ROUNDS = 2
WAIT_LIMIT_S = 120
SESSION = "0b7c6a52-9d8e-4f7a-9a51-5d1e2f3a4b5c"

SYSTEM = [
    {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.328; cc_entrypoint=cli;"},
    {"type": "text", "text": "You are Claude Code, a careful coding agent. " * 60,
     "cache_control": {"type": "ephemeral"}},
]
TOOLS = [
    {"name": "Read", "description": "Read a file from the workspace.",
     "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}},
    {"name": "Bash", "description": "Run a shell command.",
     "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}},
]


def wait_for(path: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit(f"gave up waiting for {path}")
        time.sleep(0.02)


def touch(path: str) -> None:
    with open(path, "w") as f:
        f.write("done\n")


def one_round(client: anthropic.Anthropic, n: int) -> None:
    prompt = [{"role": "user", "content": f"Round {n}: find out why the build fails and fix it."}]

    # Main loop: streaming, with tools and the cached system prompt.
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=400, system=SYSTEM,
                                tools=TOOLS, messages=prompt) as stream:
        answer = "".join(stream.text_stream) or "Looking into it."

    # Session title: Haiku, no tools, a single message.
    client.messages.create(model="claude-haiku-4-5", max_tokens=40,
                           messages=[{"role": "user", "content": f"Title for: round {n} build fix"}])

    # A sub-agent: its own agent id, streaming.
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=300, system=SYSTEM, tools=TOOLS,
                                messages=[{"role": "user", "content": f"Search the repo for build scripts ({n})."}],
                                extra_headers={"x-claude-code-agent-id": f"agent-{n}"}) as stream:
        stream.get_final_message()

    # The memory-extraction fork: the main prefix, then its own last user message.
    fork = prompt + [
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "You are now acting as the memory extraction subagent. "
                                    "Save anything worth remembering."},
    ]
    client.messages.create(model="claude-sonnet-4-6", max_tokens=200, system=SYSTEM, tools=TOOLS, messages=fork)

    # A probe, an overloaded retry of the main loop, a model nobody prices.
    client.messages.count_tokens(model="claude-sonnet-4-6", messages=prompt)
    try:
        client.messages.create(model="claude-sonnet-4-6", max_tokens=400, system=SYSTEM, tools=TOOLS,
                               messages=prompt, extra_headers={"x-mock-fault": "status:529"})
        sys.exit("the 529 fault did not fail")
    except anthropic.APIStatusError as err:
        assert err.status_code == 529, err.status_code
    client.messages.create(model="mock-unpriced-model", max_tokens=50,
                           messages=[{"role": "user", "content": f"Summarise round {n}."}])


def main() -> None:
    control = sys.argv[1]
    client = anthropic.Anthropic(
        api_key="sk-ant-test-SECRETKEY-prometheus-0123456789",
        max_retries=0,
        default_headers={
            "User-Agent": "claude-cli/2.1.328 (external, cli)",
            "X-Claude-Code-Session-Id": SESSION,
        },
    )
    for n in range(1, ROUNDS + 1):
        one_round(client, n)
        touch(os.path.join(control, f"round{n}.done"))
        wait_for(os.path.join(control, f"go{n + 1}" if n < ROUNDS else "release"))


if __name__ == "__main__":
    main()
