#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need, then runs the whole suite.
# Unit tests run in parallel; integration and end-to-end tests (real local broker, real
# processes) run one file at a time so their timings do not fight over 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[test] installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund
fi
bash scripts/broker/build.sh >&2
# The optional librdkafka client (KAFKA_CLIENT=librdkafka): its tests run too.
bash scripts/kafka-native/build.sh

# The build typechecks everything (tsconfig.build.json extends tsconfig.json) and writes the
# dist/ that bin/mlstream.js runs, so tests that spawn the CLI never run stale output.
echo "[test] build (typecheck + dist/)" >&2
npm run --silent build

mapfile -t unit < <(find test/unit test/conformance -name '*.test.ts' 2>/dev/null | sort)
mapfile -t slow < <(find test/integration test/e2e -name '*.test.ts' 2>/dev/null | sort)
files=("${unit[@]}" "${slow[@]}")
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi

# One runner invocation, so its closing summary counts every test.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
