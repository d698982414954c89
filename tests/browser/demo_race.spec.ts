// The demo's race mode in headless Chromium (WebGPU on SwiftShader): full batch, stochastic and
// mini-batch SGD from the same initial weights, driven through the page's own controls. The two
// tests share one page, in order: the second starts where the first's Reset leaves the panel (ready,
// untrained), which is the state a fresh page reaches, without loading the page and compiling the
// steps' kernels a second time.
import { expect, type Page, test } from '@playwright/test';
import { DEMO_URL } from '../../playwright.config.js';

interface RaceHooks {
  state(): string;
  lines(): { x: number[]; y: number[] }[];
  runners(): { variant: string; updates: number; samples: number; seconds: number; status: string; evalLoss: number | null }[];
}

const VARIANTS = ['full', 'sgd', 'minibatch'] as const;

function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

const hooks = (page: Page) => ({
  lines: () => page.evaluate(() => (window as unknown as { webgradRace: RaceHooks }).webgradRace.lines()),
  runners: () => page.evaluate(() => (window as unknown as { webgradRace: RaceHooks }).webgradRace.runners()),
});

/** Opens the page, picks the race (the last entry) from the Model menu with the keyboard, and waits for its first evaluation. */
async function chooseRace(page: Page): Promise<void> {
  await page.goto(`${DEMO_URL}?tune=off`); // the default matmul kernel: tuning is tested in demo.spec.ts
  await expect(page.getByTestId('status')).toHaveText('ready', { timeout: 300_000 });
  // End picks the last entry in one step: passing "names" on the way would start that panel's loading.
  await page.getByLabel('Model').focus();
  await page.keyboard.press('End');
  await expect(page.getByTestId('model-choice')).toHaveValue('race');
  await expect(page.getByTestId('train')).toBeHidden();
  await expect(page.getByTestId('race-start')).toBeVisible();
  await expect(page.getByTestId('race-status')).toHaveText('ready', { timeout: 300_000 });
}

/** The loss on the evaluation batch shown for each variant. */
const evalLosses = async (page: Page): Promise<number[]> =>
  Promise.all(VARIANTS.map(async (v) => Number(await page.getByTestId(`race-${v}-evalLoss`).textContent())));
const updates = async (page: Page): Promise<number[]> =>
  Promise.all(VARIANTS.map(async (v) => Number((await page.getByTestId(`race-${v}-updates`).textContent())!.replace(/,/g, ''))));

test.describe.configure({ mode: 'serial' });
let page: Page;
let errors: string[];

test.beforeAll(async ({ browser }) => {
  test.setTimeout(600_000);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  errors = watchConsole(page);
  await chooseRace(page);
});
test.afterAll(async () => page.close());

