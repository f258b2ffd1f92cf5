#!/usr/bin/env bash
# The main grid of docs/protocol.md on NW-UCLA's test split (view 3), and
# the controlled test on the synthetic demo set. Run only after the
# protocol's main-grid section is filled in from the pilot. Resumable and
# committed row by row like pilot_tune.sh (FROZEN=1, THREADS: grid_env.sh).
#   PASSES=40 FRAMES=32 SF='sfhead_branch' bash benchmarks/main_grid.sh nw-ucla
#   bash benchmarks/main_grid.sh demo
# SF: the SF-Head branch variant chosen by the pilot, e.g.
#   'sfhead_branch+tau=0.03'; the inline variant gets the same fields.
FROZEN_DIR=${FROZEN_DIR:-work_dirs/frozen_main_grid}
source "$(dirname "$0")/grid_env.sh"
RUN="$PY $CODE/benchmarks/nw_ucla.py --split test --threads $THREADS
  --git-commit --work-root $REPO/work_dirs/bench"
case "${1:-}" in
  nw-ucla)
    PASSES=${PASSES:?set PASSES to the protocol value}
    FRAMES=${FRAMES:?set FRAMES to the protocol value}
    SF=${SF:?set SF to the SF-Head variant fixed in docs/protocol.md}
    INLINE=${SF/sfhead_branch/sfhead_inline}
    # one seed at a time over all variants: every finished seed is a pair;
    # seeds 0-11, then blocks of 4 while the primary CI is too wide
    # (benchmarks/grid_rules.py, the protocol's seed rule)
    seed=0
    while [ "$seed" -lt "$($PY "$REPO/benchmarks/grid_rules.py" seeds \
        --sf "$SF" --passes "$PASSES" --frames "$FRAMES")" ]; do
      $RUN --dataset nw-ucla --passes "$PASSES" --frames "$FRAMES" \
        --results "$REPO/benchmarks/results/nw-ucla_test.jsonl" \
        --data "$REPO/../shared/data/nw_ucla" --seeds "$seed" \
        --variants baseline "$SF" "$INLINE" frhead
      seed=$((seed + 1))
    done
    ;;
  demo)
    for seed in 0 1 2 3 4 5 6 7 8 9; do
      $RUN --dataset demo --passes "${PASSES:-6}" --warmup 1 \
        --results "$REPO/benchmarks/results/demo_test.jsonl" \
        --seeds "$seed" --variants baseline sfhead_branch sfhead_inline \
        frhead
    done
    ;;
  *) echo "usage: $0 nw-ucla|demo" >&2; exit 2 ;;
esac
