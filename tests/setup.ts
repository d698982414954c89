// Every unit test file runs on a real WebGPU device (Dawn's Node binding; lavapipe or SwiftShader
// on machines without a GPU). No adapter is a failure, never a skip.
import { afterEach, beforeAll, expect } from 'vitest';
import { init, runtimeInfo } from '../src/index.js';
import { runtime } from '../src/runtime/runtime.js';

process.env.XDG_RUNTIME_DIR ??= '/tmp';

beforeAll(async () => {
  await init();
  const info = runtimeInfo();
  // Outputs of every kernel are pre-filled with NaN, so an element a kernel forgets to write shows.
  runtime().scheduler.debugFillNaN = true;
  if (!(globalThis as { __adapterPrinted?: boolean }).__adapterPrinted) {
    (globalThis as { __adapterPrinted?: boolean }).__adapterPrinted = true;
    console.log(`[webgrad] adapter: ${info.adapter.vendor} / ${info.adapter.architecture} / ${info.adapter.description || info.adapter.device}`);
  }
});

afterEach(async () => {
  const rt = runtime();
  rt.scheduler.flush();
  await rt.device.queue.onSubmittedWorkDone();
  const errors = rt.uncapturedErrors.splice(0);
  expect(errors, 'WebGPU reported errors').toEqual([]);
});
