#!/usr/bin/env bash
# One-call GPU check, about 9 minutes at most on one H100 (each step has its own time limit, and a
# failing step does not stop the next):
#   1. the tests marked `gpu`: bf16 + channels-last, fp16, torch.compile, S3D-G with activation
#      checkpointing, the DDP strategy with one process (NCCL starts and the run trains; with
#      one GPU there is no second rank, so the gathered negatives and SyncBatchNorm are checked by
#      the two-process gloo tests on CPU, tests/component/test_distributed.py and tests/integration/test_integration.py),
#      and training steps that never wait for the GPU (CUDA's synchronisation warnings);
#   2. a short bf16 pre-training run with the contrastive loss on the generated videos;
#   3. the training-throughput benchmark on CUDA (R(2+1)D and R3D, fp32 eager vs bf16 +
#      channels-last, full pipeline with 16 workers: the rate it keeps with real data).
# STEPS="1 3" runs some steps only; BENCH_BACKBONES (default "r21d r3d") and BENCH_STEPS (30) size
# step 3. Exits non-zero when any step failed. Writes to ${OUT:-experiments/results}: gpu_check.md (each step's exit status and time), each
# step's whole log (gpu_tests.log, gpu_train.log, gpu_bench.log), gpu_train_metrics.json and
# training_throughput_cuda.{md,json}: seven files (run directories and checkpoints stay in /tmp).
#
# On the lent GPU machine (its python3 holds torch but not hydra, decord, av or simplejpeg, and
# reaches no package registry): run `bash experiments/gpu_wheels.sh` here first, then this script
# there with `.whl` carried along; the wheels are installed into /tmp before the steps.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-experiments/results}"
py="${PYTHON:-python3}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if [ -d .whl ] && ! "$py" -c "import hydra, decord, av, simplejpeg" 2>/dev/null; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --target /tmp/pacepred_site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/pacepred_site${PYTHONPATH:+:$PYTHONPATH}"
fi
"$py" -c "import pacepred" 2>/dev/null || export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
"$py" -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU visible'; print(torch.__version__, torch.cuda.get_device_name())" || exit 1

summary="$out/gpu_check.md"
printf '| step | exit status | seconds |\n|---|---|---|\n' > "$summary"
step() {  # step <name> <time limit in s> <log file> <command...>: the whole log kept, its end shown
  local name=$1 limit=$2 log=$3 start=$SECONDS rc
  shift 3
  echo "== $name (at most ${limit} s)"
  timeout "$limit" "$@" > "$log" 2>&1
  rc=$?
  tail -n 15 "$log"
  [ "$rc" = 0 ] || failed=1
  printf '| %s | %s | %s |\n' "$name" "$rc$([ "$rc" = 124 ] && echo ' (time limit)')" "$((SECONDS - start))" >> "$summary"
}

wanted() { [[ " ${STEPS:-1 2 3} " == *" $1 "* ]]; }
wanted 1 && step "1. tests marked gpu" 170 "$out/gpu_tests.log" \
  "$py" -m pytest tests/component/test_gpu.py -m gpu -q -p no:cacheprovider
rm -rf /tmp/gpu_run /tmp/gpu_logs  # no metrics of an earlier check taken for this one's
wanted 2 && step "2. bf16 pre-training with the contrastive loss (R(2+1)D, 3 epochs)" 120 "$out/gpu_train.log" \
  "$py" -m pacepred.train trainer=gpu backbone=r21d model=pace_ctr_context trainer.precision=bf16-mixed \
  trainer.max_epochs=3 data.num_workers=8 paths.log_dir=/tmp/gpu_logs hydra.run.dir=/tmp/gpu_run
cp /tmp/gpu_run/metrics.json "$out/gpu_train_metrics.json" 2>/dev/null
# shellcheck disable=SC2086  # the backbones are words
wanted 3 && step "3. training throughput" 260 "$out/gpu_bench.log" \
  "$py" experiments/bench_training.py --device cuda --workers 16 --backbones ${BENCH_BACKBONES:-r21d r3d} \
  --steps "${BENCH_STEPS:-30}" --repeats 2 --out "$out"
cat "$summary"
exit "${failed:-0}"  # non-zero when any step failed
