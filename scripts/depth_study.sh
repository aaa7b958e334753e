#!/usr/bin/env bash
# The depth experiment of He et al. (2016, Figures 1, 4 and 6) on Fashion-MNIST with the paper's CIFAR family:
# plain and residual networks of 6n + 2 layers, the same recipe and epochs for every run, 28 px.
#   bash scripts/depth_study.sh                 # depths 20 and 56, as shipped in assets/depth/
#   DEPTHS="20 56 110" bash scripts/depth_study.sh
# Resumable: run it again after a stop and every run continues from its last finished epoch. Models and training
# states go to runs/depth/; each run's per-epoch metrics log and its model (float16) are copied to assets/depth/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DEPTHS=${DEPTHS:-"20 56"}
IMAGES=${IMAGES:-24000}   # the first 24,000 training images: 8 epochs of all four runs take ~40 min on 2 CPU cores
EPOCHS=${EPOCHS:-8}
DATA=${DATA:-../shared/data}
# --recipe depth: He et al.'s CIFAR recipe (SGD, momentum 0.9, lr 0.1, weight decay 1e-4, batch 128), a cosine
# schedule instead of their two steps (fewer epochs here), no augmentation and no label smoothing, so that the
# training error measures how well each network fits its training set (resnet/train.py, RECIPES).
RECIPE=(--recipe depth --image-size 28 --batch-size 128 --lr 0.1 --limit "$IMAGES" --epochs "$EPOCHS"
        --dataset clothing --data-dir "$DATA")
mkdir -p runs/depth assets/depth
for depth in $DEPTHS; do
  for kind in plain residual; do
    out=runs/depth/$kind-$depth.safetensors
    flag=(); [ "$kind" = plain ] && flag=(--plain)
    "$PY" -m resnet.train --arch "resnet$depth" "${flag[@]}" "${RECIPE[@]}" --out "$out" --resume --half
    cp "runs/depth/$kind-$depth.metrics.jsonl" "runs/depth/$kind-$depth.safetensors" assets/depth/
  done
done
echo "metrics logs in assets/depth/; python -m resnet.depth prints the table"
