# The targets CI runs. `make setup` then `make run` bring the platform up on a fresh machine; `make test` tests it.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
# uv from PATH, else the pinned copy scripts/setup.sh put in a private venv.
UV ?= $(or $(shell command -v uv 2>/dev/null),var/uv/bin/uv)
# Workspace packages, installed editable on top of the pinned third-party set.
PACKAGES := $(sort $(dir $(wildcard gen/python/pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml)))

.PHONY: setup run demo test test-unit lint proto check-generated charts bench lock clean

setup:  ## install system packages (apt), uv, the venv, pinned Python packages and the workspace (= bash scripts/setup.sh)
	bash scripts/setup.sh

run:  ## the whole platform on this machine: embedded PostgreSQL + NATS, migrations, every service; Ctrl-C stops
	$(PY) -m mynumber_devstack run

test:  ## unit, integration (real PostgreSQL, NATS, pcscd, SoftHSM started by the tests), contract and e2e
	$(PY) -m pytest -q -p no:cacheprovider

test-unit:
	$(PY) -m pytest -q -p no:cacheprovider -k "not integration" $(wildcard libs/*/tests/unit services/*/tests/unit tools/*/tests/unit)

# Every workspace package's source is type-checked: a new package is in by being there (gen/python is generated).
MYPY_SOURCES := $(sort $(wildcard libs/*/src services/*/src tools/*/src))

lint:  ## ruff and mypy (strict) on our code; the services' image requirements follow requirements.txt
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy $(MYPY_SOURCES) $(wildcard scripts/*.py)
	$(PY) scripts/service_requirements.py --check

proto:  ## regenerate gen/python from proto/ (after buf lint)
	$(VENV)/bin/buf lint proto
	bash scripts/gen_proto.sh gen/python

# Breaking is FILE (proto/buf.yaml) against the previous commit. A break the project accepts before release (a field
# renumbered with a new type, its old number reserved) is declared in the commit that makes it, by a trailer
# `Proto-Breaking: <why>`; a commit from HEAD~1 to HEAD carrying one (on a merge: the merged branch's commits) lowers
# the check to WIRE for that step only: every deleted field's or enum value's number must still be reserved. The next
# commit is held to FILE against it again.
BREAKING_WIRE := {"version":"v2","modules":[{"path":"proto"}],"breaking":{"use":["WIRE"]}}

check-generated:  ## buf lint + breaking (against the previous commit) + the committed code matches proto/
	$(VENV)/bin/buf lint proto
	if git rev-parse -q --verify HEAD~1 >/dev/null && git cat-file -e HEAD~1:proto/buf.yaml 2>/dev/null; then \
	  declared="$$(git log --format='%(trailers:key=Proto-Breaking,valueonly)' HEAD~1..HEAD | grep -v '^$$' || true)"; \
	  if [[ -n "$$declared" ]]; then \
	    echo "Proto-Breaking declared since HEAD~1 ($$declared): breaking check WIRE (old numbers reserved) for this step"; \
	    $(VENV)/bin/buf breaking proto --against '.git#ref=HEAD~1,subdir=proto' --config '$(BREAKING_WIRE)'; \
	  else \
	    $(VENV)/bin/buf breaking proto --against '.git#ref=HEAD~1,subdir=proto'; \
	  fi; fi
	rm -rf var/gen-check && mkdir -p var/gen-check
	bash scripts/gen_proto.sh var/gen-check
	diff -r -x __pycache__ gen/python/mynumber var/gen-check/mynumber || \
	  { echo "generated code is stale: run 'make proto' and commit"; exit 1; }

charts:  ## lint, render (east, west) and schema-validate the Helm chart, offline
	$(PY) charts/check.py

bench:  ## benchmarks print figures next to a baseline measured in the same run
	$(PY) bench/numbering/run.py
	$(PY) bench/notice/run.py
	$(PY) bench/notice/db_path.py
	$(PY) bench/ocsp/run.py
	$(PY) bench/gateway/run.py

lock:  ## re-pin every dependency (uv.lock stays out of git; requirements.txt has no registry address)
	$(UV) lock
	$(UV) export --no-emit-workspace --no-hashes --all-packages --all-groups --all-extras --no-header --no-annotate -o requirements.txt

clean:
	rm -rf var/gen-check .pytest_cache .mypy_cache .ruff_cache
