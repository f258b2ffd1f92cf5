# Sourced by pilot_tune.sh and main_grid.sh: the Python to use, torch
# threads, and the code to run. FROZEN=1 runs the code of the commit
# checked out in $FROZEN_DIR (default work_dirs/frozen_code; main_grid.sh:
# work_dirs/frozen_main_grid), a git worktree made on first use from the
# commit pinned for it in frozen_commits.txt, or from HEAD when none is
# (delete the worktree and its pin to take a newer HEAD), so that edits to
# this checkout cannot change a grid in progress; results and work dirs
# stay in this checkout.
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
  FROZEN_DIR=${FROZEN_DIR:-work_dirs/frozen_code}
  CODE=$REPO/$FROZEN_DIR
  if [ ! -d "$CODE" ]; then
    # a fresh checkout has no work_dirs/: take the commit pinned for this
    # worktree in frozen_commits.txt, so resumed grids keep their code;
    # a worktree not pinned yet is made from HEAD and pinned (commit it)
    PINS=$REPO/benchmarks/frozen_commits.txt
    PINNED=$(awk -v d="$FROZEN_DIR" '$1 == d {print $2}' "$PINS")
    if [ -z "$PINNED" ]; then
      PINNED=$(git rev-parse HEAD)
      echo "$FROZEN_DIR $PINNED" >> "$PINS"
      echo "pinned $PINNED in $PINS: commit it with the first row" >&2
    fi
    git worktree prune
    git worktree add --detach "$CODE" "$PINNED"
  fi
  echo "frozen code: $CODE at $(git -C "$CODE" rev-parse --short HEAD)" >&2
  export PYTHONPATH=$CODE
fi
