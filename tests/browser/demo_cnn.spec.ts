// The digits panel's architecture choice (MLP or LeNet) and the gradient panel's cost chart, in
// headless Chromium (WebGPU on SwiftShader), driven through the page's own controls.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { expect, type Page, test } from '@playwright/test';
import { DEMO_URL } from '../../playwright.config.js';

/** LeNet's parameters as models.LeNet builds it (conv1, conv2, fc1, fc2, each with a bias): 51,902. */
const LENET_PARAMETERS = (6 * 1 * 25 + 6 + (16 * 6 * 25 + 16) + (16 * 5 * 5 * 120 + 120) + (120 * 10 + 10)).toLocaleString('en');

interface DemoHooks {
  architecture(): string;
  accuracies(): { x: number[]; y: number[] };
  costPoints(): { hidden: number; parameters: number; ms: Record<string, number> }[];
}
const hook = <K extends keyof DemoHooks>(page: Page, name: K) =>
  page.evaluate((n) => (window as unknown as { webgradDemo: DemoHooks }).webgradDemo[n as K]() as ReturnType<DemoHooks[K]>, name);

function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

async function ready(page: Page): Promise<void> {
  await page.goto(`${DEMO_URL}?tune=off`);
  await expect(page.getByTestId('status')).toHaveText('ready', { timeout: 300_000 });
}

/** Picks the CNN under Architecture, from the keyboard. */
async function chooseCnn(page: Page): Promise<void> {
  await page.getByTestId('architecture').focus();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('architecture')).toHaveValue('cnn');
  await expect(page.getByTestId('settings-note')).toContainText('CNN (LeNet) weights drawn with seed 0');
  expect(await hook(page, 'architecture')).toBe('cnn');
}

/**
 * The first `train` training and `test` test digits of the embedded set (assets/generated, made by
 * scripts/build-digits.mjs) as the four MNIST IDX files: a CNN epoch over all 8,000 takes minutes
 * on a software adapter.
 */
function digitsAsIdx(train: number, test: number) {
  const bytes = gunzipSync(readFileSync('assets/generated/digits.bin.gz'));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [count, trainCount, features] = [view.getUint32(4, true), view.getUint32(8, true), view.getUint32(12, true)];
  const pixels = bytes.subarray(16, 16 + count * features);
  const labels = bytes.subarray(16 + count * features);
  const idx = (dims: number[], data: Uint8Array): Buffer => {
    const out = Buffer.alloc(4 + 4 * dims.length + data.length);
    out.set([0, 0, 8, dims.length]);
    dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
    out.set(data, 4 + 4 * dims.length);
    return out;
  };
  const file = (name: string, buffer: Buffer) => ({ name, mimeType: 'application/octet-stream', buffer });
  return [
    file('train-images-idx3-ubyte', idx([train, 28, 28], pixels.subarray(0, train * 784))),
    file('train-labels-idx1-ubyte', idx([train], labels.subarray(0, train))),
    file('t10k-images-idx3-ubyte', idx([test, 28, 28], pixels.subarray(trainCount * 784, (trainCount + test) * 784))),
    file('t10k-labels-idx1-ubyte', idx([test], labels.subarray(trainCount, trainCount + test))),
  ];
}

