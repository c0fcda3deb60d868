"""OpenTelemetry set-up: traces (OTLP over HTTP when an endpoint is configured, console on request) and metrics
(the Prometheus reader behind `/metrics`, metrics.py), both under one resource naming the service."""

from __future__ import annotations

from opentelemetry import metrics, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from mynumber_runtime import metrics as platform_metrics

_configured = False
OTLP_TRACES_PATH = "/v1/traces"


def otlp_traces_url(endpoint: str) -> str:
    """The collector's address as given (`http://collector:4318`) or with the signal's path already on it."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(OTLP_TRACES_PATH) else endpoint + OTLP_TRACES_PATH


def configure_telemetry(service: str, *, otlp_endpoint: str | None = None, console: bool = False,
                        region: str | None = None) -> None:
    """Unconfigured (no endpoint), spans go nowhere and nothing is contacted: a start never fails for want of a
    collector. Configured, a collector that is down loses spans (the exporter retries, then drops), never calls."""
    global _configured
    if _configured:
        return
    attrs = {"service.name": f"mynumber-{service}", "service.namespace": "mynumber"}
    if region:
        attrs["cloud.region"] = region
    resource = Resource.create(attrs)
    provider = TracerProvider(resource=resource)
    exporter: SpanExporter | None = None
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=otlp_traces_url(otlp_endpoint), timeout=5)
    elif console:
        exporter = ConsoleSpanExporter()
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    platform_metrics.install(resource)
    _configured = True


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def meter(name: str) -> metrics.Meter:
    return metrics.get_meter(name)
