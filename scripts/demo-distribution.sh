#!/bin/bash
# Urgency, alert and exception-queue distribution of the demo data (issue 15):
# a fresh database, `countersign dev` (60 demo calls on first start) on PORT, then
# 200 more demo calls with seed 15, then the counts of open cases by urgency.
#   scripts/demo-distribution.sh [binary] [database] [port]
set -u
BIN=${1:-bin/countersign}; DB=${2:-countersign_demo_dist}; PORT=${3:-8118}
PG="-h 127.0.0.1 -U postgres"
dropdb $PG --if-exists "$DB" && createdb $PG "$DB" || exit 1
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable" COUNTERSIGN_ADDR=127.0.0.1:$PORT
"$BIN" dev > "/tmp/$DB.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT
for _ in $(seq 1 120); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 1; done
sleep 20 # the 60 first-start demo calls
"$BIN" demo --calls 200 --seed 15 --url "http://127.0.0.1:$PORT"
sleep 60 # claim checks and alerts
psql $PG "$DB" \
  -c "SELECT urgency, count(*) FROM cases WHERE status NOT IN ('done', 'rejected') GROUP BY 1 ORDER BY 1" \
  -c "SELECT kind, urgency, count(*) FROM cases GROUP BY 1, 2 ORDER BY 1, 2" \
  -c "SELECT reason, status, count(*) FROM case_alerts GROUP BY 1, 2" \
  -c "SELECT reason, status, count(*) FROM exception_rows GROUP BY 1, 2"