test('CNN: LeNet takes its defaults, shows its 6 conv1 filters, trains, and its test accuracy rises far above the untrained one', async ({ page }) => {
  test.setTimeout(900_000);
  const errors = watchConsole(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  await ready(page);
  await page.locator('#files').setInputFiles(digitsAsIdx(640, 200));
  await expect(page.locator('#data-source')).toHaveText('MNIST files (640 train / 200 test)');
  await chooseCnn(page);
  // The CLI's settings for the CNN: lr 0.05, momentum 0.9.
  await expect(page.getByTestId('lr')).toHaveValue('0.05');
  await expect(page.getByTestId('momentum')).toHaveValue('0.9');
  await expect(page.locator('#digits-tagline')).toContainText('convolutional');
  await expect(page.locator('#gradients-note')).toContainText(LENET_PARAMETERS);
  // The first-layer view: 6 tiles of 5×5 with a 1-pixel gap.
  await expect(page.getByTestId('weights')).toHaveJSProperty('width', 6 * 6 - 1);
  await expect(page.getByTestId('weights')).toHaveJSProperty('height', 5);
  // The untrained network's accuracy: its weights downloaded and loaded back are evaluated.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-weights').click()]);
  await page
    .getByTestId('load-weights')
    .setInputFiles({ name: 'initial.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(await download.path()) });
  await expect(page.getByTestId('settings-note')).toContainText('Loaded initial.safetensors: test accuracy', { timeout: 300_000 });
  const untrained = Number(await page.getByTestId('test-accuracy').textContent());

  await page.getByTestId('epochs').fill('2');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toContainText('training');
  await expect(page.getByTestId('architecture')).toBeDisabled();
  await expect(page.getByTestId('status')).toHaveText(/^done/, { timeout: 840_000 });
  const accuracy = await hook(page, 'accuracies');
  console.log(`[webgrad] demo CNN: test accuracy ${untrained} untrained, ${accuracy.y.join(', ')} after epochs ${accuracy.x.join(', ')} of 640 digits`);
  expect(accuracy.x).toEqual([1, 2]);
  // 20 updates of LeNet on 640 digits: from a guess (about 0.1) to reading many of them.
  expect(accuracy.y[1]!).toBeGreaterThan(untrained + 0.25);
  // The confusion matrix and test digits show the CNN's predictions.
  await expect(page.locator('#confusion table')).toBeVisible();
  await expect(page.locator('#digits .digit span').first()).toHaveText(/^[0-9]$/);
  await expect(page.getByTestId('architecture')).toBeEnabled();
  await page.screenshot({ path: 'docs/screenshots/cnn-1280.png' });
  await page.setViewportSize({ width: 390, height: 844 });
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: 'docs/screenshots/cnn-390.png' });
  expect(errors).toEqual([]);
});

test('CNN checkpoints: a CNN file refused by the MLP with a message naming both, then loaded by the CNN', async ({ page }) => {
  test.setTimeout(600_000);
  const errors = watchConsole(page);
  await ready(page);
  // 200 test digits: loading the CNN's file evaluates it on the test set, and the check is about the
  // file, not the accuracy (LeNet on the 2,000 embedded ones takes seconds on a software adapter).
  await page.locator('#files').setInputFiles(digitsAsIdx(640, 200));
  await expect(page.locator('#data-source')).toHaveText('MNIST files (640 train / 200 test)');
  await chooseCnn(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-weights').click()]);
  expect(download.suggestedFilename()).toBe('webgrad-cnn-epoch0.safetensors');
  const file = { name: 'lenet.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(await download.path()) };
  // Back to the MLP: the CNN's file is refused, and says which network it belongs to.
  await page.getByTestId('architecture').selectOption('mlp');
  await expect(page.getByTestId('lr')).toHaveValue('0.1');
  await expect(page.getByTestId('momentum')).toHaveValue('0');
  await page.getByTestId('load-weights').setInputFiles(file);
  await expect(page.getByTestId('settings-note')).toContainText(
    'Could not load lenet.safetensors: it holds the weights of the CNN (LeNet), and the page trains the MLP (784-128-10)',
  );
  await expect(page.getByTestId('weights')).toHaveJSProperty('width', 16 * 29 - 1);
  await page.getByTestId('architecture').selectOption('cnn');
  await page.getByTestId('load-weights').setInputFiles(file);
  await expect(page.getByTestId('settings-note')).toContainText('Loaded lenet.safetensors: test accuracy', { timeout: 300_000 });
  await expect(page.getByTestId('status')).toHaveText('loaded lenet.safetensors');
  expect(errors).toEqual([]);
});

test('gradient panel on the CNN: the four ways on all of LeNet’s parameters; the cost chart draws four lines over four network sizes', async ({ page }) => {
  test.setTimeout(900_000);
  const errors = watchConsole(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  await ready(page);
  await chooseCnn(page);
  await page.getByTestId('compare-gradients').click();
  const rows = page.locator('#gradients-table table tr');
  await expect(rows).toHaveCount(5, { timeout: 600_000 });
  await expect(rows.nth(1)).toContainText('reverse-mode AD');
  await expect(rows.nth(2)).toContainText(`${LENET_PARAMETERS} tangent passes`);

  await page.getByTestId('measure-cost').click();
  await expect(page.getByTestId('measure-cost')).toBeDisabled();
  await expect(page.getByTestId('train')).toBeDisabled();
  const body = page.locator('#cost-table tbody tr');
  await expect(body).toHaveCount(4, { timeout: 600_000 });
  await expect(page.getByTestId('measure-cost')).toBeEnabled();
  const points = await hook(page, 'costPoints');
  expect(points.map((p) => p.hidden)).toEqual([4, 16, 64, 128]);
  // 784·h + h + 10·h + 10 parameters.
  expect(points.map((p) => p.parameters)).toEqual([4, 16, 64, 128].map((h) => 795 * h + 10));
  for (const p of points) {
    expect(Object.keys(p.ms).sort()).toEqual(['central-difference', 'forward-difference', 'forward-mode', 'reverse-mode']);
    for (const ms of Object.values(p.ms)) expect(ms).toBeGreaterThan(0);
  }
  // The chart: a canvas (axes and their labels are drawn on it: see the screenshot) and a legend naming the four ways.
  const chart = page.getByTestId('cost-chart');
  await expect(chart).toBeVisible();
  await expect(chart.locator('canvas')).toHaveCount(1);
  await expect(chart.locator('.u-legend')).toContainText('forward differences');
  for (const label of ['central differences', 'forward-mode AD', 'reverse-mode AD']) await expect(chart.locator('.u-legend')).toContainText(label);
  const card = page.locator('section', { has: chart });
  await card.screenshot({ path: 'docs/screenshots/gradient-cost-1280.png' });
  await page.setViewportSize({ width: 390, height: 844 });
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await card.screenshot({ path: 'docs/screenshots/gradient-cost-390.png' });
  expect(errors).toEqual([]);
});
