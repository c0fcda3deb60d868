"""Writes services/<svc>/requirements.txt: what a service's image installs from the package index.

That is the closure of the service's declared dependencies (the pyproject.toml of the service and of each workspace
package it needs, then each third-party dependency's metadata as installed in this venv: extras followed, environment
markers evaluated for this interpreter, a package's `test` and other unrequested extras not), without the workspace
packages (those are installed from source), each pinned by its line(s) in the root requirements.txt. So no test or
lint tool gets into an image, and the files follow the root pins: run this after `make setup` picked up a new
requirements.txt, or after a pyproject.toml's dependencies changed.

    python scripts/service_requirements.py            # rewrite every services/*/requirements.txt
    python scripts/service_requirements.py --check    # exit 1 if one is not what it would write (make lint)

Run it with the workspace venv's interpreter (the images' Python: 3.11 on Linux), whose installed metadata it reads.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE_GLOBS = ("gen/python", "libs/*", "services/*", "tools/*")
WORKSPACE_LINE = "# workspace packages (from source, --no-deps):"


@dataclass(frozen=True)
class Closure:
    """A service's run-time dependencies: third-party distribution names and workspace package folders."""

    third_party: frozenset[str]
    workspace: tuple[str, ...]


def workspace_packages(root: Path = ROOT) -> dict[str, str]:
    """Canonical distribution name -> folder (relative to the root) of every workspace package."""
    found: dict[str, str] = {}
    for pattern in WORKSPACE_GLOBS:
        for pyproject in sorted(root.glob(f"{pattern}/pyproject.toml")):
            name = tomllib.loads(pyproject.read_text())["project"]["name"]
            found[canonicalize_name(name)] = pyproject.parent.relative_to(root).as_posix()
    return found


def declared(folder: Path) -> list[str]:
    """A workspace package's dependencies as its pyproject.toml declares them (the source, not an installed copy of
    its metadata that may predate an edit), optional ones marked with their extra as wheel metadata would be."""
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    requires = list(project.get("dependencies", []))
    for extra, deps in project.get("optional-dependencies", {}).items():
        requires += [f"{dep}; extra == {extra!r}" for dep in deps]
    return requires


def _wanted(req: Requirement, extras: frozenset[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": extra}) for extra in extras | {""})


def closure(service: str, root: Path = ROOT) -> Closure:
    """Walk the installed metadata from the service's workspace package through every dependency it needs."""
    workspace = workspace_packages(root)
    folder = f"services/{service}"
    start = next((name for name, path in workspace.items() if path == folder), None)
    if start is None:
        raise SystemExit(f"no workspace package in {folder}")
    third_party: set[str] = set()
    used: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [(start, frozenset())]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        (used if name in workspace else third_party).add(name)
        if name in workspace:
            requires = declared(root / workspace[name])
        else:
            try:
                requires = metadata.requires(name) or []
            except metadata.PackageNotFoundError:
                raise SystemExit(f"{name} (needed by {service}) is not installed here: run `make setup`") from None
        for line in requires:
            req = Requirement(line)
            if _wanted(req, extras):
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return Closure(frozenset(third_party), tuple(sorted(workspace[name] for name in used)))


def root_pins(root: Path = ROOT) -> dict[str, list[str]]:
    """Canonical name -> its lines in the root requirements.txt (a name may have one line per marker)."""
    pins: dict[str, list[str]] = {}
    for raw in (root / "requirements.txt").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        req = Requirement(line)
        pins.setdefault(canonicalize_name(req.name), []).append(line)
    return pins


def _pinned_version(line: str) -> str | None:
    """The version a pin line gives on this interpreter, None when its marker excludes it here."""
    spec, _, marker = line.partition(";")
    if marker.strip() and not Marker(marker.strip()).evaluate():
        return None
    return spec.split("==", 1)[1].strip()


def render(service: str, root: Path = ROOT) -> str:
    found = closure(service, root)
    pins = root_pins(root)
    lines = [
        f"# The {service} image's third-party run-time dependencies: the closure of its declared dependencies, pinned",
        "# as in the root requirements.txt. Generated by scripts/service_requirements.py (make lint checks it is",
        "# current); do not edit.",
        f"{WORKSPACE_LINE} {' '.join(found.workspace)}",
    ]
    for name in sorted(found.third_party):
        if name not in pins:
            raise SystemExit(f"{name} (needed by {service}) has no pin in requirements.txt")
        installed = metadata.version(name)
        here = [v for v in map(_pinned_version, pins[name]) if v is not None]
        if here and installed not in here:
            raise SystemExit(f"{name} is {installed} here but requirements.txt pins {here[0]}: run `make setup`")
        lines.extend(pins[name])
    return "\n".join(lines) + "\n"


def services(root: Path = ROOT) -> list[str]:
    return sorted(p.parent.name for p in root.glob("services/*/pyproject.toml"))


def stale(root: Path = ROOT) -> list[str]:
    """The services whose committed requirements.txt is not what `render` gives."""
    out = []
    for service in services(root):
        target = root / "services" / service / "requirements.txt"
        if not target.exists() or target.read_text() != render(service, root):
            out.append(service)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files that are not current (exit 1)")
    args = parser.parse_args(argv)
    if args.check:
        if bad := stale():
            print(f"stale: {', '.join(f'services/{s}/requirements.txt' for s in bad)}; "
                  "run: python scripts/service_requirements.py", file=sys.stderr)
            return 1
        return 0
    for service in services():
        (ROOT / "services" / service / "requirements.txt").write_text(render(service))
        print(f"services/{service}/requirements.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
