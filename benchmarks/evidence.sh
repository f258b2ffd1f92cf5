#!/usr/bin/env bash
# The whole evidence experiment of docs/protocol.md in one resumable
# command: the tuning pilot, a gradient-share diagnostic run on the tuning
# split, then the controlled test on the synthetic demo set, then the main
# grid on NW-UCLA's view 3. Every step's settings come
# from the written rules (benchmarks/pilot_rules.py, grid_rules.py), not
# from a person reading the numbers in between. Finished rows are skipped
# and a killed run resumes from its checkpoint, so after an interruption
# the same command goes on where it stopped:
#   bash benchmarks/evidence.sh
# Each step runs its own frozen code (grid_env.sh): the pilot
# work_dirs/frozen_code, the diagnostic run, the demo test and the main
# grid work_dirs/frozen_main_grid. THREADS (default 1) applies to every step.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$PWD/.venv/bin/python}
export PY
# a fresh checkout has no .venv (and no work_dirs/: grid_env.sh rebuilds
# the frozen code from benchmarks/frozen_commits.txt)
[ -x "$PY" ] || make install
FROZEN=1 bash benchmarks/pilot_tune.sh all
eval "$($PY benchmarks/pilot_rules.py passes)"
eval "$($PY benchmarks/pilot_rules.py frames)"
eval "$($PY benchmarks/pilot_rules.py sf)"
echo "main grid: PASSES=$PASSES FRAMES=$FRAMES SF=$SF" >&2
# diagnostic (tuning split): the SF losses' share of the backbone gradient
# over a whole training run; the main grid's frozen code has the hook
PASSES=$PASSES FRAMES=$FRAMES SF=$SF FROZEN=1 \
  FROZEN_DIR=work_dirs/frozen_main_grid bash benchmarks/pilot_tune.sh \
  gradient-share
PASSES=6 FROZEN=1 bash benchmarks/main_grid.sh demo  # the protocol: 6 passes
PASSES=$PASSES FRAMES=$FRAMES SF=$SF FROZEN=1 \
  bash benchmarks/main_grid.sh nw-ucla
