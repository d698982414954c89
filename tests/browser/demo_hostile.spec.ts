// The demo page under careless and hostile use: one test per class of problem, driven through the
// page's own controls in headless Chromium (WebGPU on SwiftShader). Small IDX data sets keep the
// training runs short.
import { gzipSync } from 'node:zlib';
import { expect, type Page, test } from '@playwright/test';
import { DEMO_URL } from '../../playwright.config.js';

type Demo = {
  webgradDemo: {
    getDevice: () => GPUDevice;
    state: () => string;
    losses: () => { x: number[]; y: number[] };
    weightsChecksum: () => Promise<number[]>;
  };
};

function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

async function ready(page: Page): Promise<void> {
  await page.goto(`${DEMO_URL}?tune=off`); // the default matmul kernel: tuning is tested in demo.spec.ts
  await expect(page.getByTestId('status')).toHaveText('ready', { timeout: 120_000 });
}

function idx(dims: number[], bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + 4 * dims.length + bytes.length);
  out.set([0, 0, 8, dims.length]);
  dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
  out.set(bytes, 4 + 4 * dims.length);
  return out;
}

/** Four IDX files: `train` and `test` images of side × side pixels, labels 0–9 in turn. */
function idxSet(train: number, test: number, side = 28) {
  const pixels = (n: number) => Uint8Array.from({ length: n * side * side }, (_, i) => (i * 37) % 256);
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 10);
  const file = (name: string, buffer: Buffer) => ({ name, mimeType: 'application/octet-stream', buffer });
  return [
    file('train-images-idx3-ubyte', idx([train, side, side], pixels(train))),
    file('train-labels-idx1-ubyte', idx([train], labels(train))),
    file('t10k-images-idx3-ubyte', idx([test, side, side], pixels(test))),
    file('t10k-labels-idx1-ubyte.gz', gzipSync(idx([test], labels(test)))),
  ];
}

async function useSmallData(page: Page, train = 256, test = 40): Promise<void> {
  await page.locator('#files').setInputFiles(idxSet(train, test));
  await expect(page.locator('#data-source')).toHaveText(`MNIST files (${train} train / ${test} test)`);
}

/** A safetensors file of the page's network with every value `value`. */
function weightsFile(value: number): Buffer {
  const tensors: [string, number[]][] = [
    ['fc1.weight', [128, 784]],
    ['fc1.bias', [128]],
    ['fc2.weight', [10, 128]],
    ['fc2.bias', [10]],
  ];
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length));
  json.copy(out, 8);
  Buffer.from(new Float32Array(offset / 4).fill(value).buffer).copy(out, 8 + json.length);
  return out;
}

const note = (page: Page) => page.getByTestId('settings-note');

