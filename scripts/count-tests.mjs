// Sums the passed and failed tests of the vitest and Playwright JSON reports, plus the checks run
// before them (lint, typecheck: counts given as two more arguments), into one line.
import { existsSync, readFileSync } from 'node:fs';

const [vitestFile, playwrightFile, checksPassed = '0', checksFailed = '0'] = process.argv.slice(2);
let passed = Number(checksPassed);
let failed = Number(checksFailed);

if (existsSync(vitestFile)) {
  const r = JSON.parse(readFileSync(vitestFile, 'utf8'));
  passed += r.numPassedTests ?? 0;
  // A file that failed outside any test (an import or beforeAll error) counts as one failure.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && !f.assertionResults?.some((a) => a.status === 'failed'));
  failed += (r.numFailedTests ?? 0) + brokenFiles.length;
} else {
  failed += 1;
}

if (existsSync(playwrightFile)) {
  const report = JSON.parse(readFileSync(playwrightFile, 'utf8'));
  const s = report.stats ?? {};
  passed += (s.expected ?? 0) + (s.flaky ?? 0);
  // Errors outside any test (the web server could not start, a file failed to load) count too:
  // such a run reports no test at all, and must not read as "0 failed".
  failed += (s.unexpected ?? 0) + (report.errors ?? []).length;
} else {
  failed += 1;
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
