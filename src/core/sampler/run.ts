// What every sampler shares around its loop: the run's context (streaming, cancellation, clock, token text) and
// the checks of its input.
import { TokenIdError } from '../errors.ts';
import type { BlockCommit } from '../models/caches.ts';
import type { TokenText } from '../models/types.ts';
import type { TraceStart, TraceStep } from '../trace/trace.ts';

/**
 * Where a resumed run starts (src/core/drafts): the steps it keeps (the saved ones up to the pause, then the
 * visitor's step) and the canvas after them. The run records the kept steps first and goes on from there.
 */
export interface DraftPoint {
  steps: TraceStep[];
  canvas: number[];
}

export interface RunContext {
  signal?: AbortSignal;
  /** Called once before the first forward pass with the initial canvas (streaming). */
  onStart?: (start: TraceStart) => void;
  /** Called after every step with that step (streaming). */
  onStep?: (step: TraceStep) => void;
  /**
   * Awaited after every step. In a worker it yields to the event loop, so a cancel message can arrive:
   * single-threaded WASM inference resolves through microtasks alone and would never let it in.
   */
  between?: () => Promise<void>;
  tokenText?: TokenText;
  backend?: string;
  now?: () => number;
  /** Block models: how finished blocks enter the cache (an execution choice: the tokens are the same). */
  blockCommit?: BlockCommit;
}

export const clockOf = (ctx: RunContext) => ctx.now ?? (() => performance.now());
export const tokenTextOf = (ctx: RunContext): TokenText => ctx.tokenText ?? ((id: number) => `<${id}>`);

/** Every id of the input is a token of the model's vocabulary. */
export function checkTokenIds(input: readonly number[], vocabSize: number): void {
  for (const id of input) if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new TokenIdError(id, vocabSize);
}

/** The random stream of a run resumed after `steps` kept steps: its own, reproducible from the seed and the step. */
export const resumedSeed = (seed: number, steps: number) => (seed ^ Math.imul(steps, 0x9e3779b1)) >>> 0;
