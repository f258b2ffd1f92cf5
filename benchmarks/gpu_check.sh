#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one short run (about 5 minutes on one
# H200): (1) single-GPU training of the demo SF-Head config with
# `tools/train.py --amp` (MMEngine's AmpOptimWrapper), then
# `tools/test.py` on its checkpoint; (2) `tools/dist_train.sh` and
# `tools/dist_test.sh` with one process on NCCL, which must exit by
# themselves (the end-of-run path of sfhead_mm/engine/launch.py); (3) the
# head's cost on the GPU at NTU shape (batch 16, 64 frames), float32 and
# AMP, with the gates' banded convolution forced (sf_head.gate_conv=
# 'banded'; the default 'auto' runs the plain conv2d on a GPU) and at batch
# 64, and the seven backbones' cost table, with peak memory.
#   OUT=/some/dir bash benchmarks/gpu_check.sh
#   CHECKS=cost OUT=/some/dir bash benchmarks/gpu_check.sh  # (3) only
# Needs a python with torch (CUDA), mmengine 0.10.7, mmaction2 1.2.0 and
# mmcv-lite 2.1.0 (WHEELS=dir: install them from wheels first, into
# /tmp/site). Writes its logs and the JSON figures under $OUT. For a GPU
# machine without a package index (Python 3.12 there), fetch the wheels
# beforehand where pip works:
#   pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux2014_x86_64 \
#     --platform manylinux2010_x86_64 -d .whl mmengine==0.10.7 \
#     mmaction2==1.2.0 mmcv-lite==2.1.0 addict==2.4.0 yapf==0.43.0 \
#     termcolor==3.3.0 decord==0.6.0 importlib_metadata==10.2.0 \
#     lazy-importer==0.1.0 zipp==4.1.2 platformdirs==4.14.9
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
OUT=${OUT:?set OUT to the folder for logs and figures}
mkdir -p "$OUT"
if [ -n "${WHEELS:-}" ]; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site "$WHEELS"/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
LOG=$OUT/gpu_check.log
status=0
step() {  # step NAME TIMEOUT_S COMMAND...: run, time and record one check
  local name=$1 limit=$2 start rc
  shift 2
  start=$(date +%s%N)
  timeout "$limit" "$@" > "/tmp/$name.log" 2>&1
  rc=$?
  printf '%-14s rc=%s %6d ms\n' "$name" "$rc" \
    $(( ($(date +%s%N) - start) / 1000000 )) | tee -a "$LOG"
  grep -E 'Epoch\(train\).*\[[0-9]+\]\[ *[0-9]+/|acc/top1|Traceback|Error' \
    "/tmp/$name.log" | tail -4 | tee -a "$LOG"
  [ "$rc" = 0 ] || { status=1; tail -30 "/tmp/$name.log" >> "$LOG"; }
}
{
  nvidia-smi -L
  $PY -c 'import torch, mmengine, mmaction; print("torch", torch.__version__,
    "cuda", torch.version.cuda, "mmengine", mmengine.__version__,
    "mmaction", mmaction.__version__)'
} 2>&1 | tee "$LOG"
DEMO=configs/demo/ctrgcn_sfhead_demo.py
if [ "${CHECKS:-all}" = all ]; then
  step make-demo 120 $PY data_prep/make_demo.py \
    --out data/demo/ambiguous_demo_3d.pkl --seed 0
  step train-amp 240 $PY tools/train.py $DEMO --work-dir /tmp/w_amp --amp \
    --cfg-options train_cfg.max_epochs=2
  step test 120 $PY tools/test.py $DEMO /tmp/w_amp/epoch_2.pth \
    --work-dir /tmp/w_amp_test
  step dist-train 240 env PYTHON=$PY PORT=29531 \
    bash tools/dist_train.sh $DEMO 1 \
    --work-dir /tmp/w_dist --cfg-options train_cfg.max_epochs=1
  step dist-test 120 env PYTHON=$PY PORT=29532 bash tools/dist_test.sh $DEMO \
    /tmp/w_dist/epoch_1.pth 1 --work-dir /tmp/w_dist_test
fi
step cost-fp32 300 $PY tools/benchmark.py --device cuda --batch 16 \
  --frames 64 --reps 15 --warmup 3 --json "$OUT/cost_cuda.json"
step cost-banded 300 $PY tools/benchmark.py --device cuda --batch 16 \
  --frames 64 --reps 15 --warmup 3 --json "$OUT/cost_cuda_banded.json" \
  --cfg-options model.sf_head.gate_conv=banded
step cost-b64 300 $PY tools/benchmark.py --device cuda --batch 64 \
  --frames 64 --reps 10 --warmup 3 --json "$OUT/cost_cuda_b64.json"
step cost-amp 300 $PY tools/benchmark.py --device cuda --amp --batch 16 \
  --frames 64 --reps 15 --warmup 3 --json "$OUT/cost_cuda_amp.json"
step cost-seven 400 $PY tools/benchmark.py --device cuda --cost-table \
  --batch 16 --frames 64 --persons 2 --reps 8 --warmup 2 \
  --json "$OUT/cost_seven_cuda.json"
for f in cost_cuda cost_cuda_banded cost_cuda_b64 cost_cuda_amp \
    cost_seven_cuda; do
  [ -f "$OUT/$f.json" ] && $PY -c 'import json, sys
print(json.load(open(sys.argv[1]))["table"])' "$OUT/$f.json" | tee -a "$LOG"
done
exit $status
