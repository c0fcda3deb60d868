"""Each service's Alembic migrations, run on a fresh database, build exactly the schema its models.py describes.

Two checks, because Alembic's autogenerate comparison sees only part of a schema: `compare_metadata` (tables,
columns with their types, nullability and server defaults, indexes, unique and foreign keys) must find nothing,
and the catalog of the migrated database must equal that of a database made by `metadata.create_all()`: that
also compares check constraints and every constraint's name, partial-index predicates, identity and serial
columns, and sequences. What a migration makes on purpose without a model (raw-SQL objects) is listed below.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from mynumber_runtime.db import migrate, sync_url

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("numbering", "notice", "jpki", "issuance")

# Objects the migrations make in raw SQL that the models do not describe.
MIGRATION_ONLY: dict[str, set[tuple[str, ...]]] = {
    # FF1 change counters (models.change_counter names them) and the append-only rules of the access log.
    "numbering": {("sequence", f"change_counter_{region}") for region in range(1, 10)}
    | {("rule", "access_log", "access_log_no_update"), ("rule", "access_log", "access_log_no_delete")},
    "notice": set(),
    "jpki": set(),
    # The append-only rules of the access log.
    "issuance": {("rule", "access_log", "access_log_no_update"), ("rule", "access_log", "access_log_no_delete")},
}

_CATALOG = {
    "column": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::text,
               coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity::text
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = :schema AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraint": """
        SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = :schema""",
    "index": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = :schema",
    "sequence": "SELECT sequencename FROM pg_sequences WHERE schemaname = :schema",
    "rule": "SELECT tablename, rulename FROM pg_rules WHERE schemaname = :schema",
}


def catalog(url: str, schema: str) -> set[tuple[str, ...]]:
    """The schema's tables, columns, constraints, indexes, sequences and rules, as PostgreSQL reports them."""
    engine = sa.create_engine(sync_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            found = {(kind, *map(str, row)) for kind, sql in _CATALOG.items()
                     for row in conn.execute(sa.text(sql), {"schema": schema})}
    finally:
        engine.dispose()
    # Alembic's own bookkeeping is not part of the service's schema.
    return {item for item in found if "alembic_version" not in item[1:3]}


def not_alembic_version(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and name == "alembic_version")


def alembic_config(url: str, service: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    cfg.attributes["url"] = sync_url(url)
    return cfg


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_the_schema_the_models_describe(service: str, new_database: Callable[[], str]) -> None:
    metadata = importlib.import_module(f"{service}.models").metadata
    schema = metadata.schema
    migrated = new_database()
    migrate(migrated, ROOT / "services" / service / "migrations")

    engine = sa.create_engine(sync_url(migrated), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "compare_server_default": True, "include_schemas": True,
                "include_name": lambda name, type_, parent: type_ != "schema" or name == schema,
                "include_object": not_alembic_version,
            })
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()

    reference = new_database()
    engine = sa.create_engine(sync_url(reference), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            metadata.create_all(conn)
    finally:
        engine.dispose()
    got, want = catalog(migrated, schema), catalog(reference, schema)
    assert sorted(want - got) == [], "the models have what the migrations do not make"
    assert sorted(got - want) == sorted(MIGRATION_ONLY[service]), "the migrations make what the models do not have"


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_downgrade_to_an_empty_schema(service: str, new_database: Callable[[], str]) -> None:
    schema = importlib.import_module(f"{service}.models").metadata.schema
    url = new_database()
    command.upgrade(alembic_config(url, service), "head")
    command.downgrade(alembic_config(url, service), "base")
    assert sorted(catalog(url, schema)) == []
