// The demo page's start-up: WebGPU, the matmul tuning, then the model choice between the digits
// MLP (the default) and the names GPT, each in its own panel.
import './style.css';
import { init, runtimeInfo, tuneMatmul } from '../src/index.js';
import { digitsPanel } from './digits_panel.js';
import { ui } from './digits_ui.js';
import { namesPanel } from './names_panel.js';
import { racePanel } from './race_panel.js';

const choice = document.getElementById('model-choice') as HTMLSelectElement;
const choiceNote = document.getElementById('model-choice-note')!;
const panels = { digits: digitsPanel, names: namesPanel, race: racePanel };
const CHOICE_NOTE = 'Switching models pauses a run in progress; switch back and press Resume to continue it.';
type ModelName = keyof typeof panels;
const TITLES: Record<ModelName, string> = {
  digits: 'webgrad — train a digit reader on your GPU',
  names: 'webgrad — a small GPT learns to make names on your GPU',
  race: 'webgrad — full batch, stochastic and mini-batch gradient descent race on your GPU',
};

/** Shows the chosen model's panel; a run in progress in the other one is paused, and the page says so. */
function choose(name: ModelName): void {
  const paused = (Object.keys(panels) as ModelName[]).filter((other) => other !== name && panels[other].pause());
  for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-model]'))) el.hidden = el.dataset.model !== name;
  document.title = TITLES[name];
  choiceNote.textContent = paused.length
    ? `The ${paused.join(' and ')} training is paused while you look at this model; switch back and press Resume to continue it.`
    : CHOICE_NOTE;
  if (name === 'names') void namesPanel.show();
  if (name === 'race') void racePanel.show();
}
choice.addEventListener('change', () => choose(choice.value as ModelName));

async function main(): Promise<void> {
  digitsPanel.loading('loading the digits…');
  try {
    await init();
  } catch (err) {
    ui.fatal.hidden = false;
    ui.fatal.innerHTML = '<strong>This page needs WebGPU.</strong><p></p>';
    ui.fatal.querySelector('p')!.textContent = (err as Error).message;
    digitsPanel.unavailable('no WebGPU');
    return;
  }
  digitsPanel.watchDevice();
  // The matmul kernel is timed once per device and remembered (localStorage) for later visits.
  // ?tune=off keeps the default kernel (the browser tests use it: timing the candidates takes
  // seconds on a software adapter, and each test starts with a fresh localStorage).
  if (new URLSearchParams(location.search).get('tune') !== 'off') {
    digitsPanel.loading('tuning the matmul kernel for this GPU…');
    try {
      await tuneMatmul();
    } catch (err) {
      console.warn('matmul tuning failed; using the default kernel', err);
    }
  }
  const info = runtimeInfo();
  ui.adapter.textContent = `${info.adapter.vendor} ${info.adapter.architecture} ${info.adapter.description}`.trim();
  namesPanel.gpuReady();
  racePanel.gpuReady();
  await digitsPanel.start();
  if (choice.value !== 'digits') choose(choice.value as ModelName);
}

void main().catch(digitsPanel.fail);
