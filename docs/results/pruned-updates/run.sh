#!/usr/bin/env bash
# Issue 14, item 4: should pruned weights move during the transfer? For seeds 0 1 2 and each
# `--pruned-updates` mode (momentum, frozen, dense): a LeNet-300-100 transfer at density 0.03 on
# Fashion-MNIST with the default budget (20 epochs), then `ntt train --init <transfer folder>`
# (the default 50 epochs). Writes OUT/results.csv, one row per run: the NTK distance on the probe
# before and after the transfer (first and last record of the transfer's metrics.jsonl) and the
# final test accuracy (last record of the training's metrics.jsonl); prints mean ± std per mode.
#
#   docs/results/pruned-updates/run.sh [OUT]        OUT defaults to runs/pruned-updates
#
# Environment: NTT=path to an ntt binary (default: build and use .build/release/ntt);
# THREADS=n (default: ntt's, the online cores); SEEDS (default "0 1 2"); MODES (default
# "momentum frozen dense"); TRANSFER_ITERATIONS / TRAIN_ITERATIONS: a shorter budget for a quick
# check of the script (default: empty, the full budget). The modes differ only through the
# magnitude re-pruning (every 100 iterations; the student is saved as w ⊙ m), so a transfer of
# 200 iterations or fewer gives the same row for all three. Re-running continues: finished runs
# are kept, an interrupted transfer resumes from its checkpoint, an unfinished training restarts.
set -euo pipefail
cd "$(dirname "$0")/../../.."

out="${1:-runs/pruned-updates}"
seeds="${SEEDS:-0 1 2}"
modes="${MODES:-momentum frozen dense}"
if [ -z "${NTT:-}" ]; then
    swift build -c release --product ntt >&2
    NTT=.build/release/ntt
fi
common=(--model lenet-300-100 --dataset fashion-mnist --density 0.03)
[ -n "${THREADS:-}" ] && common+=(--threads "$THREADS")
transfer_budget=() train_budget=()
[ -n "${TRANSFER_ITERATIONS:-}" ] && transfer_budget=(--iterations "$TRANSFER_ITERATIONS")
[ -n "${TRAIN_ITERATIONS:-}" ] && train_budget=(--iterations "$TRAIN_ITERATIONS")

# The value of "key" in the first or last JSON line of a metrics file.
field() { # first|last key file
    local line
    if [ "$1" = first ]; then line=$(head -n 1 "$3"); else line=$(tail -n 1 "$3"); fi
    printf '%s\n' "$line" | grep -o "\"$2\" *: *[^,}]*" | sed 's/.*: *//'
}

mkdir -p "$out"
csv="$out/results.csv"
echo "mode,seed,ntk_distance_before,ntk_distance_after,test_accuracy,transfer_iterations,train_iterations" > "$csv"
for mode in $modes; do
    for seed in $seeds; do
        transfer="$out/transfer-$mode-seed$seed" train="$out/train-$mode-seed$seed"
        if [ ! -f "$transfer/student.safetensors" ]; then
            resume=()
            [ -f "$transfer/checkpoint.safetensors" ] && resume=(--resume)
            [ ${#resume[@]} -eq 0 ] && [ -e "$transfer" ] && rm -r "$transfer"  # killed before its first checkpoint
            echo "transfer: $mode, seed $seed" >&2
            "$NTT" transfer "${common[@]}" --seed "$seed" --pruned-updates "$mode" "${transfer_budget[@]}" \
                --out "$transfer" "${resume[@]}"
        fi
        if [ ! -f "$train/model.safetensors" ]; then
            [ -e "$train" ] && rm -r "$train"
            echo "train: $mode, seed $seed" >&2
            "$NTT" train "${common[@]}" --seed "$seed" --init "$transfer" "${train_budget[@]}" --out "$train"
        fi
        echo "$mode,$seed,$(field first ntk_distance "$transfer/metrics.jsonl"),$(field last ntk_distance \
"$transfer/metrics.jsonl"),$(field last test_accuracy "$train/metrics.jsonl"),$(field last iteration \
"$transfer/metrics.jsonl"),$(field last iteration "$train/metrics.jsonl")" >> "$csv"
    done
done

echo "wrote $csv" >&2
# mean ± sample std per mode, as a Markdown table
awk -F, 'NR > 1 {
        if (!($1 in n)) m[++k] = $1
        n[$1]++; a[$1] += $4; aa[$1] += $4 * $4; t[$1] += $5; tt[$1] += $5 * $5
    }
    function sd(s, ss, c) { return c > 1 ? sqrt((ss - s * s / c) / (c - 1)) : 0 }
    END {
        print "| pruned updates | seeds | NTK distance after transfer | test accuracy (%) |"
        print "|---|---|---|---|"
        for (i = 1; i <= k; i++) { x = m[i]
            printf "| %s | %d | %.1f ± %.1f | %.2f ± %.2f |\n", x, n[x], a[x] / n[x], sd(a[x], aa[x], n[x]),
                100 * t[x] / n[x], 100 * sd(t[x], tt[x], n[x]) }
    }' "$csv"
