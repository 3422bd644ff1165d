#!/usr/bin/env bash
# Breaks one backward rule at a time (a sign flip or a swapped operand in a pullback) and checks
# that the autodiff tests catch it. Restores every file afterwards.
# Usage: scripts/mutation-check.sh [TEXT]   (only the mutations whose rule contains TEXT)
set -uo pipefail
cd "$(dirname "$0")/.."
src=Sources/NTTAutodiff
# file | exact text of the rule | mutated text   (\n stands for a line break)
mutations=(
  "Tensor+Elementwise.swift|return recorded(a.shape, out, inputs: [a, b]) { g in [g, g] }|return recorded(a.shape, out, inputs: [a, b]) { g in [g, -g] }"
  "Tensor+Elementwise.swift|return recorded(a.shape, out, inputs: [a, b]) { g in [g, -g] }|return recorded(a.shape, out, inputs: [a, b]) { g in [g, g] }"
  "Tensor+Elementwise.swift|[a.node == nil ? nil : g * b, b.node == nil ? nil : g * a]|[a.node == nil ? nil : g * a, b.node == nil ? nil : g * b]"
  "Tensor+Elementwise.swift|b.node == nil ? nil : -(g * a) / (b * b)]|b.node == nil ? nil : (g * a) / (b * b)]"
  "Tensor+Elementwise.swift|recorded(x.shape, x.unary { -\$0 }, inputs: [x]) { g in [-g] }|recorded(x.shape, x.unary { -\$0 }, inputs: [x]) { g in [g] }"
  "Tensor+Elementwise.swift|{ g in [g * rhs] }|{ g in [g * (-rhs)] }"
  "Tensor+Elementwise.swift|[g * (Recording.isEnabled \&\& x.node != nil ? x.exp() : Tensor(shape: x.shape, scalars: y))]|[g * (Recording.isEnabled \&\& x.node != nil ? x : Tensor(shape: x.shape, scalars: y))]"
  "Tensor+Elementwise.swift|if Recording.isEnabled { return [x * (g * 2)] }|if Recording.isEnabled { return [x * g] }"
  "Tensor+Elementwise.swift|return [x * (2 * g.scalar)]|return [x * g.scalar]"
  "Tensor+Elementwise.swift|inputs: [x]) { g in [g / x] }|inputs: [x]) { g in [g * x] }"
  "Tensor+Elementwise.swift|inputs: [x]) { g in [g.keepingWhere(positive: x)] }|inputs: [x]) { g in [g] }"
  "Tensor+Elementwise.swift|inputs: [self]) { g in [g.keepingWhere(positive: reference)] }|inputs: [self]) { g in [g] }"
  "Tensor+MatMul.swift|[x.node == nil ? nil : matmul(g, w, transposeB: true),|[x.node == nil ? nil : matmul(g, w, transposeB: true) * -1,"
  "Tensor+MatMul.swift|w.node == nil ? nil : matmul(x, transposeA: true, g),|w.node == nil ? nil : matmul(x, transposeA: true, g) * -1,"
  "Tensor+MatMul.swift|b.node == nil ? nil : g.sum(toShape: [n])]|b.node == nil ? nil : g.sum(toShape: [n]) * 2]"
  "Tensor+MatMul.swift|case (false, false): return matmul(g, b, transposeB: true)|case (false, false): return matmul(g, b, transposeB: true) * -1"
  "Tensor+MatMul.swift|case (true, false): return matmul(a, g)|case (true, false): return matmul(a, g) * -1"
  "Tensor+MatMul.swift|case (false, true): return batchedMatmul(g, transposeA: true, a)|case (false, true): return batchedMatmul(g, transposeA: true, a) * -1"
  "Tensor+Shape.swift|{ [inverse] g in [g.permuted(inverse)] }|{ [inverse] g in [g.permuted(inverse) * -1] }"
  "Tensor+Shape.swift|inputs: [self]) { g in [g.sum(toShape: original)] }|inputs: [self]) { g in [g.sum(toShape: original) * 2] }"
  "Tensor+Shape.swift|inputs: [self]) { g in [g.broadcast(to: original)] }|inputs: [self]) { g in [g.broadcast(to: original) * 2] }"
  "Tensor+Shape.swift|[g.paddedRows(before: range.lowerBound, after: total - range.upperBound)]|[g.paddedRows(before: 0, after: total - range.count)]"
  "Tensor+Shape.swift|return Tensor.recorded(newShape, scalars, inputs: [self]) { g in [g.reshaped(old)] }|return Tensor.recorded(newShape, scalars, inputs: [self]) { g in [g.reshaped(old) * -1] }"
  "Tensor+Convolution.swift|inputs: [self]) { grad in [grad.patchesAdjoint(g)] }|inputs: [self]) { grad in [grad.patchesAdjoint(g) * 2] }"
  "Tensor+Convolution.swift|inputs: [self]) { grad in [grad.patches(g)] }|inputs: [self]) { grad in [grad.patches(g) * 2] }"
  "Tensor+Convolution.swift|let db = b.node == nil ? nil : gy.sum(toShape: [cout])|let db = b.node == nil ? nil : gy.sum(toShape: [cout]) * 2"
  "Tensor+Convolution.swift|return [x.node == nil ? nil : matmul(gy, w, transposeB: true).patchesAdjoint(g),|return [x.node == nil ? nil : matmul(gy, w, transposeB: true).patchesAdjoint(g) * -1,"
  "Tensor+Convolution.swift|w.node == nil ? nil : matmul(x.patches(g), transposeA: true, gy), db]|w.node == nil ? nil : matmul(x.patches(g), transposeA: true, gy) * -1, db]"
  "../NTTKernels/Convolution.swift|Im2col.accumulate(patchGradient, g, images: images, into: dx)|Im2col.accumulate(patchGradient, g, images: images.prefix(1), into: dx)"
  "../NTTKernels/Convolution.swift|beta: chunk == group * perGroup ? 0 : 1)|beta: 0)"
  "../NTTKernels/Convolution.swift|for i in 0..<size { dw[i] += partial[i] }|for i in 0..<size { dw[i] -= partial[i] }"
  "Tensor+Pooling.swift|{ grad in [grad.maxPoolAdjoint(positions, layout).reshaped(inShape)] }\n        return|{ grad in [grad.maxPoolAdjoint(positions, layout).reshaped(inShape) * 2] }\n        return"
  "Tensor+Pooling.swift|{ grad in [grad.maxPoolGather(positions, layout).reshaped(inShape)] }|{ grad in [grad.maxPoolGather(positions, layout).reshaped(inShape) * 2] }"
  "Tensor+Pooling.swift|{ grad in [grad.maxPoolAdjoint(positions, layout).reshaped(inShape)] }\n    }\n\n    /// Average|{ grad in [grad.maxPoolAdjoint(positions, layout).reshaped(inShape) * 2] }\n    }\n\n    /// Average"
  "../NTTKernels/Pooling.swift|for o in 0..<l.outPerImage { target[Int(positions[o])] += source[o] }|for o in 0..<l.outPerImage { target[Int(positions[o])] = source[o] }"
  "../NTTKernels/Pooling.swift|let image = r / l.repeats, shift = (r - image) * l.imageSize\n                let positions = indices + image * l.outPerImage, target|let image = r / l.repeats, shift = r * l.imageSize\n                let positions = indices + image * l.outPerImage, target"
  "Tensor+Pooling.swift|{ g in [g.scattering(indices, shape: inShape)] }|{ g in [g.scattering(indices, shape: inShape) * 2] }"
  "Tensor+Pooling.swift|{ g in [g.gathering(indices, shape: inShape)] }|{ g in [g.gathering(indices, shape: inShape) * 2] }"
  "Tensor+Pooling.swift|{ grad in [grad.avgPoolAdjoint(g)] }|{ grad in [grad.avgPoolAdjoint(g) * 2] }"
  "Tensor+Pooling.swift|{ grad in [grad.avgPool(g)] }|{ grad in [grad.avgPool(g) * 2] }"
  "Tensor+SampleJacobians.swift|[p.node == nil ? nil : sampleJacobianPatchGrad(cotangents: d, jacobians: g, s),|[p.node == nil ? nil : sampleJacobianPatchGrad(cotangents: d, jacobians: g, s) * -1,"
  "Tensor+SampleJacobians.swift|j.node == nil ? nil : sampleJacobians(patches: g, cotangents: d, s)]|j.node == nil ? nil : sampleJacobians(patches: g, cotangents: d, s) * -1]"
  "Tensor+SampleJacobians.swift|[p.node == nil ? nil : sampleJacobianPatchGrad(cotangents: g, jacobians: j, s),|[p.node == nil ? nil : sampleJacobianPatchGrad(cotangents: g, jacobians: j, s) * -1,"
)
survived=0
only=${1:-}
for m in "${mutations[@]}"; do
  IFS='|' read -r file from to <<<"$m"
  [[ -n "$only" && "$from" != *"$only"* ]] && continue
  path="$src/$file"
  cp "$path" /tmp/mutation-backup
  python3 - "$path" "$from" "$to" <<'PY'
import sys
p, a, b = sys.argv[1], sys.argv[2].replace('\\&', '&').replace('\\n', '\n'), sys.argv[3].replace('\\&', '&').replace('\\n', '\n')
s = open(p).read()
if a not in s:
    print("MUTATION NOT APPLIED: " + a); sys.exit(1)
open(p, 'w').write(s.replace(a, b, 1))
PY
  if [ $? -ne 0 ]; then cp /tmp/mutation-backup "$path"; survived=$((survived+1)); continue; fi
  if ! swift build --build-tests >/tmp/mutation.log 2>&1; then
    echo "BUILD FAILED (not counted as caught): $file: $from"; survived=$((survived+1))
  elif swift test --skip-build --filter NTTAutodiffTests >/tmp/mutation.log 2>&1; then
    echo "SURVIVED: $file: $from"; survived=$((survived+1))
  else
    caught=$(grep "✘ Test" /tmp/mutation.log | grep -oE "Test [a-zA-Z]+\([^)]*\)" | head -1)
    echo "caught:   $file: ${from:0:60}…  ← ${caught}"
  fi
  cp /tmp/mutation-backup "$path"
done
echo "$survived mutation(s) survived"
exit $survived
