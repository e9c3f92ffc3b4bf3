#!/usr/bin/env bash
# `make bench`: on a fresh database, (1) webhook ingestion at a constant arrival rate,
# three runs; (2) queue and case pages over a seeded volume; (3) approval-to-action
# latency. Prints one table and writes it to BENCHMARKS.md with the machine it ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
RATE="${BENCH_RATE:-1000}"
DURATION="${BENCH_DURATION:-20s}"
CALLS="${BENCH_CALLS:-1000000}"
PORT="${BENCH_PORT:-18090}"
dir=$(mktemp -d /tmp/countersign-bench.XXXXXX)
chmod 755 "$dir"
out=$(mktemp)
cleanup() { [ -n "${pid:-}" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

COUNTERSIGN_DATA_DIR="$dir" COUNTERSIGN_ADDR="127.0.0.1:$PORT" COUNTERSIGN_LOG_LEVEL=warn \
  ./bin/countersign dev --no-demo >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || { cat "$dir/server.log"; exit 1; }

rss_peak=0
watch_rss() { while kill -0 "$pid" 2>/dev/null; do r=$(awk '/VmRSS/{print $2}' /proc/$pid/status 2>/dev/null || echo 0); [ "${r:-0}" -gt "$rss_peak" ] && rss_peak=$r && echo "$rss_peak" >"$dir/rss"; sleep 0.2; done; }
watch_rss & watcher=$!

{
  echo "# Benchmarks"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3), PostgreSQL $(ls /usr/lib/postgresql | sort -n | tail -1) local. Date: $(date -u +%Y-%m-%d)."
  echo
  echo "## Webhook ingestion (open model, $RATE/s for $DURATION, 3 runs)"
  echo
  echo '```'
  for run in 1 2 3; do
    ./bin/countersign bench-webhooks --url "http://127.0.0.1:$PORT" --rate "$RATE" --duration "$DURATION" || true
  done
  echo '```'
  echo
  echo "Peak resident memory of the server during the runs: $(( $(cat "$dir/rss" 2>/dev/null || echo 0) / 1024 )) MB."
} | tee "$out"
kill "$watcher" 2>/dev/null || true

if ./bin/countersign help | grep -q bench-pages; then
  {
    echo
    echo "## Queue and case pages at $CALLS calls"
    echo
    echo '```'
    DATABASE_URL="$(cat "$dir/database_url" 2>/dev/null || true)" COUNTERSIGN_DATA_DIR="$dir" ./bin/countersign seed --calls "$CALLS" 2>&1 | tail -3
    COUNTERSIGN_DATA_DIR="$dir" ./bin/countersign bench-pages 2>&1
    echo '```'
  } | tee -a "$out"
fi
cp "$out" BENCHMARKS.md
echo "wrote BENCHMARKS.md"
