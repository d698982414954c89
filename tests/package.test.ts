// The package as users get it: npm pack (the library only), then in a fresh project install the
// tarball, type-check an example against its .d.ts with no setup of the WebGPU types, run one
// training step in Node, and build a Vite page that imports it and trains one step in headless
// Chromium. Also reports bundle sizes (minified + gzip).

import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test } from 'vitest';
import * as webgrad from '../src/index.js';

const repo = resolve('.');
const bin = (name: string) => join(repo, 'node_modules', '.bin', name);
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
  });

function jsSizes(dir: string): { raw: number; gzip: number } {
  let raw = 0;
  let gzip = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.js')) {
        const bytes = readFileSync(path);
        raw += bytes.length;
        gzip += gzipSync(bytes, { level: 9 }).length;
      }
    }
  };
  walk(dir);
  return { raw, gzip };
}

test('the packed tarball installs, type-checks, trains in Node and in a Vite page in Chromium', async () => {
  expect(existsSync('dist/types/index.d.ts'), 'run `npm run build` first (npm test does)').toBe(true);
  const work = mkdtempSync(join(tmpdir(), 'webgrad-consumer-'));
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', work], repo).trim().split('\n').pop()!;
  // The library and its types only: no command-line programs or benchmarks.
  const packed = run('tar', ['-tzf', join(work, tarball)], work)
    .split('\n')
    .filter(Boolean)
    .map((p) => p.replace(/^package\//, ''));
  expect(packed).toContain('dist/types/index.d.ts');
  expect(packed.filter((p) => p.endsWith('.js'))).toEqual(['dist/webgrad.js']);
  cpSync('tests/package', work, { recursive: true });
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const deps = JSON.parse(readFileSync('package.json', 'utf8')).devDependencies as Record<string, string>;
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(work, tarball), `webgpu@${deps.webgpu}`], work);

  // 1. The example type-checks against the package's own .d.ts, every .d.ts checked, and nothing
  // set up for the WebGPU types (GPUDevice, GPUBuffer): the package's declarations bring them.
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true, types: [], skipLibCheck: false },
      files: ['example.ts'],
    }),
  );
  run(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], work);

  // 2. One training step in Node.
  const node = JSON.parse(run(process.execPath, ['node-step.mjs'], work).trim().split('\n').pop()!);
  expect(node.after).toBeLessThan(node.before);

  // 3. A Vite page that imports it, built and trained one step in headless Chromium.
  writeFileSync(
    join(work, 'vite.config.js'),
    `export default { build: { target: 'es2022', outDir: process.env.OUT ?? 'dist', rollupOptions: { input: process.env.OUT ? 'minimal.html' : 'index.html' } } };`,
  );
  run(bin('vite'), ['build', '--logLevel', 'error'], work);
  const bundle = readdirSync(join(work, 'dist', 'assets'))
    .map((f) => readFileSync(join(work, 'dist', 'assets', f), 'utf8'))
    .join('\n');
  expect(bundle, 'the Node binding must stay out of browser bundles').not.toMatch(/dawn\.node|from ?"webgpu"|require\("webgpu"\)/);
  const port = 5400 + Math.floor(Math.random() * 400);
  const server = spawn(bin('vite'), ['preview', '--port', String(port), '--strictPort'], { cwd: work, stdio: 'ignore' });
  try {
    const { chromium } = await import('playwright');
    const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
    const browser = await chromium.launch({
      ...(executablePath ? { executablePath } : {}),
      args: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'],
    });
    try {
      const page = await browser.newPage();
      for (let i = 0; ; i++) {
        try {
          await page.goto(`http://localhost:${port}/`);
          break;
        } catch (err) {
          if (i > 50) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, undefined, { timeout: 120_000 });
      const result = await page.evaluate(() => (window as unknown as { result: { before: number; after: number; error?: string } }).result);
      expect(result.error).toBeUndefined();
      expect(result.after).toBeLessThan(result.before);
    } finally {
      await browser.close();
    }
  } finally {
    server.kill();
  }

  // Bundle sizes: a page that only does a matmul (what tree-shaking leaves), the training page, the demo.
  execFileSync(bin('vite'), ['build', '--logLevel', 'error'], { cwd: work, env: { ...process.env, OUT: 'dist-minimal' } });
  const minimal = jsSizes(join(work, 'dist-minimal'));
  const training = jsSizes(join(work, 'dist'));
  run(bin('vite'), ['build', '--config', 'vite.demo.config.ts', '--logLevel', 'error', '--outDir', join(work, 'demo-dist')], repo);
  const demo = jsSizes(join(work, 'demo-dist'));
  const kb = (s: { raw: number; gzip: number }) => `${(s.raw / 1024).toFixed(1)} kB (${(s.gzip / 1024).toFixed(1)} kB gzip)`;
  console.log(`[webgrad] bundle sizes, minified JS: matmul-only page ${kb(minimal)}; one-training-step page ${kb(training)}; demo pages ${kb(demo)}`);
  expect(minimal.raw).toBeLessThan(training.raw);
}, 300_000);

test('UI helpers are not public API', () => {
  expect(Object.keys(webgrad)).not.toContain('formatDuration');
});
