"""One migration style: every revision is plain Alembic operations on SQLAlchemy types, frozen once written. A
revision that imported the live models (or the runtime's table builders) would change what it does whenever they
change, and a fresh database would no longer get the schema an old one got."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REVISIONS = sorted(ROOT.glob("services/*/migrations/versions/*.py"))
ALLOWED = ("alembic", "sqlalchemy", "__future__")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def test_every_service_has_revisions() -> None:
    assert {p.parents[2].name for p in REVISIONS} == {"numbering", "notice", "jpki", "issuance", "gateway"}


@pytest.mark.parametrize("revision", REVISIONS, ids=lambda p: p.relative_to(ROOT / "services").as_posix())
def test_revision_imports_only_alembic_and_sqlalchemy(revision: Path) -> None:
    foreign = {name for name in imported(revision) if name.split(".")[0] not in ALLOWED}
    assert foreign == set()


@pytest.mark.parametrize("revision", REVISIONS, ids=lambda p: p.relative_to(ROOT / "services").as_posix())
def test_revision_creates_tables_with_operations_not_create_all(revision: Path) -> None:
    assert "create_all(" not in revision.read_text()
