#!/usr/bin/env bash
# The production install as an operator makes it from a fresh clone, proven end to end:
#   npm ci && npm run build && npm ci --omit=dev, then `npm run start:prod` passes the quick-start test.
# The build runs here (this tree already has its dev install); the `--omit=dev` install and the
# cluster run in a temporary copy, so the dev tree the other tests use stays as it is. The copy
# leaves out packages/db/src/generated: the build output must carry the Prisma client.
# Used by .ci/run; takes about a minute (mostly npm ci, from npm's cache).
set -euo pipefail
cd "$(dirname "$0")/.."

npm run build

copy=$(mktemp -d "${TMPDIR:-/tmp}/im-production-XXXXXX")
trap 'rm -rf "$copy"' EXIT
tar --create --file - \
  --exclude=node_modules --exclude=./.git --exclude=./var --exclude=./bench/results \
  --exclude=./uploads --exclude=./packages/db/src/generated . | tar --extract --file - --directory "$copy"

echo "check-production: npm ci --omit=dev in $copy"
(cd "$copy" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)

# Development and test packages must not be in a production install.
status=0
for package in tsx typescript esbuild prisma @prisma/internals madge smtp-server mailparser playwright-core socket.io socket.io-client @socket.io/redis-adapter; do
  if [ -e "$copy/node_modules/$package" ]; then
    echo "check-production: $package is installed by npm ci --omit=dev" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] || exit 1
echo "check-production: $(du -sh "$copy/node_modules" | cut -f1) of node_modules; no development package"

IM_PRODUCTION_ROOT="$copy" node --import tsx --test --test-reporter=spec test/e2e/quickstart.test.ts
