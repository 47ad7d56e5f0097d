#!/usr/bin/env bash
# One-call GPU check (under 8 minutes on one H100, no network needed once pacepred is installed):
#   1. the tests marked `gpu` (bf16 + channels-last, fp16, torch.compile, S3D-G with activation
#      checkpointing, DDP strategy on one node);
#   2. a short bf16 pre-training run with the contrastive loss on the generated videos;
#   3. the training-throughput benchmark on CUDA (paper backbones, fp32 eager vs bf16+channels-last,
#      full pipeline with 16 workers and the GPU's data-wait share).
# Ends with the benchmark table; everything lands in ${OUT:-experiments/results}.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-experiments/results}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU visible'; print(torch.cuda.get_device_name())"

echo "== 1. tests marked gpu"
python -m pytest tests/test_gpu.py -m gpu -q -p no:cacheprovider 2>&1 | tee "$out/gpu_tests.log"

echo "== 2. bf16 pre-training with contrastive loss (R(2+1)D, 3 epochs)"
python -m pacepred.train trainer=gpu backbone=r21d model=pace_ctr_context trainer.precision=bf16-mixed \
  trainer.max_epochs=3 data.num_workers=8 paths.log_dir="$out/gpu_logs" hydra.run.dir="$out/gpu_run" \
  2>&1 | tail -n 5 | tee "$out/gpu_train.log"

echo "== 3. training throughput"
python experiments/bench_training.py --device cuda --workers 16 --backbones r21d r3d --out "$out" 2>&1 | tail -n 12
