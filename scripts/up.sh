#!/usr/bin/env bash
# Quick start: installs dependencies when they are missing or stale, then brings the cluster up.
set -euo pipefail
cd "$(dirname "$0")/.."

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing dependencies (npm ci)…"
  npm ci --no-audit --no-fund
fi

# The web app the front door serves at /: built when missing or older than its sources.
web_sources="apps/web/src apps/web/public apps/web/index.html apps/web/vite.config.ts packages/client/src packages/protocol/src package-lock.json"
# shellcheck disable=SC2086
if [ ! -f apps/web/dist/index.html ] || [ -n "$(find $web_sources -newer apps/web/dist/index.html -print -quit 2>/dev/null)" ]; then
  echo "building the web app (npm run build:web)…"
  npm run build:web --silent >/dev/null
fi

exec node --import tsx scripts/start.ts "$@"