test('every field is validated before anything starts: the message quotes what was typed and states the rule', async ({ page }) => {
  const errors = watchConsole(page);
  await ready(page);
  const cases: [string, string, RegExp][] = [
    ['seed', '1.5', /Seed "1\.5" is not valid: it must be a whole number from 0 to 4294967295/],
    ['seed', '', /Seed "" is not valid/],
    ['seed', '-3', /Seed "-3" is not valid/],
    ['lr', '0', /Learning rate "0" is not valid: it must be a number greater than 0/],
    ['lr', '', /Learning rate "" is not valid/],
    ['epochs', '2.5', /Epochs "2\.5" is not valid: it must be a whole number from 1 to 1000/],
    ['momentum', '1', /Momentum "1" is not valid: it must be a number from 0 up to \(not including\) 1/],
    ['batch-size', '0', /Batch size "0" is not valid: it must be a whole number from 1 to 8000/],
    // A batch larger than the training set is refused, not clamped silently.
    ['batch-size', '9000', /Batch size "9000" is not valid: it must be a whole number from 1 to 8000 \(the training set's size\)/],
  ];
  for (const [field, typed, message] of cases) {
    const input = page.getByTestId(field);
    const before = await input.inputValue();
    await input.fill(typed);
    await page.getByTestId('train').click();
    await expect(note(page)).toHaveText(message);
    await expect(page.getByTestId('status')).toHaveText('ready');
    await input.fill(before);
  }
  // Reset with a bad seed: refused with the rule; the page keeps working.
  await page.getByTestId('seed').fill('1.25');
  await page.getByTestId('reset').click();
  await expect(note(page)).toContainText('Seed "1.25" is not valid');
  await expect(page.getByTestId('status')).toHaveText('ready');
  expect(await page.evaluate(() => (window as unknown as Demo).webgradDemo.losses().x.length)).toBe(0);
  // Momentum is SGD's only: Adam and AdamW ignore it, so its field is disabled (and not checked).
  await page.getByTestId('optimizer').selectOption('adam');
  await expect(page.getByTestId('momentum')).toBeDisabled();
  await page.getByTestId('optimizer').selectOption('sgd');
  await expect(page.getByTestId('momentum')).toBeEnabled();
  expect(errors).toEqual([]);
});

test('the seed shown is the seed used: a seed typed after a load trains the same weights as Reset with it', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchConsole(page);
  await ready(page);
  await useSmallData(page);
  const run = async (): Promise<number[]> => {
    await page.getByTestId('epochs').fill('1');
    await page.getByTestId('train').click();
    await expect(page.getByTestId('status')).toHaveText(/^done/, { timeout: 240_000 });
    return page.evaluate(() => (window as unknown as Demo).webgradDemo.weightsChecksum());
  };
  // Typed after the data was loaded (the weights were drawn with seed 0 then), before Train.
  await page.getByTestId('seed').fill('7');
  await expect(note(page)).not.toContainText('seed 7');
  const first = await run();
  await page.getByTestId('reset').click();
  await expect(note(page)).toHaveText('New initial weights drawn with seed 7.');
  const second = await run();
  expect(first).toHaveLength(4);
  expect(second).toEqual(first);
  expect(errors).toEqual([]);
});

test('a diverging run stops and says so; weights full of NaN are refused and the model keeps its own', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchConsole(page);
  await ready(page);
  const before = await page.evaluate(() => (window as unknown as Demo).webgradDemo.weightsChecksum());
  await page.getByTestId('load-weights').setInputFiles({ name: 'nan.safetensors', mimeType: 'application/octet-stream', buffer: weightsFile(Number.NaN) });
  await expect(note(page)).toHaveText(/Could not load nan\.safetensors: fc1\.weight holds values that are not finite numbers.*The weights are unchanged\./);
  expect(await page.evaluate(() => (window as unknown as Demo).webgradDemo.weightsChecksum())).toEqual(before);
  await expect(page.getByTestId('status')).toHaveText('ready');

  await page.getByTestId('lr').fill('1e9');
  await page.getByTestId('epochs').fill('3');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('stopped: training diverged', { timeout: 240_000 });
  await expect(page.getByTestId('warning')).toBeVisible();
  await expect(page.getByTestId('warning')).toContainText(/Training stopped after update \d+: the loss (became (NaN|Infinity)|grew from)/);
  await expect(page.getByTestId('warning')).toContainText('The learning rate (1000000000) is probably too large');
  await expect(page.getByTestId('train')).toBeDisabled();
  await expect(page.getByTestId('test-accuracy')).not.toHaveText(/NaN/);
  await page.getByTestId('reset').click();
  await expect(page.getByTestId('warning')).toBeHidden();
  await expect(page.getByTestId('train')).toBeEnabled();
  expect(errors).toEqual([]);
});

test('comparing gradients while paused leaves the training result unchanged; Train is disabled meanwhile', async ({ page }) => {
  test.setTimeout(600_000);
  const errors = watchConsole(page);
  await ready(page);
  await useSmallData(page, 512);
  await page.getByTestId('batch-size').fill('16');
  await page.getByTestId('epochs').fill('1');
  // The final weights (the loss curve's points depend on timing; the weights do not).
  const weights = () => page.evaluate(() => (window as unknown as Demo).webgradDemo.weightsChecksum());
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText(/^done/, { timeout: 240_000 });
  const plain = await weights();

  await page.getByTestId('reset').click();
  await page.getByTestId('train').click();
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
  const paused = await weights();
  await page.locator('#compare-gradients').click();
  await expect(page.getByTestId('train')).toBeDisabled();
  await expect(page.getByTestId('reset')).toBeDisabled();
  await expect(page.locator('#gradients-table table.gradients tr')).toHaveCount(5, { timeout: 300_000 });
  // Paused means paused: the status is not overwritten by the training loop.
  await expect(page.getByTestId('status')).toHaveText('paused');
  expect(await weights()).toEqual(paused);
  await page.getByTestId('pause').click(); // resume
  await expect(page.getByTestId('status')).toHaveText(/^done/, { timeout: 240_000 });
  expect(await weights()).toEqual(plain);
  expect(errors).toEqual([]);
});

