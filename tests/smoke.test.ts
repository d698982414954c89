import { expect, test } from 'vitest';
import { tensor } from '../src/index.js';

test('matmul smoke', async () => {
  const a = tensor([
    [1, 2],
    [3, 4],
  ]);
  const b = tensor([
    [5, 6],
    [7, 8],
  ]);
  expect(Array.from(await a.matmul(b).data())).toEqual([19, 22, 43, 50]);
  expect(Array.from(await a.matmul(b.T).data())).toEqual([17, 23, 39, 53]);
  expect(await a.sum().item()).toBe(10);
  expect(Array.from(await a.add(tensor([10, 20])).data())).toEqual([11, 22, 13, 24]);
});
