#!/usr/bin/env bash
# The unit layer (`npm run test:unit`) on Node 24, the current LTS line, so a break there shows
# while development runs on Node 20. Node 24 comes from the npm registry's `node` package (npx
# caches it after the first run); `node` on PATH is that one for npm and everything it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
npx --yes -p node@24 -- bash -c 'echo "test-node24: node $(node --version)" && npm run test:unit'
