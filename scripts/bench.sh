#!/usr/bin/env bash
# `make bench`: on a fresh database, (1) webhook ingestion at a constant arrival rate,
# three runs, with the server's peak resident memory; (2) the queue and case pages at
# BENCH_CALLS seeded calls; (3) approval-to-first-connector-attempt latency. Prints the
# results and writes them to BENCHMARKS.md with the machine they ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
RATE="${BENCH_RATE:-1000}"
DURATION="${BENCH_DURATION:-20s}"
CALLS="${BENCH_CALLS:-1000000}"
PORT="${BENCH_PORT:-18090}"
dir=$(mktemp -d /tmp/countersign-bench.XXXXXX)
chmod 755 "$dir" # the private Postgres runs as the postgres user when we are root
out=$(mktemp)
pid=""
cleanup() { if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$dir"; }
trap cleanup EXIT

COUNTERSIGN_DATA_DIR="$dir" COUNTERSIGN_ADDR="127.0.0.1:$PORT" COUNTERSIGN_LOG_LEVEL=warn \
  ./bin/countersign dev --no-demo >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || { cat "$dir/server.log"; exit 1; }
DBURL="postgres://countersign:$(cat "$dir/postgres/countersign.password")@127.0.0.1:$(cat "$dir/postgres.port")/countersign"

peak_rss() { # peak resident memory of the server so far, in MB (VmHWM)
  awk '/VmHWM/{printf "%d", $2/1024}' "/proc/$pid/status" 2>/dev/null || echo "?"
}

{
  echo "# Benchmarks"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
       "$(go version | cut -d' ' -f3), PostgreSQL $(ls /usr/lib/postgresql | sort -n | tail -1) private cluster. The load client," \
       "the server and Postgres share these cores. Date: $(date -u +%Y-%m-%d). Command: \`make bench\`."
  echo
  echo "## 1. Webhook ingestion ($RATE/s offered for $DURATION, open model, 3 runs)"
  echo
  echo '```'
  for run in 1 2 3; do
    ./bin/countersign bench-webhooks --url "http://127.0.0.1:$PORT" --rate "$RATE" --duration "$DURATION" 2>&1 || true
  done
  echo '```'
  echo
  echo "Peak resident memory of the server (VmHWM) after the runs: $(peak_rss) MB."
  echo
  echo "Below the target rate, for where the latency knee is (one run each):"
  echo
  echo '```'
  for r in ${BENCH_KNEE_RATES:-400 550 700}; do
    ./bin/countersign bench-webhooks --url "http://127.0.0.1:$PORT" --rate "$r" --duration "$DURATION" 2>&1 || true
  done
  echo '```'
  echo
  echo "Claim checks during these runs are paced by COUNTERSIGN_STRIPE_READ_RATE (80 Stripe reads/s), as they"
  echo "would be against Stripe's rate limit. Search indexing, audit sealing and job dispatch run alongside and"
  echo "slow down while the server takes 100 or more webhooks a second (README, \"How a webhook is stored\")."
  echo
  echo "## 2. Queue and case pages at $CALLS seeded calls (server-side, one request at a time)"
  echo
  echo '```'
  DATABASE_URL="$DBURL" ./bin/countersign seed --calls "$CALLS" 2>&1 | tail -1
  DATABASE_URL="$DBURL" ./bin/countersign bench-pages --n 100 --concurrency 1 --explain=false 2>&1
  echo '```'
  echo
  echo "## 3. Approval to first connector attempt"
  echo
  echo '```'
  go test -run '^$' -bench ApprovalToFirstAttempt -benchtime 40x ./internal/jobs 2>&1 | grep -E "Benchmark|p50|p95|ns/op" || true
  echo '```'
} | tee "$out"
cp "$out" BENCHMARKS.md
echo "wrote BENCHMARKS.md"
