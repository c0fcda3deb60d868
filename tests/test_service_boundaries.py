"""No service depends on another service's package (issue 10): shared mechanisms live in the runtime, code formats in
`libs/codes`, event contracts in `libs/events`. Checked on the sources' imports and on each service's declared
dependencies."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())
PACKAGES = {s: {d.name for d in (ROOT / "services" / s / "src").iterdir() if (d / "__init__.py").exists()}
            for s in SERVICES}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_services_package(service: str) -> None:
    others = set().union(*(PACKAGES[s] for s in SERVICES if s != service))
    found = {f"{p.relative_to(ROOT)}: {name}" for p in (ROOT / "services" / service / "src").rglob("*.py")
             for name in imported_roots(p) & others}
    assert not found, sorted(found)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_declares_no_other_service_as_a_dependency(service: str) -> None:
    project = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"]
    names = {tomllib.loads((ROOT / "services" / s / "pyproject.toml").read_text())["project"]["name"]
             for s in SERVICES if s != service}
    assert not {d.split("[")[0].split(">")[0].split("=")[0].strip() for d in project["dependencies"]} & names
