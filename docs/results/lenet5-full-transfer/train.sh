#!/usr/bin/env bash
# Trains the full-budget LeNet-5 student of this folder for the paper's 50 epochs, beside the
# dense network, random pruning and SynFlow (its own global masks) at the same budget and seed,
# the three sparse runs in lockstep with the dense one (--reference). Each run is about 15 minutes
# at 2 threads on a 2-core Sapphire Rapids.
#
#   docs/results/lenet5-full-transfer/train.sh [OUT]    OUT defaults to runs/lenet5-full-train
#
# Environment: NTT=path to an ntt binary (default: build and use .build/release/ntt);
# THREADS=n (default: ntt's, the online cores). The committed runs set OPENBLAS_CORETYPE=Haswell,
# as the transfer did (see README.md). Re-running skips the finished runs and restarts an
# unfinished one.
set -euo pipefail
cd "$(dirname "$0")/../../.."

out="${1:-runs/lenet5-full-train}"
if [ -z "${NTT:-}" ]; then
    swift build -c release --product ntt >&2
    NTT=.build/release/ntt
fi
common=(--model lenet5-caffe --dataset fashion-mnist --density 0.03 --seed 0 --epochs 50 --evaluate-every 500)
[ -n "${THREADS:-}" ] && common+=(--threads "$THREADS")

run() {  # name, then ntt train options
    local name="$1"; shift
    [ -f "$out/$name/model.safetensors" ] && return 0
    local again=()
    [ -e "$out/$name" ] && again=(--overwrite)  # an unfinished run of this script
    "$NTT" train "${common[@]}" "$@" --out "$out/$name" "${again[@]}"
}
run dense --init dense
reference=(--reference "$out/dense")
run ntt --init docs/results/lenet5-full-transfer "${reference[@]}"
run random --init random "${reference[@]}"
run synflow --init synflow "${reference[@]}"
