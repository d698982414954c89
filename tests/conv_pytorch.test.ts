// conv2d and the 2-D pools against PyTorch itself (tests/fixtures/conv_reference.json, written by
// tests/fixtures/make_conv_reference.py in float64): outputs and the gradients of ⟨u, output⟩ on
// the settings whose rules are easy to get wrong ('same' with even kernels, groups, dilation,
// ceil_mode windows, count_include_pad, divisor_override, uneven adaptive windows, ties).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { nn, type Tensor, tensor } from '../src/index.js';
import { expectClose } from './helpers.js';

interface Flat {
  shape: number[];
  data: number[];
}

interface Case {
  op: 'conv2d' | 'maxPool2d' | 'avgPool2d' | 'adaptiveAvgPool2d';
  label: string;
  options: Record<string, unknown>;
  inputs: Record<string, Flat>;
  u: Flat;
  output: Flat;
  grads: Record<string, Flat>;
}

const fixture = JSON.parse(readFileSync('tests/fixtures/conv_reference.json', 'utf8')) as { cases: Case[] };
const F = nn.functional;

/** The PyTorch call of a case, made with webgrad's names (snake_case options to camelCase). */
function call(c: Case, t: Record<string, Tensor>): Tensor {
  const o = c.options as Record<string, never>;
  const camel = Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase()), v])) as Record<
    string,
    never
  >;
  const { kernelSize, outputSize, ...rest } = camel as { kernelSize: nn.IntPair; outputSize: [number | null, number | null] } & Record<string, never>;
  switch (c.op) {
    case 'conv2d':
      return F.conv2d(t.x!, t.w!, t.b ?? null, rest);
    case 'maxPool2d':
      return F.maxPool2d(t.x!, kernelSize, rest);
    case 'avgPool2d':
      return F.avgPool2d(t.x!, kernelSize, rest);
    case 'adaptiveAvgPool2d':
      return F.adaptiveAvgPool2d(t.x!, outputSize);
  }
}

describe.each(fixture.cases.map((c) => [`${c.op}: ${c.label}`, c] as const))('%s', (_label, c) => {
  test('output and gradients match PyTorch', async () => {
    const leaves = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, tensor(Float32Array.from(v.data), { shape: v.shape, requiresGrad: true })]));
    const y = call(c, leaves);
    expect([...y.shape]).toEqual(c.output.shape);
    expectClose(await y.data(), c.output.data, 1e-5, 'output');
    y.backward(tensor(Float32Array.from(c.u.data), { shape: c.u.shape }));
    for (const [k, g] of Object.entries(c.grads)) {
      const got = leaves[k]!.grad!;
      expect([...got.shape]).toEqual(g.shape);
      expectClose(await got.data(), g.data, 1e-5, `d/d${k}`);
    }
  });
});
