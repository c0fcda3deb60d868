"""The committed OpenAPI document is the app's (a drift check, like the proto one): regenerate it with
`.venv/bin/python -m gateway openapi > services/gateway/openapi.json` and commit it with the change."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.__main__ import openapi_text
from gateway.problems import ALL

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"
DOCS = Path(__file__).resolve().parents[4] / "docs" / "gateway.md"


def test_the_committed_openapi_document_matches_the_app() -> None:
    assert COMMITTED.read_text() == openapi_text(), \
        "stale: run .venv/bin/python -m gateway openapi > services/gateway/openapi.json"


def test_the_document_is_openapi_3_1_with_mutual_tls_and_a_problem_for_every_error() -> None:
    doc = json.loads(openapi_text())
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["clientCertificate"]["type"] == "mutualTLS"
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            errors = {code: r for code, r in op["responses"].items() if int(code) >= 400}
            assert errors, (method, path)
            for code, response in errors.items():
                assert list(response["content"]) == ["application/problem+json"], (method, path, code)
            if method == "post":
                assert any(p["name"] == "Idempotency-Key" and p["required"] for p in op["parameters"]), path


def test_every_problem_type_is_documented() -> None:
    text = DOCS.read_text()
    missing = [t.uri for t in ALL if f"`{t.uri}`" not in text]
    assert missing == []
