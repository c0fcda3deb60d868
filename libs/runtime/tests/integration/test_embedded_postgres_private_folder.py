"""The embedded PostgreSQL from a checkout under a private folder (mode 0700, as root's home is): as root the server
runs as system user mynumber-pg, which cannot enter such a folder. The wheel's binaries are copied into the private
folder here with the wheel's layout, as they sit in a private checkout's .venv, and the data folder is there too."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from mynumber_runtime.embedded import EmbeddedPostgres, PostgresError
from mynumber_runtime.testing.servers import scratch_dir

pytestmark = pytest.mark.integration
AS_ROOT = os.geteuid() == 0


@pytest.fixture
def root() -> Iterator[Path]:
    path = scratch_dir("mynumber-private-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def private(root: Path) -> Path:
    """A private folder holding a copy of the pgserver wheel's install (binaries and their bundled libraries)."""
    folder = root / "home"
    wheel = EmbeddedPostgres.wheel_install_dir()
    shutil.copytree(wheel, folder / "site" / "pgserver" / "pginstall", symlinks=True)
    shutil.copytree(wheel.parent.parent / "pgserver.libs", folder / "site" / "pgserver.libs", symlinks=True)
    folder.chmod(0o700)
    return folder


def server(private: Path, stage: Path, data: str = "var/pg") -> EmbeddedPostgres:
    return EmbeddedPostgres(private / data, durable=False, install_dir=private / "site" / "pgserver" / "pginstall",
                            stage_root=stage)


def query(pg: EmbeddedPostgres, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname="mynumber", autocommit=True) as c:
        cur = c.execute(sql)
        return cur.fetchall() if cur.description else []


def test_postgres_runs_and_keeps_its_data_from_a_checkout_under_a_private_folder(root: Path, private: Path):
    stage = root / "stage"
    with server(private, stage) as pg:
        query(pg, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)")
    with server(private, stage) as pg:  # a restart finds the same cluster through the data folder
        assert query(pg, "SELECT id FROM kept") == [(7,)]
    link = private / "var" / "pg"
    if AS_ROOT:  # the server's user could not reach the folder: its files were staged where it can, and linked
        assert link.is_symlink() and Path(os.readlink(link)).is_relative_to(stage / "clusters")
        server_dir = Path(os.readlink(link))
        assert server_dir.stat().st_uid != 0 and stat.S_IMODE(server_dir.stat().st_mode) == 0o700
        assert (stage / "install").is_dir() and stat.S_IMODE(private.stat().st_mode) == 0o700  # not loosened


def test_deleting_the_data_folder_starts_afresh_and_the_abandoned_cluster_is_removed(root: Path, private: Path,
                                                                                      monkeypatch):
    import mynumber_runtime.embedded as embedded

    stage = root / "stage"
    with server(private, stage) as pg:
        query(pg, "CREATE TABLE gone (id int)")
    first = Path(os.readlink(private / "var" / "pg")).parent if AS_ROOT else None
    shutil.rmtree(private / "var")
    clean = embedded._remove_abandoned_clusters
    monkeypatch.setattr(embedded, "_remove_abandoned_clusters", lambda clusters: clean(clusters, grace=0))
    with server(private, stage) as pg:
        assert query(pg, "SELECT to_regclass('gone') IS NULL") == [(True,)]
    if first is not None:
        assert not first.exists()


def test_an_initdb_failure_is_one_line_naming_the_tool_and_its_reason(root: Path):
    fake = root / "fake" / "pginstall"
    (fake / "bin").mkdir(parents=True)
    initdb = fake / "bin" / "initdb"
    initdb.write_text("#!/bin/sh\necho 'initdb: warning: noise' >&2\necho 'initdb: error: cannot do it' >&2\nexit 1\n")
    initdb.chmod(0o755)
    for folder in (root / "fake", fake, fake / "bin"):
        folder.chmod(0o755)
    with pytest.raises(PostgresError) as caught:
        EmbeddedPostgres(root / "data", install_dir=fake, stage_root=root / "stage").start()
    assert str(caught.value) == "initdb failed: initdb: error: cannot do it"
    assert caught.value.__cause__ is None and caught.value.__context__ is None  # no chained traceback


@pytest.mark.skipif(not AS_ROOT, reason="only root runs the server as another user; others always reach their files")
def test_an_existing_cluster_out_of_reach_is_refused_in_one_line_and_left_untouched(root: Path, private: Path):
    version = private / "var" / "pg" / "pgdata" / "PG_VERSION"
    version.parent.mkdir(parents=True)
    version.write_text("16\n")
    with pytest.raises(PostgresError, match=r"^the PostgreSQL data in .* is out of reach of system user mynumber-pg"):
        server(private, root / "stage").start()
    assert version.read_text() == "16\n"
