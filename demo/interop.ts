// Interop demo: webgrad trains the seed network; this page's own render pipeline reads the first
// layer's weights straight from webgrad's GPUBuffer (tensor.gpuBuffer) on the shared device and
// draws them after every step. No readback: the values never leave the GPU.
import './style.css';
import { counters, data, getDevice, init, nn, onDeviceLost, optim, type Tensor } from '../src/index.js';

class Net extends nn.Module {
  fc1 = new nn.Linear(784, 128);
  relu = new nn.ReLU();
  fc2 = new nn.Linear(128, 10);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.relu.forward(this.fc1.forward(x)));
  }
}

// 16 × 8 tiles of 28 × 28 with a 1-pixel gap; a diverging colour map (blue < 0 < red).
const SHADER = /* wgsl */ `
@group(0) @binding(0) var<storage, read> W: array<f32>;

@vertex fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
  let p = array<vec2<f32>, 3>(vec2(-1.0, -1.0), vec2(3.0, -1.0), vec2(-1.0, 3.0));
  return vec4<f32>(p[i], 0.0, 1.0);
}

@fragment fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
  let x = u32(pos.x);
  let y = u32(pos.y);
  let tx = x % 29u;
  let ty = y % 29u;
  if (tx == 28u || ty == 28u) { return vec4<f32>(1.0, 1.0, 1.0, 1.0); }
  let unit = (y / 29u) * 16u + x / 29u;
  let w = tanh(W[unit * 784u + ty * 28u + tx] * 30.0);
  let a = abs(w);
  if (w >= 0.0) { return vec4<f32>(1.0, 1.0 - a, 1.0 - a, 1.0); }
  return vec4<f32>(1.0 - a, 1.0 - a, 1.0, 1.0);
}`;

const status = document.getElementById('status')!;
const stepsEl = document.getElementById('steps')!;
const readbacksEl = document.getElementById('readbacks')!;
let running = false;

/** Says what went wrong in the page itself, not only in the console. */
function showProblem(title: string, detail: string): void {
  const box = document.getElementById('problem')!;
  box.hidden = false;
  box.replaceChildren();
  const strong = document.createElement('strong');
  strong.textContent = title;
  const p = document.createElement('p');
  p.textContent = detail;
  box.append(strong, p);
}

async function main(): Promise<void> {
  await init();
  const device = getDevice();
  onDeviceLost((info) => {
    running = false;
    status.textContent = 'GPU device lost';
    for (const id of ['start', 'stop']) (document.getElementById(id) as HTMLButtonElement).disabled = true;
    showProblem(
      'The GPU device was lost.',
      `${info.reason || 'unknown reason'}${info.message ? `: ${info.message}` : ''}. The drawing stops here; reload the page to start again on a new device.`,
    );
  });
  const digits = await data.loadDigits(new URL('/digits.bin.gz', location.href));
  const model = new Net();
  const opt = new optim.SGD(model.parameters(), { lr: 0.1 });

  // The image goes to the canvas, or — with ?display=off, for headless browsers whose WebGPU canvas
  // cannot present (Chromium on SwiftShader loses the device when a canvas is configured) — to a
  // texture of the page's own that a test reads once training has stopped.
  const canvas = document.getElementById('weights-gpu') as HTMLCanvasElement;
  const display = new URLSearchParams(location.search).get('display') !== 'off';
  const format: GPUTextureFormat = display ? navigator.gpu.getPreferredCanvasFormat() : 'rgba8unorm';
  const context = display ? canvas.getContext('webgpu')! : null;
  context?.configure({ device, format, alphaMode: 'opaque' });
  const offscreen = display
    ? null
    : device.createTexture({ size: [canvas.width, canvas.height], format, usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
  const module = device.createShaderModule({ code: SHADER });
  const pipeline = device.createRenderPipeline({
    layout: 'auto',
    vertex: { module, entryPoint: 'vs' },
    fragment: { module, entryPoint: 'fs', targets: [{ format }] },
  });
  // A parameter keeps its buffer for life (updates are in place): one bind group serves every frame.
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: model.fc1.weight.gpuBuffer } }],
  });
  const state = { steps: 0, readbacks: 0, draws: 0 };
  (window as unknown as { interopDevice: GPUDevice }).interopDevice = device; // for tests
  const draw = (): void => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginRenderPass({
      colorAttachments: [
        { view: (context ? context.getCurrentTexture() : offscreen!).createView(), loadOp: 'clear', storeOp: 'store', clearValue: [1, 1, 1, 1] },
      ],
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.draw(3);
    pass.end();
    device.queue.submit([encoder.finish()]);
    state.draws++;
  };
  draw();

  const loader = new data.DataLoader(digits.train, { batchSize: 64, seed: 0 });
  let steps = 0;
  let readbacksAtStart = 0;
  (window as unknown as { interopState: typeof state }).interopState = state;
  // For tests: the page's own image (the offscreen texture), read by the page — not by webgrad.
  (window as unknown as { interopSnapshot: () => Promise<number[]> }).interopSnapshot = async () => {
    if (!offscreen) return [];
    const bytesPerRow = Math.ceil((canvas.width * 4) / 256) * 256;
    const out = device.createBuffer({ size: bytesPerRow * canvas.height, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    encoder.copyTextureToBuffer({ texture: offscreen }, { buffer: out, bytesPerRow }, [canvas.width, canvas.height]);
    device.queue.submit([encoder.finish()]);
    await out.mapAsync(GPUMapMode.READ);
    const pixels = Array.from(new Uint8Array(out.getMappedRange().slice(0)));
    out.destroy();
    return pixels;
  };
  const train = async (): Promise<void> => {
    running = true;
    readbacksAtStart = counters().readbacks;
    status.textContent = 'training';
    while (running) {
      for (const [x, y] of loader) {
        if (!running) break;
        opt.zeroGrad();
        nn.functional.crossEntropy(model.forward(x), y).backward();
        opt.step(); // one submit
        draw(); // the page's own submit, after it: it sees the updated weights
        steps++;
        state.steps = steps;
        state.readbacks = counters().readbacks - readbacksAtStart;
        stepsEl.textContent = String(steps);
        readbacksEl.textContent = String(state.readbacks);
        // Wait for the GPU now and then (no readback): keeps the queue short and the page responsive.
        if (steps % 4 === 0) await device.queue.onSubmittedWorkDone();
      }
    }
    status.textContent = 'stopped';
  };
  document.getElementById('start')!.addEventListener('click', () => {
    if (!running) void train();
  });
  document.getElementById('stop')!.addEventListener('click', () => {
    running = false;
  });
  status.textContent = 'ready';
}

main().catch((err: Error) => {
  status.textContent = `error: ${err.message}`;
  showProblem('This page could not start.', err.message);
  console.error(err);
});
