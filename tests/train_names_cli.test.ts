// npm run train:names as a user runs it (the built dist/train-names.js; scripts/test.sh builds it first).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, test } from 'vitest';

function trainNames(...args: string[]) {
  expect(existsSync('dist/train-names.js'), 'dist/train-names.js is missing: run `npm run build:lib`').toBe(true);
  const r = spawnSync(process.execPath, ['dist/train-names.js', ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.each([
  [['--steps', '0'], /--steps must be a positive integer, got 0/],
  [['--steps', '1.5'], /--steps must be a positive integer, got 1.5/],
  [['--batch', 'many'], /--batch must be a number, got 'many'/],
  [['--batch', '-3'], /--batch must be a positive integer, got -3/],
  [['--lr', '0'], /--lr must be positive, got 0/],
  [['--seed', '-1'], /--seed must be a non-negative integer, got -1/],
  [['--log-every', '0'], /--log-every must be a positive integer, got 0/],
  [['--epochs', '3'], /unknown option --epochs/],
  [['--steps'], /--steps needs a value/],
])('bad arguments %j: a clear message, the usage, exit code 2', (args, message) => {
  const r = trainNames(...args);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/usage: npm run train:names/);
  expect(r.stdout).toBe('');
});

test('--json: one object with the losses, the bigram baseline, the speed and 10 sampled names', () => {
  const r = trainNames('--steps', '4', '--log-every', '2', '--batch', '8', '--seed', '1', '--json');
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const out = JSON.parse(lines[0]!);
  expect(Object.keys(out).sort()).toEqual(['bigram_val_loss', 'history', 'samples', 'steps', 'steps_per_s', 'train_loss', 'val_loss']);
  expect(out.steps).toBe(4);
  expect(out.history.map((h: { step: number }) => h.step)).toEqual([2, 4]);
  // A few steps from random weights: near ln 27 ≈ 3.3, far from the bigram's ~2.4.
  expect(out.val_loss).toBeGreaterThan(2.6);
  expect(out.val_loss).toBeLessThan(5);
  expect(out.bigram_val_loss).toBeGreaterThan(2);
  expect(out.bigram_val_loss).toBeLessThan(3);
  expect(out.steps_per_s).toBeGreaterThan(0);
  expect(out.samples).toHaveLength(10);
  for (const name of out.samples) expect(name).toMatch(/^[a-z]{0,16}$/);
  expect(r.stderr).toMatch(/7562 training names, 841 validation/);
});
