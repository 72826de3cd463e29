#!/usr/bin/env bash
# Brings mlstream up: Kafka (KRaft) + the runtime through docker compose when a Docker
# engine answers, otherwise local mode: the local Kafka-protocol broker and the runtime as
# background Node processes. Both create the topics messages, predictions and errors.
#
#   bash init.sh            bring everything up (docker if available, else local)
#   bash init.sh --local    force local mode
#   bash init.sh restart    restart the runtime only (local mode): the broker and its topic data stay
#   bash init.sh stop       stop what a previous `bash init.sh` started
#   bash init.sh status     show what is running
#
# Every package folder in MODELS_DIR serves (by the mlstream-model header or a bound
# topic); MODEL_PIPELINE only names the default package for records that name none.
set -euo pipefail
cd "$(dirname "$0")"

STATE="${MLSTREAM_STATE_DIR:-.mlstream}"
PORT="${LOCAL_KAFKA_PORT:-9092}"
HTTP_PORT="${HTTP_PORT:-8080}"
MODELS_DIR="${MODELS_DIR:-model-packages}"
# Records that name no package go to the shipped text classifier unless another is named.
export MODEL_PIPELINE="${MODEL_PIPELINE:-spam-text}"
mode="${1:-up}"

say() { printf '%s\n' "$*"; }

stop_pid() {
  local f="$STATE/$1.pid"
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    say "stopped $1 (pid $pid)"
  fi
  rm -f "$f"
  [ "$1" = broker ] && rm -f "$STATE/bootstrap"
  return 0
}

docker_works() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; }

case "$mode" in
  stop)
    if [ -f "$STATE/docker" ]; then docker compose down; rm -f "$STATE/docker"; fi
    stop_pid runtime
    stop_pid broker
    exit 0 ;;
  status)
    for p in broker runtime; do
      if [ -f "$STATE/$p.pid" ] && kill -0 "$(cat "$STATE/$p.pid")" 2>/dev/null; then say "$p: running (pid $(cat "$STATE/$p.pid"))"; else say "$p: not running"; fi
    done
    exit 0 ;;
  up|--local|--docker|restart) ;;
  *) say "usage: bash init.sh [--local|--docker|restart|stop|status]" >&2; exit 2 ;;
esac

mkdir -p "$STATE"

packages=$(find "$MODELS_DIR" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' 2>/dev/null | sort | paste -sd ' ' - || true)
if [ ! -d "$MODELS_DIR/$MODEL_PIPELINE" ]; then
  say "warning: MODEL_PIPELINE=$MODEL_PIPELINE names no folder in ./$MODELS_DIR (packages there: ${packages:-none})." >&2
  say "         Records without a mlstream-model header will wait in Kafka until ./$MODELS_DIR/$MODEL_PIPELINE appears." >&2
fi

if [ "$mode" != "--local" ] && [ "$mode" != "restart" ] && docker_works; then
  say "Docker engine found: starting Kafka (KRaft) and the runtime with docker compose"
  docker compose up -d --build
  touch "$STATE/docker"
  say ""
  say "Up. Kafka bootstrap (from the host): localhost:9092"
  say "  Dashboard:        http://localhost:${HTTP_PORT}/   (status: http://localhost:${HTTP_PORT}/status)"
  say "Try it:  npx tsx playground/example.ts"
  say "See predictions as they arrive:  npx mlstream consume -f"
  say "Stop:    bash init.sh stop"
  exit 0
fi
[ "$mode" = "--docker" ] && { say "no working Docker engine here" >&2; exit 1; }

say "No Docker engine: local mode (local Kafka-protocol broker + runtime as Node processes)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
# bin/mlstream.js runs the compiled dist/ (npm ci builds it): rebuild when a source is newer.
if [ ! -f dist/runtime/cli.js ] || [ -n "$(find runtime schemas scripts/build.sh scripts/bundle.mjs -newer dist/runtime/cli.js -print -quit)" ]; then
  say "compiling the runtime (npm run build)"
  npm run --silent build
fi
bash scripts/broker/build.sh
# The librdkafka client's native part is compiled only when asked for (about 20 s once).
if [ "${KAFKA_CLIENT:-kafkajs}" = "librdkafka" ]; then
  say "building the librdkafka client (KAFKA_CLIENT=librdkafka)"
  bash scripts/kafka-native/build.sh
fi

stop_pid runtime

# A running local broker is kept, and so is every topic's data: only the runtime restarts.
bootstrap=""
if [ -f "$STATE/broker.pid" ] && kill -0 "$(cat "$STATE/broker.pid")" 2>/dev/null && [ -s "$STATE/bootstrap" ]; then
  bootstrap=$(cat "$STATE/bootstrap")
  say "Reusing the running local broker (pid $(cat "$STATE/broker.pid")) at $bootstrap: topic data kept"
else
  [ "$mode" = "restart" ] && { say "no local broker is running; start everything with: bash init.sh" >&2; exit 1; }
  stop_pid broker
  nohup node --import tsx scripts/broker/run.ts --port "$PORT" --topics messages,predictions,errors --partitions 3 --until-signal \
    >"$STATE/broker.log" 2>&1 </dev/null &
  echo $! >"$STATE/broker.pid"
  for _ in $(seq 1 100); do
    bootstrap=$(grep -m1 -oE '127\.0\.0\.1:[0-9]+(,127\.0\.0\.1:[0-9]+)*' "$STATE/broker.log" || true)
    [ -n "$bootstrap" ] && break
    kill -0 "$(cat "$STATE/broker.pid")" 2>/dev/null || { cat "$STATE/broker.log" >&2; say "the local broker failed to start" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$bootstrap" ] || { cat "$STATE/broker.log" >&2; say "the local broker printed no address" >&2; exit 1; }
  echo "$bootstrap" >"$STATE/bootstrap"
fi

KAFKA_BOOTSTRAP_SERVER="$bootstrap" MODELS_DIR="$MODELS_DIR" MODEL_PIPELINE="$MODEL_PIPELINE" HTTP_PORT="$HTTP_PORT" \
  nohup node bin/mlstream.js serve >"$STATE/runtime.log" 2>&1 </dev/null &
echo $! >"$STATE/runtime.pid"
for _ in $(seq 1 150); do
  grep -q '"msg":"consuming"' "$STATE/runtime.log" && break
  kill -0 "$(cat "$STATE/runtime.pid")" 2>/dev/null || { cat "$STATE/runtime.log" >&2; say "the runtime failed to start" >&2; exit 1; }
  sleep 0.2
done

say ""
say "Up (local mode)."
say "  Kafka bootstrap:  $bootstrap   (topics: messages, predictions, errors)"
say "  Runtime:          pid $(cat "$STATE/runtime.pid"), serving every package in ./$MODELS_DIR: ${packages:-none yet}"
say "                    records without a mlstream-model header go to: $MODEL_PIPELINE (MODEL_PIPELINE); logs in $STATE/runtime.log"
say "  Dashboard:        http://localhost:${HTTP_PORT}/   (status: http://localhost:${HTTP_PORT}/status)"
say "Try it:  npx tsx playground/example.ts --bootstrap-server $bootstrap"
say "See predictions as they arrive:  npx mlstream consume -f -b $bootstrap"
say "Restart the runtime alone (topic data kept): bash init.sh restart"
say "Stop:    bash init.sh stop"
