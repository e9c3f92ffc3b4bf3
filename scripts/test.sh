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
go test -race -count=1 -timeout 20m ./... 2>&1 | tee artifacts/test.log
status=${PIPESTATUS[0]}
scripts/stop-test-postgres.sh || true
echo "make test took $(( $(date +%s) - start ))s"
exit "$status"
