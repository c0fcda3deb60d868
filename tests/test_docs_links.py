"""Every relative link in README.md and docs/*.md names a file or folder that is in the repository.

Two kinds of link: Markdown links `[text](target)` (relative to the page, or to the root when the page's folder
does not have it), and repository paths written in backticks: a token that begins with one of the repository's
top-level entries (`services/...`, `charts/...`) or, containing a slash, ends in a source-file suffix
(`jpki/validation.py`). Those must resolve from the root; a short form is a dead link, as is an elision
(`libs/runtime/.../identity.py`). Not links: URLs, absolute paths (inside an image or a pod), the run-time data
folder `var/` (not in the repository), and tokens with a placeholder (`<batch_id>`, `{service}`, `*`).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *ROOT.glob("docs/*.md")])
SUFFIXES = (".py", ".md", ".yaml", ".yml", ".tpl", ".json", ".proto", ".toml", ".sh", ".txt", ".cfg", ".csv")
MD_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"`([^`\s]+)`")


def repository_paths() -> set[str]:
    """Tracked files and their folders (a clone); every file under the root when git cannot tell (an archive)."""
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        files = set(listed.splitlines())
    except (OSError, subprocess.CalledProcessError):
        files = {p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file()}
    paths = set(files)
    for f in files:
        parts = f.split("/")
        paths.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return paths


def resolves(target: str, page: Path, paths: set[str]) -> bool:
    target = target.split("#", 1)[0].rstrip("/")
    if not target:
        return True  # an anchor on the same page
    if target.startswith("./"):
        target = target[2:]
    for base in (page.parent, ROOT):
        candidate = (base / target).resolve()
        if candidate.is_relative_to(ROOT) and candidate.relative_to(ROOT).as_posix() in paths:
            return True
    return False


def links(page: Path, top_level: set[str]) -> list[tuple[int, str]]:
    """(line, target) of every relative link on the page (fenced code blocks included: they name files too)."""
    found = []
    for number, line in enumerate(page.read_text().splitlines(), 1):
        for m in MD_LINK.finditer(line):
            target = m.group(1)
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("/"):
                found.append((number, target))
        for m in CODE.finditer(line):
            token = m.group(1).rstrip(".,:;)")
            if "://" in token or token.startswith(("/", "./var", "var/")) or re.search(r"[<>{}*$=]", token):
                continue
            first = token.split("/", 1)[0]
            if ("/" in token and first in top_level) or ("/" in token and token.endswith(SUFFIXES)):
                found.append((number, token))
    return found


def test_the_checked_pages_exist() -> None:
    assert ROOT / "README.md" in PAGES and len(PAGES) > 3


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    paths = repository_paths()
    top_level = {p for p in paths if "/" not in p} - {"var"}
    dead = [f"{page.relative_to(ROOT)}:{n}: {t}" for n, t in links(page, top_level) if not resolves(t, page, paths)]
    assert dead == [], "\n".join(dead)
