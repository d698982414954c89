#!/usr/bin/env bash
# The test command (npm test): the lint and the whole-repository typecheck (each counts as one
# test), builds what the tests run (the digits asset, dist/ for the CLI), then the unit tests
# (vitest, Node + real WebGPU) and the browser tests (Playwright, headless Chromium + WebGPU), and
# ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
mkdir -p reports

# Lint and typecheck failures are counted but do not stop the run: the tests still report.
checks_passed=0
checks_failed=0
for check in lint typecheck; do
  if npm run "$check" --silent; then checks_passed=$((checks_passed + 1)); else checks_failed=$((checks_failed + 1)); echo "npm run $check failed"; fi
done

npm run build --silent || { echo "$checks_passed passed, $((checks_failed + 1)) failed"; exit 1; }

npx vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json
vitest_rc=$?
PLAYWRIGHT_JSON_OUTPUT_NAME=reports/playwright.json npx playwright test --reporter=list,json
playwright_rc=$?

node scripts/count-tests.mjs reports/vitest.json reports/playwright.json "$checks_passed" "$checks_failed"
count_rc=$?
if [ $vitest_rc -ne 0 ] || [ $playwright_rc -ne 0 ] || [ $count_rc -ne 0 ]; then exit 1; fi
