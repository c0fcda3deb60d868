"""schemathesis over the whole OpenAPI document, against the gateway over HTTPS with a municipality's client
certificate and the real numbering behind it: generated valid and invalid requests, 0 server errors, every status,
content type and body as documented. The gateway serves on this test's event loop, so the (synchronous) cases run
in a worker thread."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from mynumber_runtime.testing.identities import credentials
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import MUNICIPALITY, Gateway

pytestmark = pytest.mark.integration
DOCUMENT = Path(__file__).resolve().parents[2] / "openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Per operation and mode; MYNUMBER_CONTRACT_EXAMPLES raises it (thousands: a longer local run).
EXAMPLES = int(os.environ.get("MYNUMBER_CONTRACT_EXAMPLES", "40"))


def run_cases(base_url: str, session: requests.Session) -> dict[str, int]:
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))
    ran: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run_operation(operation.as_strategy(generation_mode=mode), f"{operation.label} {mode.value}",
                          base_url, session, ran)
    return ran


def run_operation(strategy: Any, label: str, base_url: str, session: requests.Session, ran: dict[str, int]) -> None:
    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @hypothesis.given(case=strategy)
    def check(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, verify=session.verify, cert=session.cert)
        case.validate_response(response, checks=CHECKS)
        ran[label] = ran.get(label, 0) + 1

    check()


async def test_generated_requests_over_the_whole_document_get_documented_answers(gateway: Gateway) -> None:
    c = credentials(f"municipality:{MUNICIPALITY}")
    with requests.Session() as session:
        session.cert = (str(c.cert_file), str(c.key_file))
        session.verify = str(c.ca_file)
        ran = await asyncio.to_thread(run_cases, gateway.base_url, session)
    operations = sum(len(ops) for ops in json.loads(DOCUMENT.read_text())["paths"].values())
    assert len(ran) == 2 * operations and all(n > 0 for n in ran.values()), ran
