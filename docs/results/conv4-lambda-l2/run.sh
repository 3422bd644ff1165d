#!/usr/bin/env bash
# Does the L2 term explain why NTT's Conv-4 students start training at chance? The Conv-4
# layer-wise grid (../fashion-conv4-layerwise) used λ₂ = 1e-5 (the CNN default, as the original's
# LeNet-5 notebook), where (λ₂/d)·Σ‖w⊙m‖² is 75% of the initial transfer loss. This runs the same
# seed-0 transfer (300 iterations, d = 0.03) with λ₂ = LAMBDA (default 1e-6) and its 3-epoch
# training cell with the grid's budgets, then prints the per-layer scales of the student.
#
#   docs/results/conv4-lambda-l2/run.sh [OUT]       OUT defaults to runs/conv4-lambda-l2
#
# Environment: NTT=path to an ntt binary (default: build and use .build/release/ntt);
# THREADS=n (default: ntt's, the online cores); LAMBDA (default 1e-6); SEED (default 0);
# REFERENCE=a dense Conv-4 training run of the same seed and budget to compare outputs with
# (default: the grid's committed cell of that seed if there is one, else none). Re-running continues:
# a finished transfer is kept, an interrupted one resumes, an unfinished training restarts.
set -euo pipefail
cd "$(dirname "$0")/../../.."

out="${1:-runs/conv4-lambda-l2}"
lambda="${LAMBDA:-1e-6}" seed="${SEED:-0}"
if [ -z "${NTT:-}" ]; then
    swift build -c release --product ntt >&2
    NTT=.build/release/ntt
fi
common=(--model conv4 --dataset fashion-mnist --density 0.03 --seed "$seed")
[ -n "${THREADS:-}" ] && common+=(--threads "$THREADS")
reference="${REFERENCE:-docs/results/fashion-conv4-layerwise/cells/conv4/fashion-mnist/train-dense-s$seed}"
reference_flag=()
[ -f "$reference/probe-outputs.safetensors" ] && reference_flag=(--reference "$reference")

transfer="$out/transfer-l2-$lambda-s$seed" train="$out/train-l2-$lambda-s$seed"
if [ ! -f "$transfer/student.safetensors" ]; then
    resume=()
    [ -e "$transfer" ] && resume=(--resume)  # also after a kill before the first checkpoint
    "$NTT" transfer "${common[@]}" --iterations 300 --lambda-l2 "$lambda" --out "$transfer" "${resume[@]}"
fi
if [ ! -f "$train/model.safetensors" ]; then
    "$NTT" train "${common[@]}" --init "$transfer" --epochs 3 --evaluate-every 200 "${reference_flag[@]}" \
        --out "$train"
fi
python3 scripts/results/layer-scale.py "$transfer"
