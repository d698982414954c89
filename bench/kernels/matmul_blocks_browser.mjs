import { chromium } from '@playwright/test';

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] });
const page = await browser.newPage();
page.on('console', (m) => {
  if (m.type() === 'error') console.log('ERR', m.text());
});
await page.goto(`http://localhost:5490/matmul_blocks.html?${process.argv[2] ?? ''}`);
await page.waitForFunction(() => window.DONE === true, null, { timeout: 600000, polling: 1000 });
console.log(await page.evaluate(() => window.LOG));
await browser.close();