test('bad IDX sets are refused on load with the reason, and the data set stays', async ({ page }) => {
  const errors = watchConsole(page);
  await ready(page);
  const source = page.locator('#data-source');
  const initial = await source.textContent();
  const cases: [ReturnType<typeof idxSet>, RegExp][] = [
    [idxSet(0, 10), /train-images-idx3-ubyte holds no images; at least one is needed/],
    [idxSet(10, 0), /t10k-images-idx3-ubyte holds no images/],
    [idxSet(10, 10, 32), /images of 1024 pixels; this network reads 28×28 = 784/],
  ];
  for (const [files, message] of cases) {
    await page.locator('#files').setInputFiles(files);
    await expect(note(page)).toHaveText(message);
    await expect(note(page)).toContainText('The data set is unchanged.');
    await expect(source).toHaveText(initial!);
  }
  expect(errors).toEqual([]);
});

test('Train after "done" continues from the trained weights; Reset clears every figure of the run', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchConsole(page);
  await ready(page);
  await useSmallData(page);
  await page.getByTestId('epochs').fill('1');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('done: 1 epochs', { timeout: 240_000 });
  const updatesAfterOne = Number(await page.locator('#step-count').textContent());
  await expect(page.getByTestId('train')).toHaveText('Train more');
  await page.getByTestId('train').click();
  await expect(note(page)).toContainText('Continuing from the trained weights for 1 more epoch');
  await expect(page.getByTestId('status')).toHaveText('done: 2 epochs', { timeout: 240_000 });
  expect(Number(await page.locator('#step-count').textContent())).toBe(2 * updatesAfterOne);

  await page.getByTestId('reset').click();
  await expect(page.getByTestId('test-accuracy')).toHaveText('–');
  await expect(page.locator('#step-count')).toHaveText('0');
  await expect(page.locator('#confusion')).toHaveText('After the first epoch.');
  await expect(page.locator('#progress-text')).toHaveText('\u00a0');
  expect(await page.evaluate(() => (window as unknown as Demo).webgradDemo.losses().x.length)).toBe(0);
  expect(errors).toEqual([]);
});

test('an epochs field emptied mid-run keeps the run going; lr typed mid-run is checked before it applies', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchConsole(page);
  await ready(page);
  await useSmallData(page);
  await page.getByTestId('epochs').fill('2');
  await page.getByTestId('train').click();
  await page.getByTestId('epochs').fill('');
  await page.getByTestId('lr').fill('-1');
  await expect(note(page)).toContainText(/Not applied: still using learning rate 0\.1|Still training for 2/, { timeout: 60_000 });
  await expect(page.getByTestId('status')).toHaveText('done: 2 epochs', { timeout: 240_000 });
  expect(errors).toEqual([]);
});

test('the file pickers are buttons reachable from the keyboard', async ({ page }) => {
  await ready(page);
  // Tab order reaches both buttons; Enter opens each picker, and what is picked is used.
  const pick = page.getByTestId('pick-files');
  await pick.focus();
  await expect(pick).toBeFocused();
  let chooser = page.waitForEvent('filechooser', { timeout: 60_000 });
  await pick.press('Enter');
  await (await chooser).setFiles(idxSet(64, 10));
  await expect(page.locator('#data-source')).toHaveText('MNIST files (64 train / 10 test)');
  const load = page.getByTestId('load-weights-button');
  await load.focus();
  await expect(load).toBeFocused();
  chooser = page.waitForEvent('filechooser', { timeout: 60_000 });
  await load.press('Enter');
  await (await chooser).setFiles({ name: 'inf.safetensors', mimeType: 'application/octet-stream', buffer: weightsFile(Number.POSITIVE_INFINITY) });
  await expect(note(page)).toContainText('Could not load inf.safetensors');
});

test('interop page: a lost device is reported in the page, and it fits a 390 px screen', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${DEMO_URL}interop.html?display=off`);
  await expect(page.getByTestId('status')).toHaveText('ready', { timeout: 120_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.evaluate(() => (window as unknown as { interopDevice: GPUDevice }).interopDevice.destroy());
  await expect(page.getByTestId('status')).toHaveText('GPU device lost', { timeout: 60_000 });
  await expect(page.getByTestId('problem')).toContainText('The GPU device was lost.');
  await expect(page.getByTestId('start')).toBeDisabled();
});
