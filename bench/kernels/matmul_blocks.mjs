// Raw-WGSL matmul study (not part of the library): C[M,N] = A[M,K]·B[K,N], both row-major, with
// R rows × 4·CB columns per invocation and KU vec4 steps of K per loop iteration, every workgroup
// shape in WGS; prints GFLOP/s and a spot check against a float64 product. Session 7 used it to
// choose the vectorised kernel's blocks (docs/matmul.md, bench/RESULTS.md).
//   Node:    VK_ICD_FILENAMES=<lavapipe or SwiftShader ICD> SHAPE=1024,1024,1024 VARIANTS=base,r8cb2,r16cb4 WGS=8x8,16x4 node bench/kernels/matmul_blocks.mjs
//   Browser: serve bench/kernels on http://localhost:5490 (python3 -m http.server 5490), then
//            node bench/kernels/matmul_blocks_browser.mjs 'VARIANTS=base,r16cb4&WGS=8x8'
const inBrowser = typeof window !== 'undefined';
let gpu;
if (inBrowser) gpu = navigator.gpu;
else {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  gpu = create([]);
}
const env = inBrowser ? Object.fromEntries(new URLSearchParams(location.search)) : process.env;
const log = (...a) => {
  console.log(...a);
  if (inBrowser) {
    window.LOG = `${(window.LOG ?? '') + a.join(' ')}\n`;
  }
};
const adapter = await gpu.requestAdapter();
const device = await adapter.requestDevice({
  requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
});
const [M, K, N] = (env.SHAPE ?? '1024,1024,1024').split(',').map(Number);
const mk = (n, usage) => device.createBuffer({ size: n * 4, usage });
const A = mk(M * K, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST),
  Bb = mk(K * N, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST),
  C = mk(M * N, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
const ha = new Float32Array(M * K).map(() => Math.random() - 0.5),
  hb = new Float32Array(K * N).map(() => Math.random() - 0.5);
device.queue.writeBuffer(A, 0, ha);
device.queue.writeBuffer(Bb, 0, hb);
const U = device.createBuffer({ size: 64, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(U, 0, new Uint32Array([M, K, N, K, 1, N, 1, 0]));
const head = (consts) =>
  consts
    ? `const PM = ${M}u; const PK = ${K}u; const PN = ${N}u; const a_rs = ${K}u; const b_rs = ${N}u;\nstruct Params { M: u32, K: u32, N: u32, a_rs: u32, a_cs: u32, b_rs: u32, b_cs: u32, pad: u32 };\n@group(0) @binding(0) var<uniform> P: Params;\n`
    : `struct Params { M: u32, K: u32, N: u32, a_rs: u32, a_cs: u32, b_rs: u32, b_cs: u32, pad: u32 };\n@group(0) @binding(0) var<uniform> P: Params;\n`;
const binds = `@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;\n@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;\n@group(0) @binding(3) var<storage, read_write> C: array<f32>;\n`;
// R rows × (4·CB) columns per invocation, KU vec4-steps of K per loop iteration.
function kernel({ R = 4, CB = 1, KU = 1, consts = false, wx, wy }) {
  const m = consts ? 'PM' : 'P.M',
    k = consts ? 'PK' : 'P.K',
    n = consts ? 'PN' : 'P.N',
    ars = consts ? 'a_rs' : 'P.a_rs',
    brs = consts ? 'b_rs' : 'P.b_rs';
  let s = `${head(consts) + binds}override WG_X: u32 = ${wx}u; override WG_Y: u32 = ${wy}u;\n`;
  s += `@compute @workgroup_size(WG_X, WG_Y, 1) fn main(@builtin(global_invocation_id) g: vec3<u32>) {\n`;
  s += `  let row0 = g.y * ${R}u; let col0 = g.x * ${4 * CB}u; if (row0 >= ${m} || col0 >= ${n}) { return; }\n`;
  for (let r = 0; r < R; r++) s += `  var ia${r} = (min(row0 + ${r}u, ${m} - 1u) * ${ars}) / 4u;\n`;
  s += `  var ib = col0 / 4u;\n`;
  for (let r = 0; r < R; r++) for (let c = 0; c < CB; c++) s += `  var acc${r}_${c} = vec4<f32>(0.0);\n`;
  s += `  for (var k = 0u; k < ${k}; k = k + ${4 * KU}u) {\n`;
  for (let u = 0; u < KU; u++) {
    for (let j = 0; j < 4; j++) for (let c = 0; c < CB; c++) s += `    let b${j}_${c}_${u} = B4[ib + ${u * 4 + j}u * (${brs} / 4u) + ${c}u];\n`;
    for (let r = 0; r < R; r++) {
      s += `    let a${r}_${u} = A4[ia${r} + ${u}u];\n`;
      for (let c = 0; c < CB; c++)
        s += `    acc${r}_${c} = vec4<f32>(a${r}_${u}.w) * b3_${c}_${u} + (vec4<f32>(a${r}_${u}.z) * b2_${c}_${u} + (vec4<f32>(a${r}_${u}.y) * b1_${c}_${u} + (vec4<f32>(a${r}_${u}.x) * b0_${c}_${u} + acc${r}_${c})));\n`;
    }
  }
  for (let r = 0; r < R; r++) s += `    ia${r} = ia${r} + ${KU}u;\n`;
  s += `    ib = ib + ${4 * KU}u * (${brs} / 4u);\n  }\n`;
  for (let r = 0; r < R; r++)
    for (let c = 0; c < CB; c++)
      for (let q = 0; q < 4; q++)
        s += `  if (row0 + ${r}u < ${m} && col0 + ${4 * c + q}u < ${n}) { C[(row0 + ${r}u) * ${n} + col0 + ${4 * c + q}u] = acc${r}_${c}[${q}]; }\n`;
  return `${s}}\n`;
}
const variants = (env.VARIANTS ?? 'base,const,ku2,r8,cb2,r2cb2').split(',');
const wgs = (env.WGS ?? '16x4,8x8,16x16').split(',').map((w) => w.split('x').map(Number));
// A variant's name spells its block: r<R> rows (4), cb<CB> vec4 columns (1), ku<KU> (1), a final
// "c" for constant shapes; "base" is 4×4 and "const" 4×4 with constant shapes (r16cb4c: 16×16, constant).
const spec = (name) => {
  if (name === 'base' || name === 'const') return { consts: name === 'const' };
  const m = /^(?:r(\d+))?(?:cb(\d+))?(?:ku(\d+))?(c?)$/.exec(name);
  if (!m) throw new Error(`unknown variant ${name}: write r<R>cb<CB>ku<KU>, optionally ending in c`);
  return { R: Number(m[1] ?? 4), CB: Number(m[2] ?? 1), KU: Number(m[3] ?? 1), consts: m[4] === 'c' };
};
// reference for a few entries
const ref = (i, j) => {
  let s = 0;
  for (let k = 0; k < K; k++) s += ha[i * K + k] * hb[k * N + j];
  return s;
};
for (const v of variants)
  for (const [wx, wy] of wgs) {
    const o = { ...spec(v), wx, wy };
    const module = device.createShaderModule({ code: kernel(o) });
    const info = await module.getCompilationInfo();
    if (info.messages.some((m) => m.type === 'error')) {
      log(
        v,
        info.messages.map((m) => m.message),
      );
      continue;
    }
    const tc = performance.now();
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    log('compile', (performance.now() - tc).toFixed(0), 'ms');
    const bg = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [U, A, Bb, C].map((buffer, binding) => ({ binding, resource: { buffer } })).filter((e) => !(o.consts && e.binding === 0)),
    });
    const R = o.R ?? 4,
      cols = 4 * (o.CB ?? 1);
    const run = async (reps) => {
      const e = device.createCommandEncoder();
      const p = e.beginComputePass();
      p.setPipeline(pipeline);
      p.setBindGroup(0, bg);
      for (let r = 0; r < reps; r++) p.dispatchWorkgroups(Math.ceil(N / cols / wx), Math.ceil(M / R / wy));
      p.end();
      device.queue.submit([e.finish()]);
      await device.queue.onSubmittedWorkDone();
    };
    const tf = performance.now();
    await run(1);
    log('first run', (performance.now() - tf).toFixed(0), 'ms');
    const reps = Number(env.REPS ?? 3);
    const t0 = performance.now();
    await run(reps);
    const ms = (performance.now() - t0) / reps;
    // check
    const rb = mk(M * N, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const e = device.createCommandEncoder();
    e.copyBufferToBuffer(C, 0, rb, 0, M * N * 4);
    device.queue.submit([e.finish()]);
    await rb.mapAsync(GPUMapMode.READ);
    const c = new Float32Array(rb.getMappedRange());
    let err = 0;
    for (const [i, j] of [
      [0, 0],
      [M - 1, N - 1],
      [M >> 1, N >> 2],
      [3, N - 5],
    ])
      err = Math.max(err, Math.abs(c[i * N + j] - ref(i, j)));
    rb.destroy();
    log(
      `${v.padEnd(6)} ${wx}x${wy}`.padEnd(14),
      ms.toFixed(1).padStart(8),
      'ms',
      ((2 * M * N * K) / ms / 1e6).toFixed(2).padStart(6),
      'GFLOP/s',
      'err',
      err.toExponential(1),
    );
  }

if (inBrowser) window.DONE = true;
