// An exported trace read back from a file: untrusted input. Every field the page reads is checked for its type and
// bounds before anything renders it, and a refusal names the field and what is wrong with it.
import { TraceFileError } from '../errors.ts';
import type { Trace } from './trace.ts';

export const TRACE_FORMAT = 'diffusion-demo-trace/1';
/** Longest canvas a trace may hold (the models' contexts are far shorter; past this the page would stall). */
export const MAX_CANVAS = 4096;
/** Most steps a trace may hold. */
export const MAX_STEPS = 65_536;
/** Largest token id and vocabulary accepted. */
export const MAX_VOCAB = 1 << 20;

export interface TraceFile {
  prompt: string;
  diffusion?: Trace;
  /** The block-diffusion model's run: a diffusion trace. */
  block?: Trace;
  ar?: Trace;
  vocabText?: string[];
}

type Json = Record<string, unknown>;

const describe = (v: unknown) =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? `an array of ${v.length}`
      : typeof v === 'string'
        ? 'a string'
        : `${typeof v} ${String(v).slice(0, 40)}`;

function object(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new TraceFileError(where, `must be an object, got ${describe(v)}`);
  return v as Json;
}

function array(v: unknown, where: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new TraceFileError(where, `must be an array, got ${describe(v)}`);
  if (v.length > max) throw new TraceFileError(where, `has ${v.length} entries; at most ${max} are accepted`);
  return Array.from(v); // a hole reads as undefined, and is refused like one
}

