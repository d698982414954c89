// Dawn (the `webgpu` package) prints two warnings when it enumerates a Vulkan adapter whose driver
// reports more dynamic buffers per pipeline layout than Dawn supports (lavapipe and most desktop
// drivers do):
//   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.
// They come from requestAdapter(), before any device or limit is requested, no Dawn toggle turns
// them off, and native code writes them straight to file descriptor 2, out of reach of JavaScript
// in the same process. So a command-line program runs itself once more as a child process whose
// stderr passes through a filter that drops exactly these lines; everything else goes on at once.
import { spawn } from 'node:child_process';

/** Set in the child's environment: `tty` when the program's real stderr is a terminal, else `pipe`. */
const CHILD_MARK = 'WEBGRAD_DAWN_NOISE_FILTERED';

// Dawn writes each warning with one fprintf on an unbuffered stream: one write of under PIPE_BUF
// bytes, which a pipe delivers whole, so a line is never split across two chunks.
const DAWN_NOISE =
  /Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?\n/g;

/** The text with Dawn's adapter-limit warnings removed. */
export function dropDawnNoise(text: string): string {
  return text.replace(DAWN_NOISE, '');
}

/**
 * Call first thing in a command-line program. In the process the user started, this starts the
 * program again as a child with its stderr filtered, passes on its exit status (or signal), and
 * returns false: run nothing more. In the child it returns true: run the program.
 */
export function runsBehindDawnNoiseFilter(): boolean {
  if (process.env[CHILD_MARK]) return true;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, [CHILD_MARK]: process.stderr.isTTY ? 'tty' : 'pipe' },
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const kept = dropDawnNoise(chunk);
    if (kept) process.stderr.write(kept);
  });
  // A signal for the program (Ctrl-C, a timeout's SIGTERM) may reach only this process: pass it on.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  for (const signal of signals) process.on(signal, forward);
  child.on('error', (err) => {
    process.stderr.write(`error: could not start ${process.argv[1]}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('close', (code, signal) => {
    if (signal) {
      for (const s of signals) process.off(s, forward);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 1);
    }
  });
  return false;
}

/** Whether the program's stderr is a terminal (progress bars), also when it runs behind the filter. */
export function stderrIsTerminal(): boolean {
  const mark = process.env[CHILD_MARK];
  return mark ? mark === 'tty' : process.stderr.isTTY === true;
}
