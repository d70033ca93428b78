// One trace format for both samplers. A trace stores the initial canvas and, per step, only what changed
// (commits, edits, ghost-guess deltas), so long runs stay small; `canvasAt` rebuilds any step.
import type { ArOptions, DiffusionOptions } from '../sampler/options.ts';

/** A masked position receives a token. `conf` is the confidence used to rank it (see sampling.ts). */
export interface Commit {
  pos: number;
  token: number;
  text: string;
  conf: number;
}

/** A committed token changes: re-masked (to = mask id) or replaced by another token. */
export interface Edit {
  pos: number;
  from: number;
  to: number;
  text: string;
  /** Probability of the old token under the current prediction (why it was edited). */
  prob: number;
}

/**
 * The model's current best guess at a still-masked position (drawn faintly by the UI), as a compact
 * [position, token, probability] tuple: there can be one per masked position per step.
 */
export type Ghost = [pos: number, token: number, prob: number];

/** A ghost is re-sent only when its token changes or its probability moves by at least this much. */
export const GHOST_PROB_STEP = 0.05;

export interface TraceStep {
  /** 1-based step number. */
  step: number;
  /** Semi-autoregressive block being decoded (0 for AR). */
  block: number;
  /** Forward passes so far, this step's included (a CFG step costs two). */
  forwardPasses: number;
  /** Positions this step's pass computed, per sequence (all of them, or a cached pass's window). */
  positions?: number;
  /** False for a pass that read the other positions' keys and values from a cache (diffusion, cache on). */
  fullPass?: boolean;
  modelMs: number;
  samplerMs: number;
  commits: Commit[];
  edits: Edit[];
  /** Ghosts whose token changed, or whose probability moved by GHOST_PROB_STEP, since last sent. */
  ghosts: Ghost[];
  /** Early stop: positions [from, to) were filled with end-of-text. */
  fill?: { from: number; to: number };
  /**
   * A step the visitor made on a paused or finished draft (src/core/drafts): no pass ran; its edits are the
   * visitor's (re-masked positions, typed tokens), applied after `truncate`.
   */
  visitor?: true;
  /** An AR visitor step: the text is cut to this length first (a left-to-right model cannot keep what followed). */
  truncate?: number;
}

/** What a streaming consumer learns before step 1. */
export interface TraceStart {
  kind: 'diffusion' | 'ar';
  initial: number[];
  promptLength: number;
  maskId: number;
  endOfTextId: number;
  plannedSteps: number;
}

export type TerminationReason = 'completed' | 'end-of-text' | 'max-tokens' | 'cancelled';

export interface Termination {
  reason: TerminationReason;
  step: number;
  plannedSteps: number;
  message: string;
}

export interface TraceStats {
  forwardPasses: number;
  wallMs: number;
  modelMs: number;
  samplerMs: number;
  /** Generated tokens in the answer (up to the first end-of-text). */
  tokensGenerated: number;
  tokensPerSecond: number;
  msPerPass: number;
  /** Share of the wall time spent in the sampler rather than the model. */
  samplerShare: number;
}

export interface Trace {
  version: 1;
  kind: 'diffusion' | 'ar';
  model: string;
  backend: string;
  options: DiffusionOptions | ArOptions;
  maskId: number;
  endOfTextId: number;
  /** Tokens before the appended generation region. */
  promptLength: number;
  /** Canvas before step 1: the prompt (possibly with masks to infill) and the masks to generate. */
  initial: number[];
  steps: TraceStep[];
  /** Canvas after the last step. */
  final: number[];
  /** Generated tokens of the answer: the generation region up to its first end-of-text. */
  answer: number[];
  answerText: string;
  termination: Termination;
  stats: TraceStats;
}

/** Canvas after `step` steps (0 = initial). */
export function canvasAt(trace: Pick<Trace, 'initial' | 'steps' | 'endOfTextId'>, step: number): number[] {
  const canvas = trace.initial.slice();
  for (const s of trace.steps.slice(0, step)) {
    if (s.truncate !== undefined) canvas.length = s.truncate;
    for (const e of s.edits) canvas[e.pos] = e.to;
    for (const c of s.commits) canvas[c.pos] = c.token;
    if (s.fill) for (let p = s.fill.from; p < s.fill.to; p++) canvas[p] = trace.endOfTextId;
  }
  return canvas;
}

/** Generated tokens up to (not including) the first end-of-text of the region starting at `start`. */
export function answerOf(canvas: ArrayLike<number>, start: number, endOfTextId: number, maskId: number): number[] {
  const out: number[] = [];
  for (let p = start; p < canvas.length; p++) {
    if (canvas[p] === endOfTextId) break;
    if (canvas[p] !== maskId) out.push(canvas[p]);
  }
  return out;
}

export function statsOf(steps: TraceStep[], wallMs: number, tokensGenerated: number): TraceStats {
  const modelMs = steps.reduce((a, s) => a + s.modelMs, 0);
  const samplerMs = steps.reduce((a, s) => a + s.samplerMs, 0);
  const forwardPasses = steps.at(-1)?.forwardPasses ?? 0;
  return {
    forwardPasses,
    wallMs,
    modelMs,
    samplerMs,
    tokensGenerated,
    tokensPerSecond: wallMs > 0 ? (tokensGenerated * 1000) / wallMs : 0,
    msPerPass: forwardPasses > 0 ? modelMs / forwardPasses : 0,
    samplerShare: modelMs + samplerMs > 0 ? samplerMs / (modelMs + samplerMs) : 0,
  };
}

/** Rounds for storage: confidences and probabilities to 4 decimals, times to 0.01 ms. */
export const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
export const roundMs = (x: number) => Math.round(x * 100) / 100;
