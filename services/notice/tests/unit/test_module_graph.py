"""notice's modules import one another one way only: no cycle, not even through an import inside a function (the
batch writer and the PDF once imported each other, export.py lazily). Read from the sources with ast."""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path

import notice


def imports() -> dict[str, set[str]]:
    root = Path(str(resources.files(notice)))
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):  # the packages' modules too (notice.repository.mailings)
        parts = path.relative_to(root).with_suffix("").parts
        module = ".".join(("notice", *parts[:-1])) if parts[-1] == "__init__" else ".".join(("notice", *parts))
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "notice":  # from notice import events, policy
                    found |= {f"notice.{a.name}" for a in node.names}
                elif node.module.startswith("notice."):
                    found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("notice.")}
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


def test_the_pdf_and_the_batch_file_share_a_module_instead_of_importing_each_other():
    graph = imports()
    assert "notice.export" not in graph["notice.pdf"]
    assert {"notice.records"} <= graph["notice.pdf"] & graph["notice.export"]


def test_no_notice_module_imports_itself_back():
    assert cycle(imports()) == []


def test_the_cycle_finder_finds_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


# The rules, by aggregate, and what they share: none of them touches SQL or a connection (the store port does).
RULES = ("notice.base", "notice.cards", "notice.mailing", "notice.moves", "notice.printing", "notice.residence",
         "notice.returns", "notice.service", "notice.tenancy")
# What they may not import: these modules, and any module of theirs (the store is a package: notice.repository.*).
DATABASE = ("notice.repository", "notice.models", "notice.app", "notice.grpc_api")


def reaches_the_database(target: str) -> bool:
    return any(target == m or target.startswith(f"{m}.") for m in DATABASE)


def test_a_module_of_the_store_package_counts_as_the_store():
    assert reaches_the_database("notice.repository.mailings")
    assert reaches_the_database("notice.repository")
    assert not reaches_the_database("notice.repository_notes")
    assert "notice.repository.mailings" in imports()


def test_the_rules_never_reach_the_database_but_through_the_store_port():
    root = Path(str(resources.files(notice)))
    graph = imports()
    for module in RULES:
        assert module in graph, module
        assert not {t for t in graph[module] if reaches_the_database(t)}, module
        text = (root / f"{module.split('.')[1]}.py").read_text(encoding="utf-8")
        assert "sqlalchemy" not in text, module


def test_no_notice_module_is_longer_than_about_300_lines():
    root = Path(str(resources.files(notice)))
    long = {str(p.relative_to(root)): n for p in root.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300}
    assert long == {}
