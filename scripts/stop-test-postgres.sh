#!/usr/bin/env bash
# Stops the private cluster the tests start when no other Postgres was found.
dir="${TMPDIR:-/tmp}/countersign-testpg/postgres"
[ -f "$dir/postmaster.pid" ] || exit 0
pid=$(head -1 "$dir/postmaster.pid")
kill -INT "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
