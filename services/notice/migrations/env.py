from mynumber_runtime.db import run_alembic_env
from notice.models import metadata

run_alembic_env(metadata)
