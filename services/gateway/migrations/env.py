from gateway.repository import metadata
from mynumber_runtime.db import run_alembic_env

run_alembic_env(metadata)
