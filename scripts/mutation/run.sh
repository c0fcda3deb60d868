#!/usr/bin/env bash
# A mutation run with cosmic-ray over one target of this folder (codes, ff1, tenancy, consumer, audit):
#   bash scripts/mutation/run.sh ff1
#   bash scripts/mutation/run.sh consumer 80     # a uniform random sample of 80 of its mutants (seed 15), for the
#                                                # targets whose tests need servers (minutes per mutant)
# cosmic-ray lives in its own venv under var/mutation (pinned in requirements.txt here; it only parses and edits
# source), and runs each mutant against the project's .venv through the target's test command. It mutates the
# files in place one at a time and restores them: run it in a checkout with no uncommitted work.
# cosmic-ray runs the pending mutants in random order (work_db.pending_work_items), so a run stopped early (kill its
# process group, then `git checkout` the mutated module) has run a uniform random subset; its results stay in the db.
# Prints the surviving mutants (each must be killed by a test or explained) and the totals.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?usage: run.sh codes|ff1|tenancy|consumer|audit [sample size]}
sample=${2:-}
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
# Mutants that only edit an annotation (the targets are all under `from __future__ import annotations`) are
# equivalent: marked SKIPPED, not run (see skip_annotations.py). A sample is drawn from the others.
"$venv/bin/python" scripts/mutation/skip_annotations.py "$db"
if [[ -n $sample ]]; then
  "$venv/bin/python" - "$db" "$sample" <<'PY'
import random, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ids = sorted(r[0] for r in db.execute(
    "SELECT job_id FROM work_items WHERE job_id NOT IN (SELECT job_id FROM work_results)"))
keep = set(random.Random(15).sample(ids, min(int(sys.argv[2]), len(ids))))
drop = [(i,) for i in ids if i not in keep]
db.executemany("DELETE FROM mutation_specs WHERE job_id = ?", drop)
db.executemany("DELETE FROM work_items WHERE job_id = ?", drop)
db.commit()
print(f"mutation: a random sample of {len(keep)} of the {len(ids)} mutants left to run (seed 15)")
PY
fi
"$venv/bin/cosmic-ray" baseline "$cfg"
"$venv/bin/cosmic-ray" exec "$cfg" "$db"
"$venv/bin/cr-report" --show-pending "$db" | grep -B1 -A30 "test outcome: TestOutcome.SURVIVED" || true
"$venv/bin/cr-report" "$db" | tail -3
