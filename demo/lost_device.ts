// The banner a panel shows when the GPU device is lost: what happened, which weights the page
// still holds, and a button to continue on a new device.

/** Fills `container` (and shows it) with the lost device's reason and a "Continue on a new device" button. */
export function showLostDevice(container: HTMLElement, info: { reason: string; message: string }, held: string, onContinue: () => void): void {
  container.hidden = false;
  container.replaceChildren();
  const p = document.createElement('p');
  p.textContent = `The GPU device was lost (${info.reason || 'unknown'}${info.message ? `: ${info.message}` : ''}). The page holds the weights from ${held}.`;
  const button = document.createElement('button');
  button.textContent = 'Continue on a new device';
  button.className = 'primary';
  button.dataset.testid = 'continue';
  button.addEventListener('click', onContinue);
  container.append(p, button);
}
