#!/usr/bin/env bash
# `make bench`: on a fresh database, (1) webhook ingestion beside a bare receiver
# (countersign bench-bare: HMAC + one durable insert) on the same Postgres with the same
# open-model client: p99 at BENCH_RATE and its ratio, the knee, resident memory, and
# 1x/3x/10x the knee (bench-compare, medians of BENCH_RUNS runs); (2) the queue and case pages at
# BENCH_CALLS seeded calls; (3) approval-to-first-connector-attempt latency. Prints the
# results and writes them to BENCHMARKS.md with the machine they ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
RATE="${BENCH_RATE:-1000}"
DURATION="${BENCH_DURATION:-10s}"
CALLS="${BENCH_CALLS:-1000000}"
PORT="${BENCH_PORT:-18090}"
BARE_PORT="${BENCH_BARE_PORT:-$((PORT + 1))}"
RUNS="${BENCH_RUNS:-3}"
# Before each run bench-compare waits for the previous run's background work (claim
# checks, indexing, sealing) to end, at most this long; the table says how long it waited.
SETTLE_MAX="${BENCH_SETTLE_MAX:-60s}"
dir=$(mktemp -d /tmp/countersign-bench.XXXXXX)
chmod 755 "$dir" # the private Postgres runs as the postgres user when we are root
out=$(mktemp)
pid=""
bare=""
cleanup() {
  for p in $bare $pid; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

COUNTERSIGN_DATA_DIR="$dir" COUNTERSIGN_ADDR="127.0.0.1:$PORT" COUNTERSIGN_LOG_LEVEL=warn \
  ./bin/countersign dev --no-demo >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || { cat "$dir/server.log"; exit 1; }
DBURL="postgres://countersign:$(cat "$dir/postgres/countersign.password")@127.0.0.1:$(cat "$dir/postgres.port")/countersign"
DATABASE_URL="$DBURL" ./bin/countersign bench-bare --addr "127.0.0.1:$BARE_PORT" >"$dir/bare.log" 2>&1 &
bare=$!
for _ in $(seq 1 50); do grep -q listening "$dir/bare.log" 2>/dev/null && break; sleep 0.2; done
grep -q listening "$dir/bare.log" || { cat "$dir/bare.log"; exit 1; }

{
  echo "# Benchmarks"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
       "$(go version | cut -d' ' -f3), PostgreSQL $(ls /usr/lib/postgresql | sort -n | tail -1) private cluster. The load client," \
       "the server and Postgres share these cores. Date: $(date -u +%Y-%m-%d). Command: \`make bench\`."
  echo
  echo "## 1. Webhook ingestion: Countersign beside a bare receiver ($RATE/s, open model, medians of $RUNS runs)"
  echo
  echo '```'
  ./bin/countersign bench-compare --countersign "http://127.0.0.1:$PORT" --bare "http://127.0.0.1:$BARE_PORT" \
    --countersign-pid "$pid" --bare-pid "$bare" --rate "$RATE" --duration "$DURATION" --runs "$RUNS" --settle-max "$SETTLE_MAX" 2>&1 || true
  echo '```'
  echo
  echo "bare: \`countersign bench-bare\` (HMAC-SHA256 over the raw body, one INSERT of the body, 200 after COMMIT)."
  echo "Knee: the highest rate, in steps of 500/s for 4 s, at which 99% are acknowledged with a p99 under 1 s."
  echo "Beyond its bounds Countersign answers 503 with Retry-After before reading the body (refused, not stored);"
  echo "RSS is the server's resident memory sampled every 50 ms during each run (VmRSS), peak (VmHWM) at the end."
  echo "Both servers are warmed up first (not measured); before each run bench-compare waits until Countersign's"
  echo "process tree (its Postgres included) is idle, at most BENCH_SETTLE_MAX ($SETTLE_MAX): \"settled\" says how long."
  echo "Claim checks during these runs are paced by COUNTERSIGN_STRIPE_READ_RATE (80 Stripe reads/s), as they"
  echo "would be against Stripe's rate limit. Search indexing, audit sealing and job dispatch run alongside and"
  echo "slow down while the server takes 100 or more webhooks a second (README, \"How a webhook is stored\")."
  echo "From 300 a second Countersign answers a call event once it is durable, redacted, in webhook_inbox and"
  echo "files it into calls and cases when the burst is over (at most 30 s behind), as in these runs; below that"
  echo "rate it files before it answers."
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
