#!/usr/bin/env bash
# Builds .cache/broker/mlstream-broker: scripts/broker/launcher.c linked against
# a minimal static librdkafka whose mock cluster serves the Kafka protocol.
#
# Idempotent and safe to run concurrently (flock): each stage is skipped when its
# stamp matches. Stages:
#   1. librdkafka.a  - keyed by the hash of this script and the patch-*.mjs (~30-45 s on 2 cores)
#   2. the launcher  - keyed by the hash of this script + launcher.c (~1 s)
# Progress goes to stderr; on success the binary path is the only stdout line.
#
# Source: librdkafka as bundled by the npm package @confluentinc/kafka-javascript
# (deps/librdkafka), fetched with `npm pack` - the npm registry is the only
# source we can reach. Its install script is never run: we only unpack the
# tarball. Debian's librdkafka is too old (no rd_kafka_mock_set_controller_id).
#
# Needs: bash, tar, gzip, make, a C compiler (gcc; no C++ compiler), node/npm, and
# OpenSSL's headers (Debian's libssl-dev; installed with apt-get when run as root).
# zlib/gssapi/zstd/curl are disabled: the mock broker never decompresses anything
# (compressed batches from clients are stored verbatim). OpenSSL is on for the
# librdkafka client built on the same library (scripts/kafka-native/build.sh), which
# needs it for TLS and SASL/SCRAM (SASL/PLAIN is built in); the mock's listeners stay
# plaintext. Without the headers (not root, no apt-get), the library is built without
# TLS and SCRAM, and the client refuses those settings at start (librdkafka's builtin.features).
set -euo pipefail

# Bundles librdkafka 2.15.1 (checked below via RD_KAFKA_VERSION).
PKG_VERSION=1.10.1
PKG_SPEC="@confluentinc/kafka-javascript@${PKG_VERSION}"
PKG_TARBALL="confluentinc-kafka-javascript-${PKG_VERSION}.tgz"
# dist.integrity from the registry; pins the exact tarball we build from.
PKG_INTEGRITY="sha512-KVePUBn21EqCVP9mfxzEuM3SYJHHEF7X+iiC2e43QQgDSyEaksInmCGooT3w5q+cNAdkSCrK71j0ICfqoSqZLw=="
RDKAFKA_VERSION_HEX=0x020f01ff # 2.15.1 final

# The mock keeps at most 5 MiB or 100000 message sets per partition and then
# silently drops the oldest data (rd_kafka_mock_partition_init() in
# src/rdkafka_mock.c). Tests that produce more than that and read from the
# beginning would see data vanish, so the cap is raised to 1 GiB / 10M sets.
MOCK_MAX_SIZE_EXPR="(size_t)1024 * 1024 * 1024"
MOCK_MAX_CNT=10000000

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${MLSTREAM_BROKER_CACHE:-$root/.cache/broker}"
bin="$cache/mlstream-broker"
srcdir="$cache/librdkafka-2.15.1"
jobs="$(nproc 2>/dev/null || echo 2)"
cc="${CC:-gcc}"

log() { printf '[broker-build] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$cache"
# Two test files may ask for the broker at the same moment: one builds, the
# others wait here and then find the stamps up to date.
exec 9>"$cache/.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
lib_key="$(hash_of "$here/build.sh" "$here/patch-source.mjs" "$here/patch-fetch.mjs" "$here/patch-fetch-wait.mjs")"
bin_key="$(hash_of "$here/build.sh" "$here/patch-source.mjs" "$here/patch-fetch.mjs" "$here/patch-fetch-wait.mjs" "$here/launcher.c")"

stamp_ok() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

# OpenSSL's headers: Debian's libssl-dev, installed here when run as root.
have_openssl() { [[ -f /usr/include/openssl/ssl.h ]]; }
if ! have_openssl && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  log "installing libssl-dev (OpenSSL headers, for the librdkafka client's TLS and SASL/SCRAM)"
  (apt-get install -y libssl-dev >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y libssl-dev >/dev/null 2>&1; }) ||
    log "apt-get install libssl-dev failed; building without TLS"
fi
if have_openssl; then ssl_mode=--enable-ssl; else ssl_mode=--disable-ssl; fi
# The library's build depends on whether OpenSSL was found.
lib_key="$(printf '%s %s' "$lib_key" "$ssl_mode" | sha256sum | cut -d' ' -f1)"
bin_key="$(printf '%s %s' "$bin_key" "$ssl_mode" | sha256sum | cut -d' ' -f1)"

command -v "$cc" >/dev/null 2>&1 || die "C compiler '$cc' not found (apt-get install -y gcc make)"
command -v make >/dev/null 2>&1 || die "make not found (apt-get install -y make)"

