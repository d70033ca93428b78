// ANSI replay of a diffusion trace in a terminal: masks as ░, faint ghost guesses, committed tokens
// coloured by confidence, edits in magenta, the end-of-text tail greyed.
import { canvasAt, type Trace } from '../core/trace/trace.ts';

const ESC = '\x1b[';
const reset = `${ESC}0m`;

function colourFor(conf: number): string {
  // red (unsure) -> yellow -> green (sure)
  return conf >= 0.8 ? `${ESC}32m` : conf >= 0.5 ? `${ESC}33m` : `${ESC}31m`;
}

export function renderFrame(trace: Trace, step: number, tokenText: (id: number) => string): string {
  const canvas = canvasAt(trace, step);
  const conf = new Map<number, number>();
  const edited = new Set<number>();
  const ghosts = new Map<number, number>();
  for (const s of trace.steps.slice(0, step)) {
    for (const c of s.commits) conf.set(c.pos, c.conf);
    for (const e of s.edits) edited.add(e.pos);
    for (const [pos, token] of s.ghosts) ghosts.set(pos, token);
  }
  let out = '';
  let ended = false;
  for (let p = 0; p < canvas.length; p++) {
    const id = canvas[p];
    if (p < trace.promptLength && trace.initial[p] !== trace.maskId) {
      out += `${ESC}1m${tokenText(id)}${reset}`;
    } else if (id === trace.maskId) {
      const g = ghosts.get(p);
      out += g === undefined ? '░' : `${ESC}2m${tokenText(g).replace(/\S/g, '░')}${reset}`;
    } else if (id === trace.endOfTextId) {
      out += `${ESC}90m${ended ? '·' : '⏎'}${reset}`;
      ended = true;
    } else {
      const c = ended ? `${ESC}90m` : edited.has(p) ? `${ESC}35m` : colourFor(conf.get(p) ?? 1);
      out += `${c}${tokenText(id)}${reset}`;
    }
  }
  return out;
}

export async function replayTrace(trace: Trace, tokenText: (id: number) => string, frameMs = 60): Promise<void> {
  for (let step = 0; step <= trace.steps.length; step++) {
    process.stdout.write(`${ESC}H${ESC}2J`);
    process.stdout.write(`step ${step}/${trace.steps.length}\n\n${renderFrame(trace, step, tokenText)}\n`);
    await new Promise((r) => setTimeout(r, frameMs));
  }
}
