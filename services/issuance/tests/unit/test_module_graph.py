"""The rules never reach SQL: issuance.service and everything it imports, transitively within the package, import
no sqlalchemy, psycopg or grpc; only repository.py and models.py (and app.py, which wires them) touch the
database, and only grpc_api.py (and app.py) the gRPC server."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "issuance"
FORBIDDEN = ("sqlalchemy", "psycopg", "grpc", "asyncpg")


def imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "issuance":
                names.update(f"issuance.{a.name}" for a in node.names)
    return names


def closure(module: str) -> tuple[set[str], set[str]]:
    """(issuance modules reached, every other module imported on the way)."""
    seen, outside, todo = set(), set(), [module]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        for name in imports(m):
            if name.startswith("issuance."):
                sub = name.split(".", 1)[1]
                if (PACKAGE / f"{sub}.py").exists():
                    todo.append(sub)
            else:
                outside.add(name)
    return seen, outside


def test_the_rules_import_no_sql_and_no_grpc() -> None:
    reached, outside = closure("service")
    assert {"applications", "forms", "policy", "photo", "tenancy", "states"} <= reached
    assert not reached & {"repository", "models", "grpc_api", "app"}
    assert [m for m in sorted(outside) if m.split(".")[0] in FORBIDDEN] == []


def test_only_the_repository_models_and_wiring_import_sqlalchemy() -> None:
    users = {p.stem for p in PACKAGE.glob("*.py") if any(n.split(".")[0] == "sqlalchemy" for n in imports(p.stem))}
    assert users <= {"repository", "models"}, users