fetch_tarball() {
  local tgz="$cache/$PKG_TARBALL"
  if [[ -f "$tgz" ]] && [[ "$(integrity_of "$tgz")" == "$PKG_INTEGRITY" ]]; then
    return
  fi
  rm -f "$tgz"
  log "fetching $PKG_SPEC with npm pack (no install scripts are run)"
  (cd "$cache" && npm pack "$PKG_SPEC" --ignore-scripts --silent >/dev/null) ||
    die "npm pack $PKG_SPEC failed"
  [[ -f "$tgz" ]] || die "npm pack did not produce $tgz"
  [[ "$(integrity_of "$tgz")" == "$PKG_INTEGRITY" ]] ||
    die "$PKG_TARBALL does not match the pinned integrity"
}

integrity_of() {
  node -e 'const c=require("crypto"),f=require("fs");
    process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

build_lib() {
  local start=$SECONDS tmp
  fetch_tarball

  log "extracting deps/librdkafka"
  rm -rf "$srcdir" "$cache/extract.tmp"
  tmp="$cache/extract.tmp"
  mkdir -p "$tmp"
  tar -xzf "$cache/$PKG_TARBALL" -C "$tmp" package/deps/librdkafka
  mv "$tmp/package/deps/librdkafka" "$srcdir"
  rm -rf "$tmp"

  grep -q "define RD_KAFKA_VERSION ${RDKAFKA_VERSION_HEX}" "$srcdir/src/rdkafka.h" ||
    die "unexpected librdkafka version in $PKG_TARBALL (want ${RDKAFKA_VERSION_HEX})"

  log "patching mock partition retention cap (5 MiB/100k sets -> 1 GiB/10M sets)"
  sed -i \
    -e "s/mpart->max_size = 1024 \* 1024 \* 5;/mpart->max_size = ${MOCK_MAX_SIZE_EXPR};/" \
    -e "s/mpart->max_cnt  = 100000;/mpart->max_cnt  = ${MOCK_MAX_CNT};/" \
    "$srcdir/src/rdkafka_mock.c"
  grep -qF "mpart->max_size = ${MOCK_MAX_SIZE_EXPR};" "$srcdir/src/rdkafka_mock.c" &&
    grep -qF "mpart->max_cnt  = ${MOCK_MAX_CNT};" "$srcdir/src/rdkafka_mock.c" ||
    die "retention patch did not apply (librdkafka source changed?)"

  log "patching the mock's Fetch to return every message set that fits, as a broker does"
  node "$here/patch-fetch.mjs" "$srcdir/src/rdkafka_mock_handlers.c" ||
    die "fetch patch did not apply (librdkafka source changed?)"
  log "patching the mock's Fetch to wait for data, as a broker does, instead of answering empty after MaxWait"
  node "$here/patch-fetch-wait.mjs" "$srcdir/src" ||
    die "fetch-wait patch did not apply (librdkafka source changed?)"

  log "configuring (minimal: $ssl_mode; no gssapi/zlib/zstd/curl/lz4-ext/syslog)"
  # --cxx=$cc: configure insists on a C++ compiler although only the C library
  # is built; gcc passes its check, so g++ is not needed.
  (cd "$srcdir" && ./configure --no-download --cc="$cc" --cxx="$cc" \
      "$ssl_mode" --disable-gssapi --disable-zstd --disable-curl \
      --disable-zlib --disable-lz4-ext --disable-syslog \
      >"$cache/configure.log" 2>&1) ||
    die "configure failed, see $cache/configure.log"

  log "compiling librdkafka.a with $jobs jobs (about 30-60 s)"
  make -C "$srcdir/src" -j"$jobs" librdkafka.a >"$cache/make.log" 2>&1 ||
    die "make failed, see $cache/make.log"
  # What else a program linking librdkafka.a links (read by scripts/kafka-native/build.sh too).
  if grep -q '^#define WITH_SSL 1' "$srcdir/config.h"; then echo "-lssl -lcrypto" >"$srcdir/extra-libs.txt"; else : >"$srcdir/extra-libs.txt"; fi

  echo "$lib_key" >"$cache/librdkafka.stamp"
  log "librdkafka.a built in $((SECONDS - start)) s"
}

build_bin() {
  log "compiling launcher.c"
  # --wrap=bind: lets launcher.c pick broker 1's port (see __wrap_bind).
  # -isystem: librdkafka's headers are not ours to warn about.
  "$cc" -std=gnu11 -O2 -Wall -Wextra -isystem "$srcdir/src" \
    -o "$bin.tmp" "$here/launcher.c" "$srcdir/src/librdkafka.a" \
    -Wl,--wrap=bind $(cat "$srcdir/extra-libs.txt") -lm -lpthread -ldl -lrt ||
    die "compiling launcher.c failed"
  mv -f "$bin.tmp" "$bin"
  echo "$bin_key" >"$cache/mlstream-broker.stamp"
}

if ! stamp_ok "$cache/librdkafka.stamp" "$lib_key" || [[ ! -f "$srcdir/src/librdkafka.a" ]]; then
  rm -f "$cache/librdkafka.stamp" "$cache/mlstream-broker.stamp"
  build_lib
else
  log "librdkafka.a up to date"
fi

if ! stamp_ok "$cache/mlstream-broker.stamp" "$bin_key" || [[ ! -x "$bin" ]]; then
  build_bin
else
  log "mlstream-broker up to date"
fi

echo "$bin"
