// scripts/count-tests.mjs, the last line of `npm test` and `.ci/run` ("N passed, N failed"), from
// the vitest and Playwright JSON reports: what CI reads, so a run that tested nothing must not
// read as a clean one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'count-tests-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function count(vitest: unknown, playwright: unknown, checks: [number, number] = [2, 0]): { line: string; status: number | null } {
  const v = join(dir, `v${Math.random()}.json`);
  const p = join(dir, `p${Math.random()}.json`);
  if (vitest !== undefined) writeFileSync(v, JSON.stringify(vitest));
  if (playwright !== undefined) writeFileSync(p, JSON.stringify(playwright));
  const r = spawnSync(process.execPath, ['scripts/count-tests.mjs', v, p, String(checks[0]), String(checks[1])], { encoding: 'utf8' });
  return { line: r.stdout.trim(), status: r.status };
}

const vitestOk = { numPassedTests: 10, numFailedTests: 0, testResults: [{ status: 'passed', assertionResults: [{ status: 'passed' }] }] };

test('passing reports add up, the checks included, and exit 0', () => {
  expect(count(vitestOk, { stats: { expected: 5, flaky: 1, unexpected: 0 }, errors: [] })).toEqual({ line: '18 passed, 0 failed', status: 0 });
});

test('failed tests, failed checks and a vitest file that broke outside its tests are failures', () => {
  const vitest = {
    numPassedTests: 3,
    numFailedTests: 1,
    testResults: [
      { status: 'failed', assertionResults: [{ status: 'failed' }] },
      { status: 'failed', assertionResults: [] },
    ],
  };
  expect(count(vitest, { stats: { expected: 1, unexpected: 2 } }, [1, 1])).toEqual({ line: '5 passed, 5 failed', status: 1 });
});

test('a Playwright run that failed before any test (its web server could not start) counts as a failure', () => {
  const playwright = { stats: { expected: 0, unexpected: 0, flaky: 0 }, errors: [{ message: 'Error: http://localhost:5199/ is already used' }] };
  expect(count(vitestOk, playwright)).toEqual({ line: '12 passed, 1 failed', status: 1 });
});

test('a missing report counts as a failure', () => {
  expect(count(undefined, { stats: { expected: 1 } })).toEqual({ line: '3 passed, 1 failed', status: 1 });
  expect(count(vitestOk, undefined)).toEqual({ line: '12 passed, 1 failed', status: 1 });
});
