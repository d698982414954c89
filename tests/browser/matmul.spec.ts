// webgrad in headless Chromium's WebGPU: a matmul checked against a float64 reference.
import { expect, test } from '@playwright/test';
import { Generator } from '../../src/random.js';

test('matmul in the browser matches the float64 reference', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto('/tests/browser/matmul.html');
  await page.waitForFunction(() => window.matmulResult || window.matmulError, undefined, { timeout: 240_000 });
  const error = await page.evaluate(() => window.matmulError);
  expect(error, 'the page failed').toBeUndefined();
  const result = (await page.evaluate(() => window.matmulResult))!;
  console.log(`[webgrad] browser adapter: ${JSON.stringify(result.adapter)}`);
  for (const { M, K, N, a, b, c, bias, family } of result.cases) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let ref = bias ? bias[j]! : 0;
        for (let k = 0; k < K; k++) ref += a[i * K + k]! * b[k * N + j]!;
        if (bias) ref = Math.max(ref, 0);
        num += (c[i * N + j]! - ref) ** 2;
        den += ref * ref;
      }
    }
    expect(c.length).toBe(M * N);
    expect(Math.sqrt(num / den), `${M}x${K}·${K}x${N} (${family})`).toBeLessThan(1e-4);
  }
  // On SwiftShader the vectorised kernel's 16×16 blocks ran, on each way of reading A and B.
  if (JSON.stringify(result.adapter).includes('swiftshader')) {
    const families = result.cases.map((c) => c.family);
    for (const layout of ['akbn', 'ambn', 'akbk', 'ambk']) expect(families).toContain(`matmul_vec4.16x16.${layout}`);
  }
  expect(errors).toEqual([]);
});

test('seeded rand and randn give the same values in the browser as in Node', async ({ page }) => {
  await page.goto('/tests/browser/matmul.html');
  await page.waitForFunction(() => window.seededValues || window.matmulError, undefined, { timeout: 240_000 });
  const values = (await page.evaluate(() => window.seededValues))!;
  const u = new Generator(5);
  const n = new Generator(6);
  expect(values.rand).toEqual(Array.from({ length: 64 }, () => Math.fround(u.uniform())));
  expect(values.randn).toEqual(Array.from({ length: 64 }, () => Math.fround(n.normal())));
});
