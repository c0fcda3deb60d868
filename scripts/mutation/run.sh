#!/usr/bin/env bash
# A mutation run with cosmic-ray over one target of this folder (codes, ff1, tenancy, consumer, audit):
#   bash scripts/mutation/run.sh ff1
# cosmic-ray lives in its own venv under var/mutation (pinned in requirements.txt here; it only parses and edits
# source), and runs each mutant against the project's .venv through the target's test command. It mutates the
# files in place one at a time and restores them: run it in a checkout with no uncommitted work.
# Prints the surviving mutants (each must be killed by a test or explained) and the totals.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?usage: run.sh codes|ff1|tenancy|consumer|audit}
cfg=scripts/mutation/$target.toml
venv=var/mutation/venv
if [[ ! -x $venv/bin/cosmic-ray ]]; then
  UV=$(command -v uv || echo var/uv/bin/uv)
  "$UV" venv -q "$venv" --python .venv/bin/python
  "$UV" pip install -q --python "$venv/bin/python" -r scripts/mutation/requirements.txt
fi
if ! git diff --quiet; then
  echo "mutation: uncommitted changes; commit or stash first (mutants are written into the files)" >&2
  exit 2
fi
db=var/mutation/$target.sqlite
rm -f "$db"
"$venv/bin/cosmic-ray" init "$cfg" "$db"
"$venv/bin/cosmic-ray" baseline "$cfg"
"$venv/bin/cosmic-ray" exec "$cfg" "$db"
"$venv/bin/cr-report" --show-pending "$db" | grep -B1 -A30 "test outcome: TestOutcome.SURVIVED" || true
"$venv/bin/cr-report" "$db" | tail -3