function int(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new TraceFileError(where, `must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

function finite(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new TraceFileError(where, `must be a finite number, got ${describe(v)}`);
  return v;
}

function string(v: unknown, where: string, max = 1 << 20): string {
  if (typeof v !== 'string') throw new TraceFileError(where, `must be a string, got ${describe(v)}`);
  if (v.length > max) throw new TraceFileError(where, `is ${v.length} characters long; at most ${max} are accepted`);
  return v;
}

function validateTrace(v: unknown, where: string, vocab: number): Trace {
  const t = object(v, where);
  if (t.version !== 1) throw new TraceFileError(`${where}.version`, `must be 1, got ${describe(t.version)}`);
  if (t.kind !== 'diffusion' && t.kind !== 'ar')
    throw new TraceFileError(`${where}.kind`, `must be "diffusion" or "ar", got ${describe(t.kind)}`);
  const token = (x: unknown, w: string) => int(x, w, 0, vocab - 1);
  string(t.model, `${where}.model`, 200);
  string(t.backend, `${where}.backend`, 200);
  object(t.options, `${where}.options`);
  int(t.maskId, `${where}.maskId`, t.kind === 'ar' ? -1 : 0, vocab - 1); // an AR trace has no mask: -1
  token(t.endOfTextId, `${where}.endOfTextId`);
  const initial = array(t.initial, `${where}.initial`, MAX_CANVAS);
  initial.forEach((x, i) => token(x, `${where}.initial[${i}]`));
  int(t.promptLength, `${where}.promptLength`, 0, initial.length);
  const steps = array(t.steps, `${where}.steps`, MAX_STEPS);
  // an AR trace grows by one position a step; a diffusion canvas keeps its length
  const length = t.kind === 'ar' ? initial.length + steps.length : initial.length;
  if (length > MAX_CANVAS)
    throw new TraceFileError(`${where}`, `grows to ${length} positions; at most ${MAX_CANVAS} are accepted`);
  const pos = (x: unknown, w: string) => int(x, w, 0, length - 1);
  steps.forEach((raw, i) => {
    const w = `${where}.steps[${i}]`;
    const s = object(raw, w);
    int(s.step, `${w}.step`, 1, MAX_STEPS);
    int(s.block, `${w}.block`, 0, MAX_CANVAS);
    int(s.forwardPasses, `${w}.forwardPasses`, 0, 2 * MAX_STEPS);
    if (s.positions !== undefined) int(s.positions, `${w}.positions`, 0, length);
    if (s.fullPass !== undefined && typeof s.fullPass !== 'boolean')
      throw new TraceFileError(`${w}.fullPass`, 'must be true or false');
    finite(s.modelMs, `${w}.modelMs`);
    finite(s.samplerMs, `${w}.samplerMs`);
    array(s.commits, `${w}.commits`, length).forEach((c, j) => {
      const m = object(c, `${w}.commits[${j}]`);
      pos(m.pos, `${w}.commits[${j}].pos`);
      token(m.token, `${w}.commits[${j}].token`);
      string(m.text, `${w}.commits[${j}].text`, 1000);
      finite(m.conf, `${w}.commits[${j}].conf`);
    });
    array(s.edits, `${w}.edits`, length).forEach((e, j) => {
      const m = object(e, `${w}.edits[${j}]`);
      pos(m.pos, `${w}.edits[${j}].pos`);
      token(m.from, `${w}.edits[${j}].from`);
      token(m.to, `${w}.edits[${j}].to`);
      string(m.text, `${w}.edits[${j}].text`, 1000);
      finite(m.prob, `${w}.edits[${j}].prob`);
    });
    array(s.ghosts, `${w}.ghosts`, length).forEach((g, j) => {
      const tuple = array(g, `${w}.ghosts[${j}]`, 3);
      if (tuple.length !== 3) throw new TraceFileError(`${w}.ghosts[${j}]`, 'must be [position, token, probability]');
      pos(tuple[0], `${w}.ghosts[${j}][0]`);
      token(tuple[1], `${w}.ghosts[${j}][1]`);
      finite(tuple[2], `${w}.ghosts[${j}][2]`);
    });
    if (s.visitor !== undefined && s.visitor !== true)
      throw new TraceFileError(`${w}.visitor`, 'must be true or absent');
    if (s.truncate !== undefined) {
      if (s.visitor !== true) throw new TraceFileError(`${w}.truncate`, 'only a visitor step cuts the text');
      int(s.truncate, `${w}.truncate`, 0, length);
    }
    if (s.fill !== undefined) {
      const f = object(s.fill, `${w}.fill`);
      const from = int(f.from, `${w}.fill.from`, 0, length);
      int(f.to, `${w}.fill.to`, from, length);
    }
  });
  for (const key of ['final', 'answer'] as const) {
    array(t[key], `${where}.${key}`, MAX_CANVAS).forEach((x, i) => token(x, `${where}.${key}[${i}]`));
  }
  string(t.answerText, `${where}.answerText`);
  const term = object(t.termination, `${where}.termination`);
  if (!['completed', 'end-of-text', 'max-tokens', 'cancelled'].includes(term.reason as string)) {
    throw new TraceFileError(`${where}.termination.reason`, `is not a known reason: ${describe(term.reason)}`);
  }
  int(term.step, `${where}.termination.step`, 0, MAX_STEPS);
  int(term.plannedSteps, `${where}.termination.plannedSteps`, 0, 4 * MAX_STEPS);
  string(term.message, `${where}.termination.message`, 1000);
  const stats = object(t.stats, `${where}.stats`);
  for (const key of [
    'forwardPasses',
    'wallMs',
    'modelMs',
    'samplerMs',
    'tokensGenerated',
    'tokensPerSecond',
    'msPerPass',
    'samplerShare',
  ]) {
    finite(stats[key], `${where}.stats.${key}`);
  }
  return t as unknown as Trace;
}

/** Checks a JSON value read back from an exported file before replaying it; throws TraceFileError. */
export function parseTraceFile(json: unknown): TraceFile {
  const f = object(json, 'the file');
  if (f.format !== TRACE_FORMAT) {
    throw new TraceFileError('the file', `is not a trace file of this demo (expected "format": "${TRACE_FORMAT}")`);
  }
  const prompt = f.prompt === undefined ? '' : string(f.prompt, 'prompt');
  let vocabText: string[] | undefined;
  if (f.vocabText !== undefined) {
    vocabText = array(f.vocabText, 'vocabText', MAX_VOCAB).map((x, i) => string(x, `vocabText[${i}]`, 256));
  }
  const vocab = vocabText?.length ?? MAX_VOCAB;
  const diffusion = f.diffusion === undefined ? undefined : validateTrace(f.diffusion, 'diffusion', vocab);
  const block = f.block === undefined ? undefined : validateTrace(f.block, 'block', vocab);
  const ar = f.ar === undefined ? undefined : validateTrace(f.ar, 'ar', vocab);
  if (diffusion?.kind === 'ar' || block?.kind === 'ar' || ar?.kind === 'diffusion')
    throw new TraceFileError('the file', 'holds a trace under the wrong model');
  if (!diffusion && !block && !ar) throw new TraceFileError('the file', 'holds no trace');
  return { prompt, diffusion, block, ar, vocabText };
}
