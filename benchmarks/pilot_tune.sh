#!/usr/bin/env bash
# The tuning pilot of docs/protocol.md, on NW-UCLA subjects 1-8 -> 9-10 of
# views 1+2 (never view 3). Resumable: finished rows are skipped, a killed
# run resumes from its last checkpoint; each finished row is committed.
#   bash benchmarks/pilot_tune.sh passes   # P1: baseline, 20 and 40 passes
#   PASSES=40 bash benchmarks/pilot_tune.sh frames  # P1: 32 frames
#   PASSES=20 bash benchmarks/pilot_tune.sh sf   # P2: SF-Head settings
#   PASSES=40 FRAMES=32 bash benchmarks/pilot_tune.sh alpha2  # if flagged
#   PASSES=40 FRAMES=32 bash benchmarks/pilot_tune.sh combination  # if due
#   bash benchmarks/pilot_tune.sh all   # each step, by pilot_rules.py
#   PASSES=40 FRAMES=32 SF=sfhead_branch bash benchmarks/pilot_tune.sh \
#     gradient-share   # diagnostic: SF / CE backbone gradient over training
# Edit this file only by writing a new one and renaming it over: bash reads
# a running script as it goes, and an in-place edit changes what it reads.
# FROZEN=1 and THREADS: see grid_env.sh.
source "$(dirname "$0")/grid_env.sh"
RUN="$PY $CODE/benchmarks/nw_ucla.py --split tune --threads $THREADS
  --git-commit --results $REPO/benchmarks/results/nw-ucla_tune.jsonl
  --work-root $REPO/work_dirs/bench --data $REPO/../shared/data/nw_ucla"
case "${1:-passes}" in
  passes)
    $RUN --passes 20 --variants baseline --seeds 0 1 2
    $RUN --passes 40 --variants baseline --seeds 0 1 2
    ;;
  frames)
    PASSES=${PASSES:?set PASSES to the pass count chosen in P1}
    $RUN --passes "$PASSES" --frames 32 --variants baseline --seeds 0 1 2
    ;;
  sf)
    PASSES=${PASSES:?set PASSES to the pass count chosen in P1}
    FRAMES=${FRAMES:-52}
    # same start: a zero-weight branch head must train exactly as the baseline
    $RUN --passes "$PASSES" --frames "$FRAMES" --seeds 0 --variants \
      'sfhead_branch+lambda_con=0+lambda_red=0'
    $RUN --passes "$PASSES" --frames "$FRAMES" --seeds 0 1 2 --variants \
      baseline \
      sfhead_branch \
      'sfhead_branch+phi=printed' \
      'sfhead_branch+tau=0.03' \
      'sfhead_branch+lambda_con=0.4+lambda_red=0.2'
    ;;
  all)
    # the whole pilot, resumable: each step's choice by the written rules
    bash "$0" passes
    eval "$($PY "$REPO/benchmarks/pilot_rules.py" passes)"
    PASSES=$PASSES bash "$0" frames
    eval "$($PY "$REPO/benchmarks/pilot_rules.py" frames)"
    echo "pilot: PASSES=$PASSES FRAMES=$FRAMES" >&2
    PASSES=$PASSES FRAMES=$FRAMES bash "$0" sf
    if $PY "$REPO/benchmarks/pilot_rules.py" needs-alpha-2; then
      PASSES=$PASSES FRAMES=$FRAMES bash "$0" alpha2
    fi
    PASSES=$PASSES FRAMES=$FRAMES bash "$0" combination
    $PY "$REPO/benchmarks/pilot_rules.py" sf
    ;;
  combination)
    # the protocol's rule for several winning settings: run them together
    PASSES=${PASSES:?set PASSES}
    FRAMES=${FRAMES:?set FRAMES}
    if COMBO=$($PY "$REPO/benchmarks/pilot_rules.py" combination); then
      eval "$COMBO"
      $RUN --passes "$PASSES" --frames "$FRAMES" --seeds 0 1 2 \
        --variants "$COMBINATION"
    fi
    ;;
  alpha2)
    # the protocol's clause: the F-RL logit span stayed below 1 at tau 0.03
    PASSES=${PASSES:?set PASSES}
    FRAMES=${FRAMES:?set FRAMES}
    $RUN --passes "$PASSES" --frames "$FRAMES" --seeds 0 1 2 --variants \
      'sfhead_branch+alpha=2.0'
    ;;
  gradient-share)
    # the chosen setting at seed 0 again, logging the SF losses' backbone
    # gradient against CE's every 20 iterations (GradientShareHook leaves
    # training unchanged; this run is reseeded every epoch, the P2 rows
    # were not, so the two top-1s need not be equal)
    PASSES=${PASSES:?set PASSES}
    FRAMES=${FRAMES:?set FRAMES}
    SF=${SF:?set SF to the chosen SF-Head setting}
    $RUN --passes "$PASSES" --frames "$FRAMES" --seeds 0 --variants "$SF" \
      --gradient-share 20 --work-root "$REPO/work_dirs/bench_gradient_share" \
      --results "$REPO/benchmarks/results/nw-ucla_tune_gradient_share.jsonl"
    ;;
  *) echo "usage: $0 passes|frames|sf|alpha2|combination|all|gradient-share" >&2
     exit 2 ;;
esac
