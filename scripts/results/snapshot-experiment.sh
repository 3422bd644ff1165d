#!/usr/bin/env bash
# Copies what a later session (possibly on a fresh machine) needs to finish an experiment and
# rebuild its report from a running or finished experiment folder into a folder under docs/results:
#   - experiment.json (the grid);
#   - for every finished cell (done.json present): done.json, config.json, metrics.jsonl;
#   - for every finished dense training cell: probe-outputs.safetensors, which the sparse cells of
#     the same seed read as their --reference;
#   - for every finished transfer cell whose ntt training cells are not all finished yet: the
#     student, teacher and probe files those training cells read (removed again from the snapshot
#     once they are all finished);
#   - the report (report.md, report.html, figures/, results.csv, results.json), rebuilt first.
# Unfinished cells are left out. To continue on another machine:
#   mkdir -p runs/NAME && cp -r docs/results/NAME/{experiment.json,cells} runs/NAME/
#   then run the experiment's command again (it skips the finished cells).
#
#   scripts/results/snapshot-experiment.sh runs/fashion-lenet5-layerwise docs/results/fashion-lenet5-layerwise [ntt]
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 EXPERIMENT_DIR SNAPSHOT_DIR [NTT_BINARY]" >&2
    exit 2
fi
src=${1%/}
dst=${2%/}
ntt=${3:-ntt}
if [ ! -f "$src/experiment.json" ]; then
    echo "$0: $src/experiment.json not found: $src is not an experiment folder" >&2
    exit 1
fi

"$ntt" report "$src" >/dev/null
mkdir -p "$dst"
cp "$src/experiment.json" "$dst/"
for name in report.md report.html results.csv results.json; do
    [ -f "$src/$name" ] && cp "$src/$name" "$dst/"
done
if [ -d "$src/figures" ]; then
    rm -rf "$dst/figures"
    cp -r "$src/figures" "$dst/figures"
fi

copied=0
while IFS= read -r done; do
    cell=$(dirname "$done")
    relative=${cell#"$src"/}
    id=$(basename "$cell")
    mkdir -p "$dst/$relative"
    for name in done.json config.json metrics.jsonl; do
        [ -f "$cell/$name" ] && cp "$cell/$name" "$dst/$relative/"
    done
    case "$id" in
        train-dense-*)
            [ -f "$cell/probe-outputs.safetensors" ] && cp "$cell/probe-outputs.safetensors" "$dst/$relative/"
            ;;
        transfer-*)
            # transfer-d<d>-s<seed> is read by train-ntt-d<d>-s<seed>.
            training="$(dirname "$cell")/train-ntt-${id#transfer-}"
            if [ -f "$training/done.json" ]; then
                rm -f "$dst/$relative"/{student,teacher,probe}.safetensors
            else
                for name in student.safetensors teacher.safetensors probe.safetensors; do
                    cp "$cell/$name" "$dst/$relative/"
                done
            fi
            ;;
    esac
    copied=$((copied + 1))
done < <(find "$src/cells" -name done.json | sort)
echo "$dst: $copied finished cells"
