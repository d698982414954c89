// The API reference builds with every public symbol documented (TypeDoc validation warnings are errors).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

test('npm run docs: every public symbol has documentation', () => {
  const r = spawnSync(process.execPath, ['node_modules/typedoc/bin/typedoc', '--emit', 'none'], { encoding: 'utf8', timeout: 120_000 });
  expect(r.stdout + r.stderr).not.toMatch(/does not have any documentation/);
  expect(r.status, r.stdout + r.stderr).toBe(0);
});

test('README.md points at nothing outside the repository', () => {
  const readme = readFileSync('README.md', 'utf8');
  expect(readme).not.toMatch(/\.\.\//);
  expect(readme).not.toMatch(/[a-z]+:\/\//);
});
