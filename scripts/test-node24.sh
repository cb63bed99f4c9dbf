#!/usr/bin/env bash
# The unit layer on Node 24, the current LTS line, so a break there shows while development runs
# on Node 20. Node 24 comes from the npm registry's `node` package (cached by npx after the first
# run). The unit layer is `npm run test:unit` once the workspace defines it; until then, the
# tests under packages/ and apps/ (none of them needs a started cluster).
set -euo pipefail
cd "$(dirname "$0")/.."

if node -e 'process.exit(require("./package.json").scripts?.["test:unit"] ? 0 : 1)'; then
  tests=(npm run test:unit)
else
  tests=(node --import tsx scripts/run-tests.ts packages/ apps/)
fi
npx --yes -p node@24 -- bash -c 'echo "test-node24: $(node --version): $*" && "$@"' test-node24 "${tests[@]}"
