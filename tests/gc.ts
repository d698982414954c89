// The garbage collector for memory tests, without starting the worker with --expose-gc: a fresh
// context created after the flag is set gets `gc` as a global (the way Jest's leak detector
// reaches it). Tensors dropped without dispose() are released by FinalizationRegistry callbacks,
// which run in later tasks, so collect() repeats until memory() stops changing.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type MemoryInfo, memory, realize, sync } from '../src/index.js';

setFlagsFromString('--expose-gc');
export const gc = runInNewContext('gc') as () => void;

/** Collects until memory() (live tensors, live buffers, bytes in use) stops changing. */
export async function collect(): Promise<MemoryInfo> {
  let last = memory();
  for (let round = 0; round < 20; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    realize();
    await sync();
    const now = memory();
    if (round >= 3 && now.liveTensors === last.liveTensors && now.liveBuffers === last.liveBuffers && now.bytesInUse === last.bytesInUse) return now;
    last = now;
  }
  return last;
}
