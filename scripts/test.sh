#!/usr/bin/env bash
# `make test`: gofmt, go mod tidy -diff, vet, staticcheck, generated-file check, then every test (unit,
# database, browser, real connector peers).
# Postgres: DATABASE_URL, else a server on 127.0.0.1:5432, else a private cluster the
# tests start themselves (installing the server binaries first when root).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/ensure-postgres.sh
scripts/ensure-chromium.sh
scripts/ensure-axe.sh
# stripe-mock and Mailpit on loopback (STRIPE_MOCK_URL, MAILPIT_SMTP, MAILPIT_API),
# stopped on the way out whatever happens.
trap 'scripts/peers.sh stop || true' EXIT
peers=$(scripts/peers.sh)
eval "$peers"
echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted" >&2; exit 1; fi
echo "== go mod tidy"
# Fails when go.mod/go.sum drift from the imports (a requirement marked indirect,
# an unused module, a missing sum); the diff says what `go mod tidy` would change.
go mod tidy -diff
echo "== go vet"
go vet ./...
echo "== staticcheck"
go tool staticcheck ./...
echo "== generated files"
scripts/check-generated.sh
echo "== go test"
mkdir -p artifacts
# The browser journeys (internal/e2e) run beside the rest and without the race
# detector: they drive Chromium through the same handlers, jobs and database code
# that web/, handlers/ and internal/* test under -race, and instrumenting the server
# they start made them the longest package by far (271 s of a 605 s run).
go test -count=1 -timeout 20m ./internal/e2e/ > artifacts/e2e.log 2>&1 &
e2e=$!
go test -race -count=1 -timeout 20m $(go list ./... | grep -v '/internal/e2e$') 2>&1 | tee artifacts/test.log
status=${PIPESTATUS[0]}
e2e_status=0
wait "$e2e" || e2e_status=$?
cat artifacts/e2e.log
if [ "$e2e_status" -ne 0 ]; then status=$e2e_status; fi
scripts/stop-test-postgres.sh || true
echo "make test took $(( $(date +%s) - start ))s"
exit "$status"
