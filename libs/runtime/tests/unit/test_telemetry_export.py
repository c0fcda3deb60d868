"""Traces reach a collector when an OTLP endpoint is set, and a process with none starts and ends cleanly."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading

SCRIPT = """
import sys
from opentelemetry import trace
from mynumber_runtime.telemetry import configure_telemetry
configure_telemetry("numbering", otlp_endpoint=sys.argv[1] or None, region="east")
with trace.get_tracer("t").start_as_current_span("AssignNumber"):
    pass
assert trace.get_tracer_provider().force_flush(5000)
"""


def test_spans_are_exported_to_the_configured_collector_over_otlp_http():
    received: list[tuple[str, str, int]] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((self.path, self.headers.get("Content-Type", ""), len(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        run = subprocess.run([sys.executable, "-c", SCRIPT, f"http://127.0.0.1:{server.server_port}"],
                             capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 0, run.stderr[-2000:]
    assert [(p, t) for p, t, _ in received] == [("/v1/traces", "application/x-protobuf")]
    assert received[0][2] > 0


def test_no_endpoint_means_no_export_and_no_failure_at_start():
    run = subprocess.run([sys.executable, "-c", SCRIPT, ""], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
