#!/usr/bin/env bash
# Copies the finished cells of one experiment into another that would compute exactly the same
# cells, so that a second pruning scope of the same grid does not redo them. Two grids whose
# experiment.json files differ only in "prune" run the same computation for a cell when the cell's
# method gets the same scope in both: with `native` and `layerwise`, the cells of ntt (and its
# transfers), random, scaled-random, magnitude and dense; with `native` and `global`, those of
# snip, logit-snip, grasp, synflow, ntk-sap and dense. (A cell's seed, data order and initial
# weights do not depend on the grid's scope.)
#
# Only finished cells (done.json present) are copied, each whole, into TO/.sharing-cell (outside
# cells/, so that no report counts a half-copied cell) and then renamed into place; cells the
# target already has, finished or not, are left alone, and nothing but that staging folder (left
# by an interrupted run) is ever deleted. The copies keep their config.json as written ("prune" as asked in the
# source grid, the source's reference path); their done.json records the scope used, which is
# the one the target grid would use.
#
#   scripts/results/share-cells.sh [--dry-run] runs/fashion-lenet5-layerwise runs/fashion-lenet5-native
set -euo pipefail

dry=0
if [ "${1:-}" = "--dry-run" ]; then dry=1; shift; fi
if [ $# -ne 2 ]; then
    echo "usage: $0 [--dry-run] FROM_EXPERIMENT TO_EXPERIMENT" >&2
    exit 2
fi
from=${1%/}
to=${2%/}
for dir in "$from" "$to"; do
    if [ ! -f "$dir/experiment.json" ]; then
        echo "$0: $dir/experiment.json not found: $dir is not an experiment folder (plan it first with --plan)" >&2
        exit 1
    fi
done

# The methods whose cells are the same computation in both grids, one per line (or an error).
if ! methods=$(python3 - "$from/experiment.json" "$to/experiment.json" 2>&1 <<'PY'
import json, sys
def load(path):
    try:
        with open(path) as f:
            grid = json.load(f)
    except (OSError, ValueError) as error:
        sys.exit(f"{path}: not a readable experiment.json ({error})")
    if not isinstance(grid, dict):
        sys.exit(f"{path}: not a readable experiment.json (expected a JSON object)")
    return grid
a, b = load(sys.argv[1]), load(sys.argv[2])
pa, pb = a.pop("prune", "native"), b.pop("prune", "native")
if a != b:
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    sys.exit(f"the grids differ in more than the pruning scope: {', '.join(keys)}")
native = {"ntt": "layerwise", "random": "layerwise", "scaled-random": "layerwise",
          "magnitude": "layerwise", "snip": "global", "logit-snip": "global", "grasp": "global",
          "synflow": "global", "ntk-sap": "global"}
def scope(choice, method):
    return native[method] if choice == "native" else choice
print("dense")
for method in native:
    if scope(pa, method) == scope(pb, method):
        print(method)
PY
); then
    echo "$0: $from and $to cannot share cells: ${methods##*$'\n'}" >&2
    exit 1
fi

shared=0
while IFS= read -r done; do
    cell=$(dirname "$done")
    relative=${cell#"$from"/}
    id=$(basename "$cell")
    case "$id" in
        transfer-*) method=ntt ;;
        train-dense-*) method=dense ;;
        train-*) method=${id#train-}; method=${method%-d*} ;;
        *) continue ;;
    esac
    grep -qx -- "$method" <<<"$methods" || continue
    target="$to/$relative"
    [ -e "$target" ] && continue
    shared=$((shared + 1))
    if [ $dry = 1 ]; then echo "$relative"; continue; fi
    mkdir -p "$(dirname "$target")"
    staging="$to/.sharing-cell"
    rm -rf "$staging"
    cp -a "$cell" "$staging"
    mv "$staging" "$target"
done < <(find "$from/cells" -name done.json -path '*/cells/*/*/*/done.json' | sort)

if [ $dry = 1 ]; then echo "$shared cells would be copied" >&2; else echo "$shared cells copied into $to" >&2; fi
