from mynumber_runtime.db import run_alembic_env
from numbering.models import metadata

run_alembic_env(metadata)
