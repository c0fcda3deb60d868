"""Where the tests get their servers: URLs from the environment, testcontainers when a Docker engine answers,
else embedded servers started here (never a server left running by hand)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from mynumber_runtime.embedded import EmbeddedNats, EmbeddedPostgres

ENV_POSTGRES = "MYNUMBER_TEST_POSTGRES_URL"
ENV_NATS = "MYNUMBER_TEST_NATS_URL"


def docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:  # no engine, no socket, no package: all mean "no Docker here"
        return False


def scratch_dir(prefix: str) -> Path:
    # World-traversable: the embedded PostgreSQL runs as its own unprivileged user when tests run as root.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    if url := os.environ.get(ENV_POSTGRES):
        yield url
        return
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="psycopg") as pg:
            yield pg.get_connection_url()
        return
    root = scratch_dir("mynumber-pg-")
    try:
        with EmbeddedPostgres(root, durable=False) as pg:
            yield pg.url
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def nats_server() -> Iterator[str]:
    if url := os.environ.get(ENV_NATS):
        yield url
        return
    if docker_available():
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        with DockerContainer("nats:2.10").with_command("-js").with_exposed_ports(4222) as c:
            wait_for_logs(c, "Server is ready")
            yield f"nats://{c.get_container_host_ip()}:{c.get_exposed_port(4222)}"
        return
    root = scratch_dir("mynumber-nats-")
    try:
        with EmbeddedNats(root) as nats:
            yield nats.url
    finally:
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    import psycopg

    url = make_url(server_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                         dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)
