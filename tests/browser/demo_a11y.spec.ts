// Accessibility of the demo page: axe (WCAG 2.x A and AA rules, and axe's best practices) on every
// model view at a desktop and a phone width must find no serious or critical violation, and every
// visible control must be reachable with the Tab key.
import { readFileSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, test } from '@playwright/test';
import { DEMO_URL } from '../../playwright.config.js';

const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];

/** The page, ready, and the views its Model menu offers (digits, names, and any added since). */
async function open(page: Page): Promise<string[]> {
  await page.goto(`${DEMO_URL}?tune=off`);
  await expect(page.getByTestId('status')).toHaveText('ready', { timeout: 300_000 });
  return page.locator('#model-choice option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
}

async function show(page: Page, view: string): Promise<void> {
  await page.getByTestId('model-choice').selectOption(view);
  await expect(page.locator(`[data-model="${view}"]`).first()).toBeVisible();
}

/** "rule (impact): what, at which elements" for each serious or critical violation. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

for (const viewport of VIEWPORTS) {
  test(`axe finds no serious or critical violation in any view at ${viewport.width} px`, async ({ page }) => {
    test.setTimeout(900_000);
    await page.setViewportSize(viewport);
    const views = await open(page);
    expect(views).toEqual(expect.arrayContaining(['digits', 'names']));
    const found: Record<string, string[]> = {};
    for (const view of views) {
      await show(page, view);
      found[view] = await seriousViolations(page);
      // What the digits view shows only after a run or a load: the coloured confusion matrix and the
      // predicted labels (checked at one width: their colours do not change with it, and axe is slow on
      // software). Checked before the other views are shown: each starts loading its model when first
      // shown, and the evaluation of the loaded weights would wait behind that work on the GPU.
      if (view === 'digits' && viewport.width === 1280) {
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-weights').click()]);
        const weights = { name: 'w.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(await download.path()) };
        await page.getByTestId('load-weights').setInputFiles(weights);
        await expect(page.locator('#confusion table')).toBeVisible({ timeout: 300_000 });
        found['digits, weights loaded'] = await seriousViolations(page);
      }
    }
    expect(found).toEqual(Object.fromEntries(Object.keys(found).map((v) => [v, []])));
  });
}

test('every visible, enabled control of each view is reached by the Tab key', async ({ page }) => {
  test.setTimeout(600_000);
  const views = await open(page);
  for (const view of views) {
    await show(page, view);
    const controls = await page.evaluate(() => {
      const name = (el: Element): string => el.id || el.getAttribute('data-testid') || `${el.tagName.toLowerCase()} "${el.textContent?.trim()}"`;
      const selector = 'button, select, input, textarea, a[href], [tabindex]';
      return Array.from(document.querySelectorAll<HTMLElement>(selector))
        .filter((el) => el.checkVisibility() && !(el as HTMLButtonElement).disabled && el.tabIndex >= 0)
        .map(name);
    });
    expect(controls.length).toBeGreaterThan(5);
    await page.locator('body').focus();
    const reached = new Set<string>();
    for (let i = 0; i < controls.length + 10; i++) {
      await page.keyboard.press('Tab');
      reached.add(
        await page.evaluate(() => {
          const el = document.activeElement!;
          return el.id || el.getAttribute('data-testid') || `${el.tagName.toLowerCase()} "${el.textContent?.trim()}"`;
        }),
      );
    }
    expect({ view, missing: controls.filter((c) => !reached.has(c)) }).toEqual({ view, missing: [] });
  }
});
