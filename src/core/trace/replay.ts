// What the page draws at a given step of a trace, computed from the trace alone (so a saved trace replays
// without a model): one cell per position, the step shown at a point of a shared time axis, chart series.
import type { Trace, TraceStep } from './trace.ts';

export type CellState = 'prompt' | 'masked' | 'committed' | 'end' | 'tail';

export interface Cell {
  pos: number;
  /** Current token id (the mask id while masked). */
  token: number;
  state: CellState;
  /** Confidence when committed (or edited). */
  conf: number | null;
  committedAt: number | null;
  /** The model's current guess while masked. */
  ghost: { token: number; prob: number } | null;
  /** Most recent edit of this position, if any. */
  edit: { from: number; to: number; step: number } | null;
  /** Committed, re-masked by an edit, and masked again now. */
  remasked: boolean;
  /** The visitor's edit stands here now: a token typed, or a mask the visitor put back (src/core/drafts). */
  byVisitor: boolean;
  /** Committed or edited at exactly this step (animates in). */
  fresh: boolean;
  /** Given text with a mask inside it (infill) or appended generation region. */
  generated: boolean;
}

/** The part of a trace replay needs; a trace still streaming in has this shape too. */
export type ReplayTrace = Pick<Trace, 'initial' | 'promptLength' | 'maskId' | 'endOfTextId' | 'kind'> & {
  steps: TraceStep[];
};

function blankCell(pos: number, token: number, state: CellState, generated: boolean): Cell {
  return {
    pos,
    token,
    state,
    conf: null,
    committedAt: null,
    ghost: null,
    edit: null,
    remasked: false,
    byVisitor: false,
    fresh: false,
    generated,
  };
}

/** A position an AR trace has not written (yet, or again after a visitor's cut). */
const blankAr = (pos: number, maskId: number) => blankCell(pos, maskId, 'masked', true);

export function cellsAt(trace: ReplayTrace, step: number): Cell[] {
  const { initial, maskId, endOfTextId: eot } = trace;
  const cells: Cell[] = initial.map((token, pos) =>
    blankCell(pos, token, token === maskId ? 'masked' : 'prompt', token === maskId),
  );
  const upto = Math.max(0, Math.min(step, trace.steps.length));
  for (let i = 0; i < upto; i++) {
    const s = trace.steps[i];
    const current = i === upto - 1;
    if (s.truncate !== undefined) cells.length = Math.min(cells.length, s.truncate); // an AR visitor step cuts the text
    for (const e of s.edits) {
      while (cells.length <= e.pos) cells.push(blankAr(cells.length, maskId));
      const c = cells[e.pos];
      c.token = e.to;
      c.edit = { from: e.from, to: e.to, step: s.step };
      c.fresh = current;
      c.byVisitor = s.visitor === true;
      if (e.to === maskId) {
        c.state = 'masked';
        c.remasked = true;
        c.conf = null;
        c.ghost = null;
      } else if (s.visitor) {
        c.state = 'committed';
        c.conf = 1;
        c.committedAt = s.step;
        c.ghost = null;
        c.remasked = false;
      }
    }
    for (const m of s.commits) {
      while (cells.length <= m.pos) cells.push(blankAr(cells.length, maskId)); // AR traces grow to the right
      const c = cells[m.pos];
      c.token = m.token;
      c.state = 'committed';
      c.conf = m.conf;
      c.committedAt = s.step;
      c.ghost = null;
      c.remasked = false;
      c.byVisitor = false;
      c.fresh = current;
    }
    for (const [pos, token, prob] of s.ghosts) if (cells[pos].state === 'masked') cells[pos].ghost = { token, prob };
    if (s.fill) {
      for (let p = s.fill.from; p < s.fill.to; p++) {
        cells[p].token = eot;
        cells[p].state = 'committed';
        cells[p].ghost = null;
      }
    }
  }
  // The first end-of-text in the generated region ends the answer; everything after it is tail.
  let ended = false;
  for (const c of cells) {
    if (!c.generated || (c.pos < trace.promptLength && trace.kind === 'ar')) continue;
    if (ended && c.state !== 'masked') c.state = 'tail';
    else if (c.state === 'committed' && c.token === eot && c.pos >= trace.promptLength) {
      c.state = 'end';
      ended = true;
    }
  }
  return cells;
}

export type TimeAxis = 'passes' | 'ms';

/** Elapsed time of each step on an axis: cumulative forward passes, or cumulative model + sampler ms. */
export function stepTimes(steps: readonly TraceStep[], axis: TimeAxis): number[] {
  let ms = 0;
  return steps.map((s) => (axis === 'passes' ? s.forwardPasses : (ms += s.modelMs + s.samplerMs)));
}

/** Steps completed by time t on the axis (binary search over the cumulative times). */
export function stepAt(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t + 1e-9) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface StepSeries {
  committed: number[];
  meanConfidence: number[];
}

/** Per step: tokens committed, and their mean confidence (the diffusion charts). */
export function stepSeries(steps: readonly TraceStep[]): StepSeries {
  return {
    committed: steps.map((s) => s.commits.length),
    meanConfidence: steps.map((s) =>
      s.commits.length ? s.commits.reduce((a, c) => a + c.conf, 0) / s.commits.length : 0,
    ),
  };
}

export { parseTraceFile } from './trace-file.ts';
