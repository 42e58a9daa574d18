"""Calls through agentprof with credentials everywhere a client may put them (for the secrets test).

Run under `agentprof run`. argv[1] is the prompt to send. Uses the official `anthropic` SDK with a
distinctive x-api-key, an `Authorization: Bearer` header and a cookie on every request (streaming
and not), and the `openai` SDK with its own key. Prints nothing; exits non-zero if a call fails.
"""

import sys

import anthropic
import openai

prompt = sys.argv[1]
headers = {
    "authorization": "Bearer BEARERSECRET-0123456789abcdef",
    "cookie": "session=COOKIESECRET-0123456789; theme=dark",
}
client = anthropic.Anthropic(
    api_key="sk-ant-test-SECRETKEY-security-0123456789", max_retries=0, default_headers=headers
)
messages = [{"role": "user", "content": prompt}]
with client.messages.stream(model="claude-sonnet-4-6", max_tokens=64, messages=messages) as stream:
    "".join(stream.text_stream)
client.messages.create(model="claude-haiku-4-5", max_tokens=32, messages=messages)

oai = openai.OpenAI(api_key="sk-proj-OPENAISECRET-0123456789abcdef", max_retries=0,
                    default_headers={"cookie": "session=COOKIESECRET-openai"})
stream = oai.chat.completions.create(model="gpt-4o", messages=messages, stream=True)
for _ in stream:
    pass
