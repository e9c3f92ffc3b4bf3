#!/usr/bin/env bash
# The accessibility audit injects axe-core (from the npm registry) into the pages.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .cache/axe/node_modules/axe-core/axe.min.js ] && exit 0
command -v npm >/dev/null 2>&1 || {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  else
    echo "npm is needed to install axe-core for the accessibility audit (apt-get install -y npm)" >&2; exit 1
  fi
}
mkdir -p .cache/axe
npm install --prefix .cache/axe --no-audit --no-fund --silent axe-core@4.11.1
