#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing (OpenBLAS, zlib, Fashion-MNIST from
# Debian), build the release binary, and run `ntt demo` with any arguments given.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pkg in libopenblas-dev zlib1g-dev dataset-fashion-mnist; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "installing ${missing[*]} …" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
swift build -c release --product ntt >&2
exec .build/release/ntt demo "$@"
