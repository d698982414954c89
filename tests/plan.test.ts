// The flush/capture plan is pure: which dispatches run and which buffer each storage gets are
// decided from the recorded queue alone. Driven here with a fake pool (no GPU involved).
import { describe, expect, test } from 'vitest';
import type { Dispatch } from '../src/runtime/dispatch.js';
import type { Access } from '../src/runtime/pipelines.js';
import { type BufferSource, planBuffers } from '../src/runtime/plan.js';
import { Storage } from '../src/runtime/storage.js';

/** A pool handing out numbered fake buffers; `failAt` makes the n-th acquire throw. */
class FakePool implements BufferSource<string> {
  acquired: string[] = [];
  released: string[] = [];
  private next = 0;
  private readonly sizes = new Map<string, number>();
  constructor(private readonly failAt = Infinity) {}
  classOf(bytes: number): number {
    return 2 ** Math.ceil(Math.log2(Math.max(bytes, 256)));
  }
  sizeOf(b: string): number {
    return this.sizes.get(b)!;
  }
  acquire(bytes: number): string {
    if (this.acquired.length + 1 >= this.failAt) throw new RangeError('out of memory');
    const b = `buf${this.next++}`;
    this.sizes.set(b, this.classOf(bytes));
    this.acquired.push(b);
    return b;
  }
  release(b: string): void {
    this.released.push(b);
  }
}

const kernel = (...bindings: Access[]) => ({ family: 'fake', source: '', entry: 'main', bindings, floatOutputs: true });
/** A dispatch reading `reads` and writing `write`. */
const op = (reads: Storage[], write: Storage): Dispatch => ({
  kernel: kernel(...reads.map(() => 'read' as const), 'rw'),
  params: new Uint32Array(4),
  storages: [...reads, write],
  workgroups: [1, 1, 1],
});
/** A storage some tensor holds (its value must survive the batch). */
const held = (bytes = 1024): Storage => Object.assign(new Storage(bytes), { handles: 1 });

describe('planBuffers', () => {
  test('a dispatch whose output nothing reads is dropped and gets no buffer', () => {
    const x = Object.assign(held(), { buffer: 'x' as unknown as GPUBuffer });
    const dead = new Storage(1024);
    const out = held();
    const pool = new FakePool();
    const plan = planBuffers([op([x], dead), op([x], out)], pool);
    expect(plan.live).toEqual([false, true]);
    expect(plan.assign.has(dead)).toBe(false);
    expect(pool.acquired).toEqual(['buf0']);
  });

  test('an intermediate released after its last reader lends its buffer to a later output of the batch', () => {
    const x = Object.assign(held(), { buffer: 'x' as unknown as GPUBuffer });
    const t1 = new Storage(1024);
    const t2 = new Storage(1024);
    const out = held();
    const pool = new FakePool();
    const plan = planBuffers([op([x], t1), op([t1], t2), op([t2], out)], pool);
    expect(plan.live).toEqual([true, true, true]);
    expect(plan.assign.get(t1)).toBe('buf0');
    expect(plan.assign.get(t2)).toBe('buf1');
    // t1's last use is dispatch 1: dispatch 2's output reuses its buffer instead of a new one.
    expect(plan.assign.get(out)).toBe('buf0');
    expect(pool.acquired).toEqual(['buf0', 'buf1']);
    expect(plan.releasedAt[1]).toEqual([t1]);
    expect(plan.releasedAt[2]).toEqual([t2]);
    expect(plan.toPool).toEqual(['buf1']);
  });

  test('buffers of another size class are not reused', () => {
    const x = Object.assign(held(), { buffer: 'x' as unknown as GPUBuffer });
    const small = new Storage(256);
    const big = held(4096);
    const pool = new FakePool();
    const plan = planBuffers([op([x], small), op([small], big)], pool);
    expect(plan.assign.get(big)).not.toBe(plan.assign.get(small));
  });

  test('a buffer the application or a captured program owns never goes back to the pool', () => {
    const external = Object.assign(new Storage(1024), { buffer: 'ext' as unknown as GPUBuffer, external: true });
    const owned = Object.assign(new Storage(1024), { buffer: 'prog' as unknown as GPUBuffer, programOwned: true });
    const out = held();
    const plan = planBuffers([op([external, owned], out)], new FakePool());
    expect(plan.releasedAt[0]).toEqual(expect.arrayContaining([external, owned]));
    expect(plan.toPool).toEqual([]);
  });

  test('an allocation that fails gives back every buffer the plan took', () => {
    const x = Object.assign(held(), { buffer: 'x' as unknown as GPUBuffer });
    const a = held();
    const b = held();
    const pool = new FakePool(2);
    expect(() => planBuffers([op([x], a), op([x], b)], pool)).toThrow(/out of memory/);
    expect(pool.released).toEqual(pool.acquired);
    expect(pool.acquired).toHaveLength(1);
  });
});
