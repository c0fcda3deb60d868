"""jpki's modules import one another one way only: no cycle, not even through an import inside a function or under
TYPE_CHECKING (events.py and the old service.py once imported each other). Read from the sources with ast."""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path

import jpki

ROLES = ("authority", "issuance", "revocation", "publication", "verifiers")


def imports() -> dict[str, set[str]]:
    root = Path(str(resources.files(jpki)))
    graph: dict[str, set[str]] = {}
    for path in root.glob("*.py"):
        module = f"jpki.{path.stem}"
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "jpki":  # from jpki import events, ocsp
                    found |= {f"jpki.{a.name}" for a in node.names}
                elif node.module.startswith("jpki."):
                    found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("jpki.")}
        graph[module] = found - {module}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle, or []: depth-first search with the path on the stack."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return [*path[path.index(module):], module]
        if module in done:
            return []
        for target in sorted(graph.get(module, ())):
            found = visit(target, [*path, module])
            if found:
                return found
        done.add(module)
        return []

    for module in sorted(graph):
        found = visit(module, [])
        if found:
            return found
    return []


def test_no_jpki_module_imports_itself_back() -> None:
    assert cycle(imports()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_events_know_no_rules_and_the_rules_know_no_boundary() -> None:
    graph = imports()
    rules = {f"jpki.{r}" for r in ROLES}
    assert not graph["jpki.events"] & (rules | {"jpki.handlers", "jpki.repository"})
    boundary = {"jpki.app", "jpki.parts", "jpki.grpc_api", "jpki.http_api", "jpki.handlers", "jpki.repository",
                "jpki.ceremony", "jpki.__main__"}
    for role in rules:
        assert not graph[role] & boundary, role


def test_only_the_store_and_the_tables_speak_sqlalchemy() -> None:
    root = Path(str(resources.files(jpki)))
    speaking = {p.name for p in root.glob("*.py") if "sqlalchemy" in p.read_text(encoding="utf-8")}
    assert speaking == {"repository.py", "models.py"}


def test_no_source_file_is_over_300_lines() -> None:
    root = Path(str(resources.files(jpki)))
    long = {p.name: n for p in root.glob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300}
    assert long == {}