test('race: the three variants start from the same weights, all make updates, their losses fall; pause, go on, reset', async () => {
  // SwiftShader compiles each step's kernels on the CPU first; the race itself is a few seconds.
  test.setTimeout(1_200_000);

  // One seeded init copied into three models: the same loss on the evaluation batch, about ln 10.
  const before = await evalLosses(page);
  expect(before[0]).toBeGreaterThan(2);
  expect(before[0]).toBeLessThan(2.6);
  const initial = (await hooks(page).runners()).map((r) => r.evalLoss!);
  expect(initial).toEqual([initial[0], initial[0], initial[0]]);

  await page.getByTestId('race-seconds').fill('2');
  await page.getByTestId('race-start').click();
  await expect(page.getByTestId('race-status')).toHaveText('racing');
  await expect(page.getByTestId('race-batch')).toBeDisabled();
  await expect(page.getByTestId('race-lr-sgd')).toBeDisabled();

  // Pause as soon as every variant has made an update: the counts stop, Resume goes on.
  await expect.poll(async () => Math.min(...(await updates(page))), { timeout: 900_000, intervals: [500] }).toBeGreaterThan(0);
  await page.getByTestId('race-pause').click();
  await expect(page.getByTestId('race-status')).toHaveText('paused');
  await expect(page.getByTestId('race-pause')).toHaveText('Resume');
  const paused = await hooks(page).runners();
  await page.waitForTimeout(1500);
  expect((await hooks(page).runners()).map((r) => r.updates)).toEqual(paused.map((r) => r.updates));
  await page.getByTestId('race-pause').click();
  await expect(page.getByTestId('race-status')).toHaveText(/^done/, { timeout: 900_000 });

  // The race went on after Resume; each variant updated, its rates are shown, and its loss on the
  // evaluation batch fell. (One full-batch update may take a SwiftShader variant's whole share.)
  const runners = await hooks(page).runners();
  console.log(`[webgrad] race: ${runners.map((r) => `${r.variant} ${r.updates} updates in ${r.seconds.toFixed(2)} s`).join(', ')}`);
  const total = (rs: { updates: number }[]): number => rs.reduce((a, r) => a + r.updates, 0);
  expect(total(runners)).toBeGreaterThan(total(paused));
  const after = await evalLosses(page);
  for (const [i, v] of VARIANTS.entries()) {
    expect(runners[i]!.status).toBe('running');
    expect(runners[i]!.updates).toBeGreaterThan(0);
    expect(Number((await page.getByTestId(`race-${v}-updatesPerS`).textContent())!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(Number((await page.getByTestId(`race-${v}-samplesPerS`).textContent())!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(after[i]).toBeLessThan(before[i]!);
  }
  // Samples seen follow each variant's batch: 8,000 per full-batch update, 1 per stochastic one, 64 per mini-batch one.
  expect(runners.map((r) => r.samples)).toEqual(runners.map((r, i) => r.updates * [8000, 1, 64][i]!));
  // The chart: an evaluation line per variant that starts at the shared initial loss and falls, and a training line.
  const lines = await hooks(page).lines();
  for (let i = 0; i < 3; i++) {
    expect(lines[i]!.x[0]).toBe(0);
    expect(lines[i]!.y[0]).toBe(initial[0]);
    expect(lines[i]!.y.at(-1)).toBeLessThan(lines[i]!.y[0]!);
    expect(lines[3 + i]!.y.length).toBeGreaterThan(0);
  }
  // The x axis switches to updates.
  await page.getByLabel('Loss against').selectOption('updates');
  expect((await hooks(page).lines())[0]!.x.at(-1)).toBe(runners[0]!.updates);

  // Reset: new weights, every figure cleared, only the new initial losses on the chart.
  await page.getByTestId('race-reset').click();
  await expect(page.getByTestId('race-status')).toHaveText('ready', { timeout: 300_000 });
  expect(await updates(page)).toEqual([0, 0, 0]);
  await expect(page.getByTestId('race-batch')).toBeEnabled();
  const cleared = await hooks(page).lines();
  expect(cleared.map((l) => l.y.length)).toEqual([1, 1, 1, 0, 0, 0]);
  expect(errors).toEqual([]);
});

// Each field refused before anything starts, with a message that quotes what was typed and states the rule.
const INVALID: [string, string, RegExp][] = [
  ['race-seed', '1.5', /^Seed "1\.5" is not valid: it must be a whole number from 0 to 4294967295\.$/],
  ['race-batch', '0', /^Mini-batch size "0" is not valid: it must be a whole number from 1 to 8000 \(the training set's size\)\.$/],
  ['race-batch', '9000', /^Mini-batch size "9000" is not valid/],
  ['race-lr-full', '', /^Learning rate \(full batch\) "" is not valid: it must be a number greater than 0/],
  ['race-lr-sgd', '-0.1', /^Learning rate \(stochastic\) "-0\.1" is not valid: it must be a number greater than 0/],
  ['race-lr-minibatch', '0', /^Learning rate \(mini-batch\) "0" is not valid/],
  ['race-seconds', '0', /^Seconds per variant "0" is not valid: it must be a number greater than 0 and at most 3600\.$/],
];

test('race: an invalid field is refused with its message and nothing starts; a diverging variant stops with a message, the others finish', async () => {
  test.setTimeout(1_200_000);
  await expect(page.getByTestId('race-status')).toHaveText('ready');
  for (const [field, text, message] of INVALID) {
    const input = page.getByTestId(field);
    const valid = await input.inputValue();
    await input.fill(text);
    await page.getByTestId('race-start').click();
    await expect(page.getByTestId('race-note')).toHaveText(message);
    await expect(page.getByTestId('race-status')).toHaveText('ready');
    await input.fill(valid);
  }
  expect(await updates(page)).toEqual([0, 0, 0]);
  // Reset refuses an invalid seed too, and keeps the weights it has.
  const losses = await evalLosses(page);
  await page.getByTestId('race-seed').fill('-3');
  await page.getByTestId('race-reset').click();
  await expect(page.getByTestId('race-note')).toHaveText(/^Seed "-3" is not valid/);
  expect(await evalLosses(page)).toEqual(losses);
  await page.getByTestId('race-seed').fill('0');

  // A learning rate of 10⁹ for stochastic GD: that variant stops and says why; the other two race on.
  await page.getByTestId('race-lr-sgd').fill('1e9');
  await page.getByTestId('race-seconds').fill('1');
  await page.getByTestId('race-start').click();
  await expect(page.getByTestId('race-status')).toHaveText('done: 1 s of GPU time each (stochastic diverged)', { timeout: 900_000 });
  await expect(page.getByTestId('race-sgd-state')).toHaveText(/^diverged: the training loss (became|grew)/);
  await expect(page.getByTestId('race-note')).toHaveText(/^The stochastic run stopped: .* Its learning rate \(1000000000\) is probably too large/);
  for (const v of ['full', 'minibatch']) await expect(page.getByTestId(`race-${v}-state`)).toHaveText('finished');
  const runners = await hooks(page).runners();
  expect(runners.map((r) => r.status)).toEqual(['running', 'diverged', 'running']);
  expect(errors).toEqual([]);
});
