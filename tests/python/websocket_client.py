"""A real WebSocket client (the `websockets` library) speaking the Responses API over
WebSocket, as Codex does, through agentprof's proxy.

Usage: websocket_client.py WS_URL CALLS

Sends CALLS `response.create` messages one after another on one connection, offering
permessage-deflate, and reads each answer to its `response.completed`. The socket is tapped:
every byte received is kept, so what arrived on the wire for each call (the frames between one
answer's end and the next) can be compared, byte for byte, with what the mock sent. Prints one
JSON object: the extension the server agreed to, and per call its response id, usage, and the
size and FNV-1a 64 of its frames as received.
"""

import json
import socket
import sys
from urllib.parse import urlparse

from websockets.sync.client import connect


class TappedSocket(socket.socket):
    """A socket that keeps a copy of everything received."""

    received = bytearray()

    def recv(self, bufsize, *flags):
        data = super().recv(bufsize, *flags)
        TappedSocket.received += data
        return data


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def frames_so_far():
    """The bytes received after the 101 head."""
    raw = bytes(TappedSocket.received)
    return raw[raw.index(b"\r\n\r\n") + 4 :]


def main():
    url, calls = sys.argv[1], int(sys.argv[2])
    parsed = urlparse(url)
    sock = TappedSocket(socket.AF_INET, socket.SOCK_STREAM)
    sock.connect((parsed.hostname, parsed.port))
    out = {"calls": []}
    with connect(
        url,
        sock=sock,
        compression="deflate",
        ping_interval=None,
        additional_headers={"authorization": "Bearer sk-test-SECRETKEY-ws-0123456789"},
    ) as ws:
        out["extensions"] = ws.response.headers.get("Sec-WebSocket-Extensions")
        seen = 0
        for i in range(calls):
            ws.send(
                json.dumps(
                    {
                        "type": "response.create",
                        "model": "gpt-test",
                        "stream": True,
                        "input": [{"role": "user", "content": f"question {i}: " + "why " * 40}],
                        "client_metadata": {"session_id": "ws-session-1"},
                    }
                )
            )
            while True:
                event = json.loads(ws.recv())
                if event["type"] in ("response.completed", "error"):
                    break
            frames = frames_so_far()
            mine = frames[seen:]
            seen = len(frames)
            response = event.get("response", {})
            out["calls"].append(
                {
                    "response_id": response.get("id"),
                    "usage": response.get("usage"),
                    "bytes": len(mine),
                    "fnv1a64": fnv1a64(mine),
                }
            )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
