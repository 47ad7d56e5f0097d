#!/usr/bin/env bash
# The ablations of experiments/proof/LOG.md (pace count, boundary, jitter, contrastive temperature
# and weight, learning rate and its schedule). Each is a Hydra multirun of pre-training on the
# evidence benchmark (experiment=proof) with the online monitor measuring, after the last epoch,
# linear-probe top-1, retrieval top-1/top-5 and weighted-kNN top-1 of EVERY test video against EVERY train video
# (gap features, one clip per video), collected by `python -m pacepred.sweeps` into
# experiments/proof/ablations/<name>/summary.{md,png}.
#
#   bash experiments/proof/ablations.sh              # all of them
#   bash experiments/proof/ablations.sh boundary     # one of them
#   SEEDS=0,1,2 EPOCHS=10 bash experiments/proof/ablations.sh pace_count_fast   # more seeds, longer
#
# Run folders (checkpoints) go to logs/ablations/<name>; running an ablation again replaces them.
set -euo pipefail
PYTHON=${PYTHON:-python}
SEEDS=${SEEDS:-0}
EPOCHS=${EPOCHS:-}
OUT=${OUT:-experiments/proof/ablations}
MONITOR=(callbacks=monitor callbacks.knn_monitor.train_per_class=1000 callbacks.knn_monitor.test_per_class=1000
         callbacks.knn_monitor.every_n_epochs=1000)
NAMES=()  # every ablation's name, to refuse an unknown one
METRICS=(val/pace_acc monitor/linear_top1 monitor/retrieval_top1 monitor/retrieval_top5 monitor/knn_top1)

ablation() {  # name, then the swept overrides (the first one is the plots' x axis)
  local name=$1
  shift
  NAMES+=("$name")
  if [[ "${ONLY:-all}" != all && "${ONLY}" != "$name" ]]; then return; fi
  local dir=logs/ablations/$name
  rm -rf "$dir"
  echo "=== ablation $name: $* seed=$SEEDS"
  "$PYTHON" -m pacepred.train -m experiment=proof "$@" "seed=$SEEDS" ${EPOCHS:+trainer.max_epochs=$EPOCHS} \
    "${MONITOR[@]}" "hydra.sweep.dir=$dir"
  "$PYTHON" -m pacepred.sweeps "$dir" --metric "${METRICS[@]}" --out "$OUT/$name"
}

ONLY=${1:-all}
ablation pace_count_fast pace=2,3,4,5 pace_set=fast
ablation pace_count_slow_fast pace=3,4,5 pace_set=slow_fast
ablation boundary data.boundary=fit,loop
ablation jitter data.batch_transform.jitter.mode=per_clip,per_frame
ablation contrastive_temperature model=pace_ctr_context model.contrastive.temperature=0.07,0.1,0.2,0.5
ablation contrastive_weight model=pace_ctr_context model.loss_weights.contrastive=0.1,0.3,1.0
ablation learning_rate optim.lr=0.01,0.05,0.2
ablation lr_schedule scheduler=cosine,none
if [[ "$ONLY" != all && " ${NAMES[*]} " != *" $ONLY "* ]]; then
  echo "unknown ablation '$ONLY': expected one of ${NAMES[*]} (or none for all)" >&2
  exit 2
fi
