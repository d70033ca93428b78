// The shareable part of the state (prompt, mode, options, seed) in the URL query string. Only values that
// differ from the defaults are written, so links stay short.
import { MODES, type Mode } from '../core/modes.ts';
import { AR_DEFAULTS, DIFFUSION_DEFAULTS, type ArOptions, type DiffusionOptions } from '../core/sampler/options.ts';

export interface SharedState {
  /** Model pair from the manifest; its default when absent. */
  pair?: string;
  prompt: string;
  mode: Mode;
  diffusion: Partial<DiffusionOptions>;
  ar: Partial<ArOptions>;
  /** WASM threads asked for in the link (benchmarks), within the device's cores. */
  threads?: number;
}

function changed<T extends object>(values: Partial<T>, defaults: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(values) as [keyof T, T[keyof T]][]) {
    if (v !== undefined && v !== defaults[k]) out[k] = v;
  }
  return out;
}

/**
 * Longest prompt kept in the link: past a few KB a link fails to load (servers answer 431 to long request
 * lines); such a prompt stays in the page and in exported traces.
 */
export const MAX_PROMPT_IN_LINK = 2000;

export function toQuery(state: SharedState): string {
  const q = new URLSearchParams();
  if (state.pair) q.set('pair', state.pair);
  if (state.prompt.length <= MAX_PROMPT_IN_LINK) q.set('prompt', state.prompt);
  q.set('mode', state.mode);
  const d = changed(state.diffusion, DIFFUSION_DEFAULTS);
  const a = changed(state.ar, AR_DEFAULTS);
  if (Object.keys(d).length) q.set('diffusion', JSON.stringify(d));
  if (Object.keys(a).length) q.set('ar', JSON.stringify(a));
  return q.toString();
}

/** Reads what the URL holds; malformed parts are reported, not silently dropped. */
export function fromQuery(search: string): { state: Partial<SharedState>; problems: string[] } {
  const q = new URLSearchParams(search);
  const state: Partial<SharedState> = {};
  const problems: string[] = [];
  const pair = q.get('pair');
  if (pair) state.pair = pair;
  const prompt = q.get('prompt');
  if (prompt !== null) state.prompt = prompt;
  const mode = q.get('mode');
  if (MODES.includes(mode as Mode)) state.mode = mode as Mode;
  else if (mode !== null) problems.push(`mode "${mode}" in the URL is not one of ${MODES.join(', ')}`);
  const known = { diffusion: DIFFUSION_DEFAULTS, ar: AR_DEFAULTS };
  for (const key of ['diffusion', 'ar'] as const) {
    const raw = q.get(key);
    if (raw === null) continue;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    } catch {
      problems.push(`the ${key} options in the URL are not valid JSON and were ignored`);
      continue;
    }
    // an option the page does not know would block Generate with nothing on the page to clear it
    const unknown = Object.keys(parsed).filter((k) => !Object.hasOwn(known[key], k));
    if (unknown.length)
      problems.push(`unknown ${key} option${unknown.length > 1 ? 's' : ''} in the URL ignored: ${unknown.join(', ')}`);
    state[key] = Object.fromEntries(Object.entries(parsed).filter(([k]) => Object.hasOwn(known[key], k)));
  }
  const threads = q.get('threads');
  if (threads !== null) {
    // more threads than cores cannot help, and a huge count hangs the WASM runtime's start
    const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 4;
    const n = Number(threads);
    if (Number.isInteger(n) && n >= 1 && n <= cores) state.threads = n;
    else problems.push(`threads=${threads} in the URL ignored: this device has ${cores} cores`);
  }
  return { state, problems };
}
