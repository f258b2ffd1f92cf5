# Sourced by pilot_tune.sh and main_grid.sh: the Python to use, torch
# threads, and the code to run. FROZEN=1 runs the code of the commit
# checked out in $FROZEN_DIR (default work_dirs/frozen_code; main_grid.sh:
# work_dirs/frozen_main_grid), a git worktree made from HEAD on first use
# (delete it to take a newer HEAD), so that edits to this checkout cannot
# change a grid in progress; results and work dirs stay in this checkout.
# Sets REPO, PY, THREADS, CODE (and PYTHONPATH when frozen).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
PY=${PY:-$REPO/.venv/bin/python}
# one torch thread by default: on this 2-core machine anything else running
# beside a 2-thread training stalls OpenMP (a tiny CTR-GCN step: 4.1 s with
# 2 threads beside another process, 0.045 s with 1); THREADS=2 on a quiet
# machine is about 1.6x faster
THREADS=${THREADS:-1}
CODE=$REPO
if [ "${FROZEN:-0}" = 1 ]; then
  # FROZEN_DIR: one worktree per protocol (the pilot keeps its code while
  # the main grid starts from a later HEAD)
  CODE=$REPO/${FROZEN_DIR:-work_dirs/frozen_code}
  [ -d "$CODE" ] || git worktree add --detach "$CODE" HEAD
  echo "frozen code: $CODE at $(git -C "$CODE" rev-parse --short HEAD)" >&2
  export PYTHONPATH=$CODE
fi
