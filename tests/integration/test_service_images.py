"""Each service's image contents, built without a Docker engine: a clean venv gets exactly what the Dockerfile
installs (the service's requirements.txt with --no-deps and wheels only, then its workspace packages from source),
and the service must then be complete (`uv pip check`), import every module of its package and answer `--help`.

uv's cache (UV_CACHE_DIR, else its default) is shared by the three venvs, so after the first only the workspace
packages are built. About 15 s per service on this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("numbering", "notice", "jpki")
WORKSPACE_LINE = "# workspace packages (from source, --no-deps):"
# Imports every module of the package (the entry point only loads what a command needs).
IMPORT_ALL = """
import importlib, pkgutil, sys
pkg = importlib.import_module(sys.argv[1])
for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
    if not m.name.endswith(".__main__"):
        importlib.import_module(m.name)
"""


def uv() -> str:
    found = shutil.which("uv") or str(ROOT / "var" / "uv" / "bin" / "uv")
    if not Path(found).exists():
        pytest.fail("uv is neither on PATH nor in var/uv: run scripts/setup.sh")
    return found


def run(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("service", SERVICES)
def test_service_runs_from_its_own_requirements_in_a_clean_venv(service: str, tmp_path: Path) -> None:
    requirements = ROOT / "services" / service / "requirements.txt"
    workspace = next(line.removeprefix(WORKSPACE_LINE).split() for line in requirements.read_text().splitlines()
                     if line.startswith(WORKSPACE_LINE))
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env |= {"UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": str(venv)}
    run(uv(), "venv", "-q", "-p", sys.executable, str(venv), env=env)
    run(uv(), "pip", "install", "-q", "--no-deps", "--only-binary", ":all:", "-r", str(requirements), env=env)
    run(uv(), "pip", "install", "-q", "--no-deps", *workspace, env=env)
    run(uv(), "pip", "check", env=env)

    installed = {d["name"] for d in json.loads(run(uv(), "pip", "list", "--format", "json", env=env))}
    assert not installed & {"pytest", "mypy", "ruff", "buf-bin", "grpcio-tools", "pyscard", "pip", "setuptools"}

    python = str(venv / "bin" / "python")
    clean = env | {"PYTHONNOUSERSITE": "1"}
    run(python, "-I", "-c", IMPORT_ALL, service, env=clean)
    assert "usage:" in run(python, "-I", "-m", service, "--help", env=clean)
