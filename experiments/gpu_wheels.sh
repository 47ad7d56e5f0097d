#!/usr/bin/env bash
# Wheels of what pacepred needs and the lent GPU machine lacks, for its Python (3.12, x86-64
# manylinux), into .whl/ (git-ignored): hydra-core, omegaconf, antlr4-python3-runtime, decord, av,
# simplejpeg, at the versions installed here. That machine reaches no package registry; its
# python3 already holds torch, torchvision, pytorch-lightning, torchmetrics, numpy, pillow,
# matplotlib, rich, tensorboard, pyyaml, pytest and OpenCV. Run this here (about 50 MB), then
# run experiments/gpu_check.sh there with `.whl` carried along: it installs them first.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-python3}"
rm -rf .whl && mkdir -p .whl
version() { "$py" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$1"; }
for name in hydra-core omegaconf decord av simplejpeg; do
  "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux2010_x86_64 -d .whl "$name==$(version "$name")"
done
# antlr4-python3-runtime (hydra's parser) is published as a source archive only: built here (pure Python)
"$py" -m pip wheel -q --no-deps -w .whl "antlr4-python3-runtime==$(version antlr4-python3-runtime)"
ls -l .whl
