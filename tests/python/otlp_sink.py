"""A minimal OTLP/HTTP collector for tests: decodes with the official OpenTelemetry protos.

Usage: otlp_sink.py OUT.jsonl

Listens on 127.0.0.1 (a free port, printed as the first line of stdout), accepts
POST /v1/metrics and /v1/traces in OTLP/HTTP protobuf (gzip or not), decodes them with the
`opentelemetry-proto` package's generated classes, and appends one JSON line per request to
OUT.jsonl: {"path": ..., "content_type": ..., "test_header": <the x-agentprof-test header or
null>, "body": MessageToDict(request)}. Each line is
written and flushed before the exporter gets its answer, so once the exporter has finished,
the file holds everything it sent. Anything else is answered 404 / 415 / 400.
"""

import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

SERVICES = {
    "/v1/metrics": (
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
    ),
    "/v1/traces": (
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
    ),
}

LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    out = None

    def do_POST(self):  # noqa: N802 (http.server's naming)
        service = SERVICES.get(self.path)
        if service is None:
            return self.answer(404, b"")
        content_type = self.headers.get("content-type", "")
        if content_type != "application/x-protobuf":
            return self.answer(415, b"")
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.headers.get("content-encoding", "") == "gzip":
            body = gzip.decompress(body)
        request_type, response_type = service
        request = request_type()
        try:
            request.ParseFromString(body)
        except DecodeError:
            return self.answer(400, b"")
        line = json.dumps(
            {
                "path": self.path,
                "content_type": content_type,
                "test_header": self.headers.get("x-agentprof-test"),
                "body": MessageToDict(request, preserving_proto_field_name=True),
            }
        )
        with LOCK:
            self.out.write(line + "\n")
            self.out.flush()
        self.answer(200, response_type().SerializeToString())

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> None:
    Handler.out = open(sys.argv[1], "a", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
