"""Mark as SKIPPED the mutants that only edit a type annotation, in a module under `from __future__ import annotations`.

Run by run.sh after `cosmic-ray init` (with the cosmic-ray venv's python): `skip_annotations.py <session.sqlite>`.
Under PEP 563 an annotation is kept as a string and never evaluated unless something asks for it
(typing.get_type_hints, pydantic, a NamedTuple/TypedDict...); the targets ask for none (the filter refuses a module
that mentions one of those), so a mutant inside an annotation (`str | None` -> `str & None`, `-> int` ...) cannot
change behaviour: it is equivalent, and running the tests on it would only cost time. A mutant is skipped only when
its whole span lies inside one annotation node (an argument's, a return's, or an annotated assignment's annotation);
the value of `x: int = 3` is mutated and run as usual. Prints how many it skipped per module.
"""

from __future__ import annotations

import ast
import sqlite3
import sys
from collections import Counter
from functools import cache
from pathlib import Path

EVALUATES_ANNOTATIONS = ("get_type_hints", "pydantic", "NamedTuple", "TypedDict", "__annotations__")

Span = tuple[tuple[int, int], tuple[int, int]]  # ((row 1-based, column in characters), (row, column)), end exclusive


def _char_col(lines: list[str], row: int, byte_col: int) -> int:
    """ast counts columns in UTF-8 bytes; cosmic-ray (parso) in characters."""
    return len(lines[row - 1].encode()[:byte_col].decode())


@cache
def annotation_spans(path: str) -> list[Span]:
    source = Path(path).read_text()
    tree = ast.parse(source)
    future = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    if not future:
        return []
    if any(word in source for word in EVALUATES_ANNOTATIONS):
        raise SystemExit(f"skip_annotations: {path} may evaluate its annotations; not filtering it")
    lines = source.splitlines()
    spans: list[Span] = []
    for node in ast.walk(tree):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for ann in annotations:
            if ann is None or ann.end_lineno is None or ann.end_col_offset is None:
                continue
            spans.append(
                (
                    (ann.lineno, _char_col(lines, ann.lineno, ann.col_offset)),
                    (ann.end_lineno, _char_col(lines, ann.end_lineno, ann.end_col_offset)),
                )
            )
    return spans


def main(session: str) -> None:
    db = sqlite3.connect(session)
    rows = db.execute(
        "SELECT job_id, module_path, start_pos_row, start_pos_col, end_pos_row, end_pos_col FROM mutation_specs"
    ).fetchall()
    skipped: Counter[str] = Counter()
    for job_id, module, r0, c0, r1, c1 in rows:
        if any(s <= (r0, c0) and (r1, c1) <= e for s, e in annotation_spans(module)):
            db.execute(
                "INSERT OR REPLACE INTO work_results (worker_outcome, output, test_outcome, diff, job_id)"
                " VALUES ('SKIPPED', 'annotation only (PEP 563: never evaluated)', NULL, NULL, ?)",
                (job_id,),
            )
            skipped[module] += 1
    db.commit()
    for module, n in sorted(skipped.items()):
        print(f"mutation: skipped {n} annotation-only mutants in {module}")
    print(f"mutation: {sum(skipped.values())} of {len(rows)} mutants are annotation-only (SKIPPED)")


if __name__ == "__main__":
    main(sys.argv[1])
