#!/usr/bin/env bash
# Browser tests drive Debian's chromium; install it when missing and we are root.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium not found: installing Debian's chromium package..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
  exit 0
fi
if [ "${CI:-}" = "true" ]; then
  echo "chromium is required for the browser tests under CI (apt-get install -y chromium)" >&2
  exit 1
fi
echo "warning: chromium not found; browser tests will fail (sudo apt-get install -y chromium)" >&2
