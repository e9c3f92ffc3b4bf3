#!/usr/bin/env bash
# Fails when a committed *_templ.go file is not what `templ generate` makes of its source.
set -euo pipefail
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r views "$tmp/views"
go tool templ generate -path "$tmp/views" >/dev/null 2>&1
if ! diff -r -q views "$tmp/views" >/dev/null; then
  diff -r -q views "$tmp/views" || true
  echo "generated templ files are stale: run 'make generate' and commit the result" >&2
  exit 1
fi
echo "generated files are current"
