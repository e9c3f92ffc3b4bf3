#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries exist when no DATABASE_URL is given: installs
# Debian's postgresql package when missing and we are root; otherwise says how.
set -euo pipefail
[ -n "${DATABASE_URL:-}" ] && exit 0
if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL server binaries not found: installing Debian's postgresql package..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
  exit 0
fi
echo "PostgreSQL server binaries not found. Install them (sudo apt-get install -y postgresql)," >&2
echo "or set DATABASE_URL to an existing database." >&2
exit 1
