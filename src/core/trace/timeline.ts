// The denoising timeline: the whole run as one picture, position across and step down (as the LLaDA paper
// and the dLLM visualiser draw it). Each mark is one token decision at one position: when it was made, what it
// was, how sure, and until which step it stood. The shape tells how the model wrote: a diagonal left to right
// (AR), a staircase of blocks, an outline filled in anywhere, edits, and where the end was set.
import type { ReplayTrace } from './replay.ts';

/** `typed` and `cleared`: the visitor wrote a token or re-masked one (a paused draft, src/core/drafts). */
export type MarkKind = 'commit' | 'end' | 'edit' | 'remask' | 'fill' | 'typed' | 'cleared';

export interface TimelineMark {
  kind: MarkKind;
  pos: number;
  /** 1-based step of the decision. */
  step: number;
  /** The step from which it no longer stands (a later edit or re-mask), or steps + 1. */
  until: number;
  token: number;
  /** The confidence the sampler ranked it by (commit, end), the old token's probability (edit, re-mask); 1 for a fill. */
  conf: number;
}

export interface Timeline {
  /** Positions drawn: [from, to) — from the first masked position of the initial canvas to its end. */
  from: number;
  to: number;
  /** Steps so far (rows). */
  steps: number;
  marks: TimelineMark[];
}

/**
 * The timeline of a trace so far (it may still be streaming): one pass over its steps. The AR model's canvas
 * grows as it writes, so its positions run from the prompt's end over `plannedSteps` tokens (the most it may write).
 */
export function timelineOf(
  trace: Pick<ReplayTrace, 'initial' | 'steps' | 'maskId' | 'endOfTextId' | 'kind' | 'promptLength'>,
  plannedSteps = 0,
): Timeline {
  const firstMask = trace.initial.indexOf(trace.maskId);
  const from = trace.kind === 'ar' || firstMask < 0 ? trace.promptLength : firstMask;
  let to = Math.max(trace.initial.length, trace.kind === 'ar' ? trace.promptLength + plannedSteps : 0);
  for (const s of trace.steps) for (const c of [...s.commits, ...s.edits]) to = Math.max(to, c.pos + 1);
  const steps = trace.steps.length;
  const marks: TimelineMark[] = [];
  const standing = new Map<number, TimelineMark>(); // the mark standing at a position now
  const decide = (mark: TimelineMark) => {
    const before = standing.get(mark.pos);
    if (before) before.until = mark.step;
    standing.set(mark.pos, mark); // a re-mask stands too: the cell is masked until the next commit

    marks.push(mark);
  };
  for (const s of trace.steps) {
    if (s.truncate !== undefined) {
      // an AR visitor step: what stood after the cut is gone
      for (const [pos, mark] of standing) {
        if (pos < s.truncate) continue;
        mark.until = s.step;
        standing.delete(pos);
      }
    }
    for (const e of s.edits) {
      const remask = e.to === trace.maskId;
      const kind = s.visitor ? (remask ? 'cleared' : 'typed') : remask ? 'remask' : 'edit';
      decide({ kind, pos: e.pos, step: s.step, until: steps + 1, token: e.to, conf: e.prob });
    }
    for (const c of s.commits) {
      const kind = c.token === trace.endOfTextId ? 'end' : 'commit';
      decide({ kind, pos: c.pos, step: s.step, until: steps + 1, token: c.token, conf: c.conf });
    }
    if (s.fill) {
      for (let p = s.fill.from; p < s.fill.to; p++) {
        decide({ kind: 'fill', pos: p, step: s.step, until: steps + 1, token: trace.endOfTextId, conf: 1 });
      }
    }
  }
  return { from, to, steps, marks };
}

/** The mark standing at `pos` during `step` (1-based), if any: what a hover or a tap on that cell shows. */
export function markAt(timeline: Timeline, pos: number, step: number): TimelineMark | undefined {
  let found: TimelineMark | undefined;
  for (const m of timeline.marks) if (m.pos === pos && m.step <= step && step < m.until) found = m;
  return found;
}
