// The demo page's second model, the names GPT, in headless Chromium (WebGPU on SwiftShader),
// driven through its own controls.
import { expect, type Page, test } from '@playwright/test';
import { DEMO_URL } from '../../playwright.config.js';

interface NamesHooks {
  state(): string;
  losses(): { x: number[]; y: number[] }[];
  samples(): string[];
}

function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

/** Opens the page, picks "names (GPT)" from the keyboard, and waits for the untrained model's samples. */
async function chooseNames(page: Page): Promise<void> {
  await page.goto(`${DEMO_URL}?tune=off`); // the default matmul kernel: tuning is tested in demo.spec.ts
  // Generous waits: SwiftShader compiles every kernel on the CPU, slowly on a loaded machine.
  await expect(page.getByTestId('status')).toHaveText('ready', { timeout: 300_000 });
  await expect(page.getByTestId('names-train')).toBeHidden();
  await page.getByLabel('Model').focus();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('model-choice')).toHaveValue('names');
  // The digits panel is hidden, the names panel shown.
  await expect(page.getByTestId('train')).toBeHidden();
  await expect(page.getByTestId('names-train')).toBeVisible();
  await expect(page.getByTestId('names-status')).toHaveText('ready', { timeout: 300_000 });
  await expect(page.getByTestId('names-samples').locator('li')).toHaveCount(10, { timeout: 300_000 });
}

const hooks = (page: Page) => ({
  losses: () => page.evaluate(() => (window as unknown as { webgradNames: NamesHooks }).webgradNames.losses()),
  samples: () => page.evaluate(() => (window as unknown as { webgradNames: NamesHooks }).webgradNames.samples()),
});

test('names (GPT): 12 steps through the page; the loss falls and ten names of letters appear and change', async ({ page }) => {
  // SwiftShader compiles the step's kernels on the CPU first (minutes on a loaded machine); the steps are few.
  test.setTimeout(1_500_000);
  const errors = watchConsole(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  await chooseNames(page);
  const before = await hooks(page).samples();
  expect(before).toHaveLength(10);
  // The bigram baseline is shown as a number, from the data alone.
  expect(Number(await page.getByTestId('names-bigram').textContent())).toBeGreaterThan(1);
  await page.getByTestId('names-steps').fill('12');
  await page.getByTestId('names-lr').fill('0.01');
  await page.getByTestId('names-train').click();
  await expect(page.getByTestId('names-status')).toHaveText('training');
  await expect(page.getByTestId('names-seed')).toBeDisabled();
  await expect(page.getByTestId('names-status')).toHaveText(/^done/, { timeout: 1_200_000 });

  const [train, validation] = await hooks(page).losses();
  expect(train!.x.at(-1)).toBe(12);
  expect(train!.y.at(-1)!).toBeLessThan(train!.y[0]!);
  // Validation at step 0 (untrained, near ln 27) and at the end.
  expect(validation!.x).toEqual([0, 12]);
  expect(validation!.y[1]!).toBeLessThan(validation!.y[0]!);
  expect(validation!.y[0]!).toBeGreaterThan(3);
  expect(Number(await page.getByTestId('names-val-loss').textContent())).toBeCloseTo(validation!.y[1]!, 3);

  const after = await hooks(page).samples();
  expect(after).toHaveLength(10);
  for (const name of after) expect(name).toMatch(/^[a-z]{0,16}$/);
  expect(after.filter((n) => n.length > 0).length).toBeGreaterThanOrEqual(8);
  expect(after).not.toEqual(before);
  const shown = await page.getByTestId('names-samples').locator('li').allTextContents();
  expect(shown.filter((n) => /^[A-Z][a-z]*$/.test(n)).length).toBeGreaterThanOrEqual(8);

  const stepsPerS = Number(await page.getByTestId('names-steps-per-s').textContent());
  expect(stepsPerS).toBeGreaterThan(0);
  console.log(
    `[webgrad] demo names: ${stepsPerS} steps/s in the browser (SwiftShader); val loss ${validation!.y[0]!.toFixed(3)} → ${validation!.y[1]!.toFixed(3)}; names ${after.join(', ')}`,
  );

  await page.screenshot({ path: 'docs/screenshots/names-1280.png' });
  await page.setViewportSize({ width: 390, height: 844 });
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: 'docs/screenshots/names-390.png' });
  expect(errors).toEqual([]);
});

test('names fields are validated before anything starts; switching models pauses a run, and Resume continues it', async ({ page }) => {
  test.setTimeout(900_000);
  const errors = watchConsole(page);
  await chooseNames(page);
  const cases: [string, string, string][] = [
    ['names-steps', '0', 'Steps "0" is not valid: it must be a whole number from 1 to 100000.'],
    ['names-steps', '2.5', 'Steps "2.5" is not valid'],
    ['names-lr', '-1', 'Learning rate "-1" is not valid: it must be a number greater than 0'],
    ['names-lr', '', 'Learning rate "" is not valid'],
    ['names-batch', '0', 'Batch "0" is not valid: it must be a whole number of names from 1 to 1024.'],
    ['names-batch', '5000', 'Batch "5000" is not valid'],
    ['names-seed', '-3', 'Seed "-3" is not valid: it must be a whole number from 0 to 4294967295.'],
    ['names-temperature', '0', 'Temperature "0" is not valid: it must be a number greater than 0 and at most 10'],
  ];
  for (const [field, value, message] of cases) {
    const input = page.getByTestId(field);
    const valid = await input.inputValue();
    await input.fill(value);
    await page.getByTestId('names-train').click();
    await expect(page.getByTestId('names-note')).toContainText(message);
    // Nothing started.
    await expect(page.getByTestId('names-status')).toHaveText('ready');
    await expect(page.getByTestId('names-step-count')).toHaveText('0');
    await input.fill(valid);
  }

  // A run in progress is paused when the other model is chosen, and says so.
  await page.getByTestId('names-train').click();
  await expect(page.getByTestId('names-status')).toHaveText('training');
  await page.getByTestId('model-choice').selectOption('digits');
  await expect(page.getByTestId('model-choice-note')).toContainText('names training is paused');
  await expect(page.getByTestId('train')).toBeVisible();
  await page.getByTestId('model-choice').selectOption('names');
  await expect(page.getByTestId('names-status')).toHaveText('paused');
  await expect(page.getByTestId('names-pause')).toHaveText('Resume');
  await page.getByTestId('names-pause').click();
  await expect(page.getByTestId('names-status')).toHaveText('training');
  await page.getByTestId('names-reset').click();
  await expect(page.getByTestId('names-status')).toHaveText('ready');
  await expect(page.getByTestId('names-step-count')).toHaveText('0');
  expect(errors).toEqual([]);
});
