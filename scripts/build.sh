#!/usr/bin/env bash
# `npm run build`, also run by `npm ci` (as `prepare`) and by `npm test`: compiles the
# TypeScript once into dist/, which bin/mlstream.js runs, so nothing is transpiled when the
# runtime starts, and bundles its entry points (scripts/bundle.mjs). tsconfig.build.json
# extends tsconfig.json, so this is also the typecheck.
# The output is written beside dist/ and swapped in whole: a process starting meanwhile
# sees the old build or the new one, never half of one.
set -euo pipefail
cd "$(dirname "$0")/.."
out=".dist-$$"
old=".dist-old-$$"
trap 'rm -rf "$out" "$old"' EXIT
tsc -p tsconfig.build.json --outDir "$out"
# Static files the runtime reads beside its modules.
cp -r runtime/http/dashboard "$out/runtime/http/"
# One file per entry point (scripts/bundle.mjs): half the start-up was Node's module loader.
# Without esbuild the unbundled output runs the same, only slower to start.
if ! node scripts/bundle.mjs "$out"; then
  echo "build: bundling failed (above); dist/ holds the unbundled modules, which start slower" >&2
  tsc -p tsconfig.build.json --outDir "$out"
fi
# The fused text stage's token loop in C (runtime/native/text-loop.c, a Node-API addon),
# against the headers of the node running this. Without a C compiler or node's headers the
# runtime runs the same loop in TypeScript (runtime/native/text-loop.ts says which, at start).
cc="${CC:-cc}"
node_inc="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "build: no C compiler ($cc): the text token loop runs in TypeScript" >&2
elif [ ! -f "$node_inc/node_api.h" ]; then
  echo "build: node's headers are not at $node_inc: the text token loop runs in TypeScript" >&2
else
  mkdir -p "$out/native"
  if ! "$cc" -O2 -std=c11 -fPIC -shared -Wall -Wextra -Werror -I"$node_inc" runtime/native/text-loop.c -o "$out/native/text-loop.node"; then
    echo "build: compiling runtime/native/text-loop.c failed (above): the text token loop runs in TypeScript" >&2
    rm -f "$out/native/text-loop.node"
  fi
fi
if [ -d dist ]; then mv dist "$old"; fi
mv "$out" dist
