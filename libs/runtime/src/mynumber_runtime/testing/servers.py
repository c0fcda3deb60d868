"""Where the tests get their servers: URLs from the environment, else PostgreSQL from testcontainers when a Docker
engine answers, else embedded servers started here (never a server left running by hand). NATS is always ours:
its authorization (one user per service) is generated for the session."""

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
ENV_NATS_SECRETS = "MYNUMBER_TEST_NATS_SECRETS_DIR"


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
    """Always a server whose users and permissions are the platform's (`nats_identity`), so every test connects as
    the service it plays. An external one (MYNUMBER_TEST_NATS_URL) must come with its users' password files in
    MYNUMBER_TEST_NATS_SECRETS_DIR (`make run` keeps them in `<data>/secrets/nats`)."""
    from mynumber_runtime.nats_identity import NatsSecrets
    from mynumber_runtime.testing import identities

    if url := os.environ.get(ENV_NATS):
        secrets_dir = os.environ.get(ENV_NATS_SECRETS)
        if not secrets_dir:
            raise RuntimeError(f"{ENV_NATS} needs {ENV_NATS_SECRETS}: the folder of its users' password files")
        identities._state["nats"] = NatsSecrets(Path(secrets_dir))
        yield url
        return
    root = scratch_dir("mynumber-nats-")
    try:
        with EmbeddedNats(root, secrets=identities.session_nats_secrets(),
                          users=identities.session_nats_users()) as nats:
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
