"""OpenTelemetry set-up: traces (OTLP when an endpoint is configured, console on request) and metrics."""

from __future__ import annotations

from opentelemetry import metrics, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_configured = False


def configure_telemetry(service: str, *, otlp_endpoint: str | None = None, console: bool = False,
                        region: str | None = None) -> None:
    global _configured
    if _configured:
        return
    attrs = {"service.name": f"mynumber-{service}", "service.namespace": "mynumber"}
    if region:
        attrs["cloud.region"] = region
    provider = TracerProvider(resource=Resource.create(attrs))
    exporter: SpanExporter | None = None
    if otlp_endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as e:  # pragma: no cover - an optional dependency in local runs
            raise RuntimeError("otlp_endpoint is set but opentelemetry-exporter-otlp is not installed") from e
        exporter = OTLPSpanExporter(endpoint=otlp_endpoint)
    elif console:
        exporter = ConsoleSpanExporter()
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def meter(name: str) -> metrics.Meter:
    return metrics.get_meter(name)
