#!/usr/bin/env bash
# Builds the native part of the optional librdkafka client, @confluentinc/kafka-javascript
# (KAFKA_CLIENT=librdkafka), from the source its npm package ships, without downloading
# anything: the package's own install script (node-pre-gyp) fetches a prebuilt binary from
# GitHub, so package.json denies it (allowScripts) and this script does the build instead.
#
#   1. librdkafka.a: the one scripts/broker/build.sh builds from the same package version
#      (the broker's mock cluster lives in the same library; the client never starts it).
#      Minimal features: TLS and SASL (PLAIN, SCRAM) through the system's OpenSSL; no
#      compression libraries, GSSAPI or curl.
#   2. librdkafka++.a: librdkafka's C++ layer (src-cpp), which the binding is written on.
#   3. the addon: the package's src/*.cc against node's headers (nodejs-dev / libnode-dev,
#      /usr/include/node) and nan, linked into build/Release/confluent-kafka-javascript.node
#      inside the installed package, where its loader (bindings) looks.
#
# Cached in .cache/kafka-native keyed by this script, the package version and node's ABI;
# the addon is copied into node_modules again after every npm ci (~25 s the first time).
# Progress goes to stderr. Safe to run concurrently (flock).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${MLSTREAM_KAFKA_NATIVE_CACHE:-$root/.cache/kafka-native}"
pkg="$root/node_modules/@confluentinc/kafka-javascript"
want_version=1.10.1 # the version scripts/broker/build.sh takes librdkafka from
jobs="$(nproc 2>/dev/null || echo 2)"
cxx="${CXX:-g++}"

log() { printf '[kafka-native] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -f "$pkg/package.json" ]] || die "$pkg is not installed (npm ci installs it as an optional dependency)"
version="$(node -p "require('$pkg/package.json').version")"
[[ "$version" == "$want_version" ]] || die "@confluentinc/kafka-javascript $version installed, this build is for $want_version"
command -v "$cxx" >/dev/null 2>&1 || die "C++ compiler '$cxx' not found (apt-get install -y g++)"
node_inc="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
[[ -f "$node_inc/node.h" ]] || die "node's headers are not at $node_inc (apt-get install -y libnode-dev, or set up node with its include/ directory)"
nan_inc="$(cd "$root" && node -p "require('path').dirname(require.resolve('nan/package.json'))")"

mkdir -p "$cache"
exec 9>"$cache/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

lib_dir="$(dirname "$(bash "$root/scripts/broker/build.sh" | tail -1)")/librdkafka-2.15.1"
[[ -f "$lib_dir/src/librdkafka.a" ]] || die "scripts/broker/build.sh did not leave $lib_dir/src/librdkafka.a"

abi="$(node -p process.versions.modules)"
key="$(cat "$here/build.sh" "$lib_dir/src/librdkafka.a" "$lib_dir/extra-libs.txt" | sha256sum | cut -d' ' -f1)-$version-$abi"
addon="$cache/confluent-kafka-javascript.node"
target="$pkg/build/Release/confluent-kafka-javascript.node"

if [[ ! -f "$addon" || "$(cat "$cache/stamp" 2>/dev/null)" != "$key" ]]; then
  start=$SECONDS
  rm -rf "$cache/obj" "$cache/stamp"
  mkdir -p "$cache/obj/cpp" "$cache/obj/addon"
  log "compiling librdkafka++ and the addon with $jobs jobs (about 20-40 s)"
  # -w: warnings in code that is not ours would only be noise.
  compile() { # <out.o> <std> <src> [flags...]
    local out="$1" std="$2" src="$3"
    shift 3
    "$cxx" -std="$std" -O2 -fPIC -w "$@" -c "$src" -o "$out"
  }
  pids=()
  run() { # bounded parallelism: at most $jobs compilers at once
    "$@" &
    pids+=($!)
    if ((${#pids[@]} >= jobs)); then wait "${pids[0]}" || die "compiling failed: ${*:3:1}"; pids=("${pids[@]:1}"); fi
  }
  for src in "$lib_dir"/src-cpp/*.cpp; do
    run compile "$cache/obj/cpp/$(basename "$src" .cpp).o" c++11 "$src" -I"$lib_dir/src"
  done
  for src in "$pkg"/src/*.cc; do
    run compile "$cache/obj/addon/$(basename "$src" .cc).o" c++20 "$src" \
      -I"$node_inc" -I"$nan_inc" -I"$pkg" -I"$lib_dir/src" -I"$lib_dir/src-cpp" \
      -DBUILDING_NODE_EXTENSION -DNODE_GYP_MODULE_NAME=confluent-kafka-javascript
  done
  for pid in "${pids[@]}"; do wait "$pid" || die "compiling failed"; done
  ar rcs "$cache/obj/librdkafka++.a" "$cache"/obj/cpp/*.o
  "$cxx" -shared -o "$addon.tmp" "$cache"/obj/addon/*.o "$cache/obj/librdkafka++.a" "$lib_dir/src/librdkafka.a" \
    $(cat "$lib_dir/extra-libs.txt") -lpthread -lm -ldl -lrt || die "linking the addon failed"
  mv -f "$addon.tmp" "$addon"
  echo "$key" >"$cache/stamp"
  log "addon built in $((SECONDS - start)) s"
fi

if ! cmp -s "$addon" "$target" 2>/dev/null; then
  mkdir -p "$(dirname "$target")"
  cp -f "$addon" "$target.tmp"
  mv -f "$target.tmp" "$target"
fi
# Loading it is the check that the build is usable.
(cd "$root" && node -e "const k=require('@confluentinc/kafka-javascript'); if (!k.librdkafkaVersion) process.exit(1)") ||
  die "the built addon does not load"
log "librdkafka client ready ($target)"
