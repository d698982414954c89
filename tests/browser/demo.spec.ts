// The demo page in headless Chromium (WebGPU on SwiftShader), driven through its own controls.
import { test, expect, type Page } from '@playwright/test';
import { DEMO_URL } from '../../playwright.config.js';

function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

async function ready(page: Page): Promise<void> {
  await page.goto(DEMO_URL);
  await expect(page.getByTestId('status')).toHaveText('ready', { timeout: 120_000 });
}

test('trains one epoch of mini-batch 64 at lr 0.1 through the page and reaches ≥ 0.85 test accuracy', async ({ page }, testInfo) => {
  test.setTimeout(600_000);
  const errors = watchConsole(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  await ready(page);
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
