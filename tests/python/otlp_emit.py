"""Emits two Claude-Code-shaped log records through the real OpenTelemetry Python SDK and its
OTLP/HTTP protobuf exporter, then flushes and exits.

The exporter reads the standard variables itself: OTEL_EXPORTER_OTLP_ENDPOINT (the receiver,
`/v1/logs` appended), OTEL_EXPORTER_OTLP_COMPRESSION (`gzip` or unset).
Needs: opentelemetry-sdk, opentelemetry-exporter-otlp-proto-http.
"""

import time

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource

provider = LoggerProvider(resource=Resource.create({"service.name": "claude-code"}))
provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
logger = provider.get_logger("com.anthropic.claude_code.events", "2.1.197")

now = time.time_ns()
logger.emit(
    timestamp=now,
    body="claude_code.api_request",
    attributes={
        "session.id": "sess-python",
        "event.name": "api_request",
        "event.sequence": 2,
        "prompt.id": "prompt-python",
        "model": "claude-haiku-4-5",
        "input_tokens": 123,
        "output_tokens": 45,
        "cache_read_tokens": 6000,
        "cache_creation_tokens": 0,
        "cost_usd": 0.00123,
        "duration_ms": 987,
        "request_id": "req_python",
        "query_source": "repl_main_thread",
    },
)
logger.emit(
    timestamp=now,
    event_name="claude_code.user_prompt",
    attributes={"prompt.id": "prompt-python", "prompt_length": "5"},
)
provider.shutdown()
