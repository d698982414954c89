// The demo page in headless Chromium (WebGPU on SwiftShader), driven through its own controls.
import { expect, type Page, test } from '@playwright/test';
import { DEMO_URL } from '../../playwright.config.js';

function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

/** The page, ready; with `tune` it times the matmul candidates first, as a first visit does (only one test needs that). */
async function ready(page: Page, tune = false): Promise<void> {
  await page.goto(tune ? DEMO_URL : `${DEMO_URL}?tune=off`);
  await expect(page.getByTestId('status')).toHaveText('ready', { timeout: 120_000 });
}

test('trains one epoch of mini-batch 64 at lr 0.1 through the page and reaches ≥ 0.85 test accuracy', async ({ page }, testInfo) => {
  test.setTimeout(600_000);
  const errors = watchConsole(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  await ready(page, true);
  await page.getByTestId('variant').selectOption('minibatch');
  await page.getByTestId('batch-size').fill('64');
  await page.getByTestId('lr').fill('0.1');
  await page.getByTestId('epochs').fill('1');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toContainText('training');
  // Settings that shape the run are refused visibly while it runs.
  await expect(page.getByTestId('batch-size')).toBeDisabled();
  await expect(page.getByTestId('variant')).toBeDisabled();
  await expect(page.getByTestId('samples-per-s')).not.toHaveText('–', { timeout: 120_000 });
  await testInfo.attach('during-training', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
  await expect(page.getByTestId('status')).toHaveText(/^done/, { timeout: 540_000 });
  const accuracy = Number(await page.getByTestId('test-accuracy').textContent());
  console.log(`[webgrad] demo: test accuracy ${accuracy} after one epoch, ${await page.getByTestId('samples-per-s').textContent()} samples/s`);
  expect(accuracy).toBeGreaterThanOrEqual(0.85);
  expect(accuracy).toBeLessThanOrEqual(1);
  await testInfo.attach('after-training', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
  expect(errors).toEqual([]);
});

test('drawing a digit with the mouse gives a prediction and ten probabilities', async ({ page }) => {
  const errors = watchConsole(page);
  await ready(page);
  const canvas = page.getByTestId('draw-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  // A "7": a top bar, then a diagonal down to the left.
  const at = (fx: number, fy: number) => [box.x + fx * box.width, box.y + fy * box.height] as const;
  await page.mouse.move(...at(0.25, 0.2));
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(...at(0.25 + 0.05 * i, 0.2));
  for (let i = 1; i <= 12; i++) await page.mouse.move(...at(0.75 - 0.025 * i, 0.2 + 0.055 * i));
  await page.mouse.up();
  await expect(page.getByTestId('prediction')).toHaveText(/^[0-9]$/, { timeout: 60_000 });
  const percentages = await page.locator('#probabilities span').allTextContents();
  const values = percentages.filter((t) => t.endsWith('%')).map((t) => Number(t.slice(0, -1)));
  expect(values).toHaveLength(10);
  expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);
  expect(errors).toEqual([]);
});

test('MNIST IDX files picked from disk (gzip and plain) become the training data', async ({ page }) => {
  const errors = watchConsole(page);
  await ready(page);
  const { gzipSync } = await import('node:zlib');
  const idx = (dims: number[], bytes: Uint8Array): Buffer => {
    const out = Buffer.alloc(4 + 4 * dims.length + bytes.length);
    out.set([0, 0, 8, dims.length]);
    dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
    out.set(bytes, 4 + 4 * dims.length);
    return out;
  };
  const pixels = (n: number) => Uint8Array.from({ length: n * 784 }, (_, i) => (i * 37) % 256);
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 10);
  await page.locator('#files').setInputFiles([
    { name: 'train-images-idx3-ubyte.gz', mimeType: 'application/gzip', buffer: gzipSync(idx([300, 28, 28], pixels(300))) },
    { name: 'train-labels-idx1-ubyte', mimeType: 'application/octet-stream', buffer: idx([300], labels(300)) },
    { name: 't10k-images-idx3-ubyte', mimeType: 'application/octet-stream', buffer: idx([50, 28, 28], pixels(50)) },
    { name: 't10k-labels-idx1-ubyte.gz', mimeType: 'application/gzip', buffer: gzipSync(idx([50], labels(50))) },
  ]);
  await expect(page.locator('#data-source')).toHaveText('MNIST files (300 train / 50 test)');
  await page.getByTestId('epochs').fill('1');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText(/^done/, { timeout: 120_000 });
  // A file that is not IDX: a clear message, and the data set stays.
  await page.getByTestId('reset').click();
  await page.locator('#files').setInputFiles([
    { name: 'train-images-idx3-ubyte', mimeType: 'application/octet-stream', buffer: Buffer.from('not an idx file') },
    { name: 'train-labels-idx1-ubyte', mimeType: 'application/octet-stream', buffer: idx([300], labels(300)) },
    { name: 't10k-images-idx3-ubyte', mimeType: 'application/octet-stream', buffer: idx([50, 28, 28], pixels(50)) },
    { name: 't10k-labels-idx1-ubyte', mimeType: 'application/octet-stream', buffer: idx([50], labels(50)) },
  ]);
  await expect(page.locator('#settings-note')).toContainText('train-images-idx3-ubyte: bad magic number');
  await expect(page.locator('#data-source')).toHaveText('MNIST files (300 train / 50 test)');
  expect(errors).toEqual([]);
});

test('without WebGPU the page says what is missing and what to do', async ({ page }) => {
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
  await page.goto(DEMO_URL);
  await expect(page.getByTestId('status')).toHaveText('no WebGPU', { timeout: 60_000 });
  await expect(page.locator('#fatal')).toContainText('WebGPU is not available in this browser');
  await expect(page.locator('#fatal')).toContainText('Chrome');
  await expect(page.getByTestId('train')).toBeDisabled();
});

test('a lost GPU device mid-training: a message, and training continues from the weights the page holds', async ({ page }) => {
  test.setTimeout(600_000);
  await ready(page);
  await page.getByTestId('lr').fill('0.1');
  await page.getByTestId('epochs').fill('2');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('test-accuracy')).not.toHaveText('–', { timeout: 300_000 });
  const afterEpoch1 = Number(await page.getByTestId('test-accuracy').textContent());
  await page.evaluate(() => (window as unknown as { webgradDemo: { getDevice: () => GPUDevice } }).webgradDemo.getDevice().destroy());
  await expect(page.getByTestId('status')).toHaveText('GPU device lost', { timeout: 60_000 });
  await expect(page.locator('#fatal')).toContainText('The GPU device was lost');
  await page.getByTestId('continue').click();
  await expect(page.getByTestId('status')).toHaveText(/^done: 2 epochs/, { timeout: 300_000 });
  const final = Number(await page.getByTestId('test-accuracy').textContent());
  // Continued from the epoch-1 weights, not from scratch.
  expect(final).toBeGreaterThanOrEqual(afterEpoch1 - 0.02);
  expect(final).toBeGreaterThan(0.85);
});

test('weights download as .safetensors and load back to resume training', async ({ page }) => {
  test.setTimeout(600_000);
  const errors = watchConsole(page);
  await ready(page);
  await page.getByTestId('lr').fill('0.1');
  await page.getByTestId('epochs').fill('1');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText(/^done/, { timeout: 300_000 });
  const trained = await page.getByTestId('test-accuracy').textContent();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-weights').click()]);
  expect(download.suggestedFilename()).toBe('webgrad-mlp-epoch1.safetensors');
  const path = await download.path();
  await page.getByTestId('reset').click();
  await expect(page.getByTestId('status')).toHaveText('ready');
  const { readFileSync } = await import('node:fs');
  await page
    .getByTestId('load-weights')
    .setInputFiles({ name: download.suggestedFilename(), mimeType: 'application/octet-stream', buffer: readFileSync(path) });
  await expect(page.getByTestId('status')).toHaveText('loaded webgrad-mlp-epoch1.safetensors');
  await expect(page.getByTestId('test-accuracy')).toHaveText(trained!);
  // Resume: another epoch from the loaded weights does better than the first did.
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText(/^done/, { timeout: 300_000 });
  expect(Number(await page.getByTestId('test-accuracy').textContent())).toBeGreaterThan(Number(trained));
  expect(errors).toEqual([]);
});

test('interop page: the page’s own render pass draws the weights from webgrad’s buffer every step, with no readback', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchConsole(page);
  // Headless Chromium on SwiftShader cannot present a WebGPU canvas (configuring one loses the
  // device), so the page renders into a texture of its own and the test reads that after stopping.
  await page.goto(`${DEMO_URL}interop.html?display=off`);
  await expect(page.getByTestId('status')).toHaveText('ready', { timeout: 120_000 });
  type Win = { interopState: { steps: number; readbacks: number; draws: number }; interopSnapshot: () => Promise<number[]> };
  const initial = await page.evaluate(() => (window as unknown as Win).interopSnapshot());
  await page.getByTestId('start').click();
  await page.waitForFunction(() => (window as unknown as Win).interopState.steps >= 60, undefined, { timeout: 240_000 });
  await page.getByTestId('stop').click();
  await expect(page.getByTestId('status')).toHaveText('stopped');
  const state = await page.evaluate(() => (window as unknown as Win).interopState);
  const trained = await page.evaluate(() => (window as unknown as Win).interopSnapshot());
  expect(state.readbacks, 'webgrad read nothing back while the page drew').toBe(0);
  expect(state.draws).toBe(state.steps + 1);
  expect(trained.length).toBe(initial.length);
  expect(new Set(trained).size, 'the image is not blank').toBeGreaterThan(16);
  const changed = trained.filter((v, i) => v !== initial[i]).length;
  expect(changed, 'the drawing follows the training').toBeGreaterThan(trained.length / 20);
  expect(errors).toEqual([]);
});

test('the gradients panel compares the four ways on the live model', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchConsole(page);
  await ready(page);
  await page.locator('#compare-gradients').click();
  const rows = page.locator('#gradients-table table.gradients tr');
  await expect(rows).toHaveCount(5, { timeout: 240_000 });
  const text = await page.locator('#gradients-table').textContent();
  expect(text).toContain('reverse-mode AD (backprop)');
  expect(text).toContain('203,540 forward');
  // Forward mode agrees with reverse mode to float32 rounding.
  const forwardModeError = Number(await rows.nth(2).locator('td').nth(3).textContent());
  expect(forwardModeError).toBeLessThan(1e-4);
  expect(errors).toEqual([]);
});
