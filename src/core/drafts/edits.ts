// The visitor's edits of a draft (issue 28): re-mask a span, or write tokens at a position (a typed word, after
// the tokenizer). They are checked against the trace they edit and become one step of that trace, a visitor step,
// after which the run goes on (resume.ts). Positions are absolute canvas positions, as in the trace.
import { DraftEditError } from '../errors.ts';
import type { TokenText } from '../models/types.ts';
import type { DraftPoint } from '../sampler/run.ts';
import { canvasAt, type Edit, type Trace, type TraceStep } from '../trace/trace.ts';

/** Positions [from, to) become masks again; tokens written from `pos` on. */
export type DraftEdit = { kind: 'remask'; from: number; to: number } | { kind: 'set'; pos: number; tokens: number[] };

/** A word typed at `pos`, before the tokenizer (the engine turns it into a `set`: typedEdits). */
export interface TypedEdit {
  kind: 'type';
  pos: number;
  text: string;
}

export const describeEdit = (e: DraftEdit | TypedEdit): string =>
  e.kind === 'remask'
    ? `re-mask ${e.to - e.from > 1 ? `${e.from}-${e.to - 1}` : e.from}`
    : e.kind === 'set'
      ? `set ${e.pos}=[${e.tokens.join(', ')}]`
      : `type ${e.pos}=${JSON.stringify(e.text)}`;

const WORDLIKE_START = /^[\p{L}\p{N}]/u;
const WORDLIKE_END = /[\p{L}\p{N}]$/u;

/**
 * Position p continues the word written at p - 1 (its token starts with a letter or digit, no space, and the one
 * before ends with one): "gar" + "den". An edit works on whole words, so it may not start or end there.
 */
export function continuesWord(canvas: readonly number[], p: number, maskId: number, tokenText: TokenText): boolean {
  if (p <= 0 || p >= canvas.length || canvas[p] === maskId || canvas[p - 1] === maskId) return false;
  return WORDLIKE_START.test(tokenText(canvas[p])) && WORDLIKE_END.test(tokenText(canvas[p - 1]));
}

/** The first position of the word holding p. */
export function wordStart(canvas: readonly number[], p: number, maskId: number, tokenText: TokenText): number {
  while (continuesWord(canvas, p, maskId, tokenText)) p--;
  return p;
}

/**
 * A typed word at `pos` as edits: its tokens written there (with a space before it where the tokenizer would put
 * one), and what is left of the words it lands on re-masked (the model fills them): a canvas has a fixed length, so
 * a word longer than the one it replaces writes over the next positions.
 */
export function typedEdits(
  canvas: readonly number[],
  edit: TypedEdit,
  maskId: number,
  tokenText: TokenText,
  encode: (text: string) => number[],
): DraftEdit[] {
  const { pos, text } = edit;
  if (text.trim() === '') throw new DraftEditError(describeEdit(edit), 'type a word (the text is empty)');
  // a word takes the space before it as the tokenizer writes words: from the token it replaces, or on a mask from
  // what stands before it (none after a space or a line break)
  const replaced = canvas[pos];
  const before = pos > 0 && canvas[pos - 1] !== maskId ? tokenText(canvas[pos - 1]) : ' ';
  const spaceBefore =
    replaced === undefined || replaced === maskId ? !/\s$/.test(before) : /^\s/.test(tokenText(replaced));
  const spaced = spaceBefore && !/^\s/.test(text);
  const tokens = encode(spaced ? ` ${text}` : text);
  if (tokens.length === 0) throw new DraftEditError(describeEdit(edit), 'the tokenizer gives no token for it');
  const written = pos + tokens.length;
  let end = pos + 1; // the end of the last word the typed tokens land on
  while (end < canvas.length && (end < written || continuesWord(canvas, end, maskId, tokenText))) end++;
  const edits: DraftEdit[] = [{ kind: 'set', pos, tokens }];
  if (written < end) edits.push({ kind: 'remask', from: written, to: end });
  return edits;
}

/** The span of canvas positions an edit touches: [from, to). */
const spanOf = (e: DraftEdit) =>
  e.kind === 'remask' ? { from: e.from, to: e.to } : { from: e.pos, to: e.pos + e.tokens.length };

interface CheckContext {
  /** The canvas the edits apply to. */
  canvas: readonly number[];
  /** Positions a visitor may edit: the run's generated ones. */
  editable: (p: number) => boolean;
  /** The furthest a set may write (exclusive): the canvas end, or an AR model's budget. */
  limit: number;
  promptLength: number;
  maskId: number;
  vocabSize: number;
  tokenText: TokenText;
}

/** Every edit in range, outside the prompt, on whole words, over no other edit; throws DraftEditError. */
export function checkEdits(edits: readonly DraftEdit[], c: CheckContext): void {
  const taken: { from: number; to: number; edit: string; remask: boolean }[] = [];
  for (const e of edits) {
    const name = describeEdit(e);
    const { from, to } = spanOf(e);
    const ints = e.kind === 'remask' ? [e.from, e.to] : [e.pos, ...e.tokens];
    if (!ints.every(Number.isInteger)) throw new DraftEditError(name, 'positions and tokens must be integers');
    if (e.kind === 'set') {
      if (e.tokens.length === 0) throw new DraftEditError(name, 'writes no token');
      const bad = e.tokens.find((t) => t < 0 || t >= c.vocabSize || t === c.maskId);
      if (bad !== undefined) {
        throw new DraftEditError(
          name,
          bad === c.maskId
            ? 'the mask is not a token to write: re-mask instead'
            : `token ${bad} is outside 0..${c.vocabSize - 1}`,
        );
      }
    }
    if (from >= to) throw new DraftEditError(name, 'is empty (its end must come after its start)');
    if (from < 0 || to > c.limit) {
      throw new DraftEditError(
        name,
        `is outside the canvas: positions ${c.promptLength}..${c.limit - 1} can be edited`,
      );
    }
    for (let p = from; p < to; p++) {
      if (!c.editable(p)) {
        throw new DraftEditError(
          name,
          p < c.promptLength
            ? `position ${p} is in the prompt (0..${c.promptLength - 1}): the prompt is given text, edit it in the prompt box`
            : `position ${p} was not written by the model`,
        );
      }
    }
    // a boundary inside a word, unless another edit takes the other side of it
    const covered = (q: number) => edits.some((o) => o !== e && spanOf(o).from <= q && q < spanOf(o).to);
    for (const [p, other] of [
      [from, from - 1],
      [to, to],
    ]) {
      if (p < c.canvas.length && continuesWord(c.canvas, p, c.maskId, c.tokenText) && !covered(other)) {
        const start = wordStart(c.canvas, p, c.maskId, c.tokenText);
        throw new DraftEditError(
          name,
          `position ${p} is inside a word (it continues the token at ${p - 1}; the word starts at ${start}): edits work on whole words`,
        );
      }
    }
    // two re-masks may overlap (the union is masked); a written token may not be written or masked twice
    const overlap = taken.find((t) => from < t.to && t.from < to && !(t.remask && e.kind === 'remask'));
    if (overlap) throw new DraftEditError(name, `overlaps ${overlap.edit}`);
    taken.push({ from, to, edit: name, remask: e.kind === 'remask' });
  }
}

/** The visitor's step: the edits as trace edits (prob 1: no model judged them). */
function visitorStep(after: readonly TraceStep[], edits: Edit[], block: number, truncate?: number): TraceStep {
  return {
    step: after.length + 1,
    block,
    forwardPasses: after.at(-1)?.forwardPasses ?? 0,
    positions: 0,
    modelMs: 0,
    samplerMs: 0,
    commits: [],
    edits,
    ghosts: [],
    visitor: true,
    ...(truncate !== undefined ? { truncate } : {}),
  };
}

function checkStep(trace: Trace, atStep: number): void {
  if (!Number.isInteger(atStep) || atStep < 0 || atStep > trace.steps.length) {
    throw new DraftEditError(`step ${atStep}`, `the run has steps 0..${trace.steps.length} to resume from`);
  }
}

/**
 * A diffusion (or block-diffusion) draft at `atStep` with the visitor's edits: the steps kept and the canvas to
 * go on from. Only generated positions (masks in the run's initial canvas) can be edited.
 */
export function diffusionDraft(
  trace: Trace,
  atStep: number,
  edits: readonly DraftEdit[],
  vocabSize: number,
  tokenText: TokenText,
  blockOf: (p: number) => number,
): DraftPoint {
  if (trace.kind !== 'diffusion') throw new DraftEditError(trace.model, 'is not a diffusion run');
  checkStep(trace, atStep);
  const canvas = canvasAt(trace, atStep);
  const { maskId } = trace;
  checkEdits(edits, {
    canvas,
    editable: (p) => trace.initial[p] === maskId,
    limit: canvas.length,
    promptLength: trace.promptLength,
    maskId,
    vocabSize,
    tokenText,
  });
  const steps = trace.steps.slice(0, atStep);
  if (edits.length === 0) return { steps, canvas };
  const changes: Edit[] = [];
  const write = (pos: number, to: number) => {
    if (canvas[pos] !== to)
      changes.push({ pos, from: canvas[pos], to, text: to === maskId ? '' : tokenText(to), prob: 1 });
    canvas[pos] = to;
  };
  for (const e of edits) {
    if (e.kind === 'remask') for (let p = e.from; p < e.to; p++) write(p, maskId);
    else e.tokens.forEach((t, i) => write(e.pos + i, t));
  }
  changes.sort((a, b) => a.pos - b.pos);
  const block = changes.length ? blockOf(changes[0].pos) : (steps.at(-1)?.block ?? 0);
  return { steps: [...steps, visitorStep(steps, changes, block)], canvas };
}

/**
 * An AR draft at `atStep` with the visitor's edits: a left-to-right model keeps the text before the first edit,
 * the typed word there if the first edit is one, and nothing after it (what followed cannot be revised, only
 * written anew). `limit`: the run's last position + 1 (prompt + its token budget). Returns the edits it dropped.
 */
export function arDraft(
  trace: Trace,
  atStep: number,
  edits: readonly DraftEdit[],
  vocabSize: number,
  tokenText: TokenText,
  limit: number,
): DraftPoint & { dropped: DraftEdit[] } {
  if (trace.kind !== 'ar') throw new DraftEditError(trace.model, 'is not an AR run');
  checkStep(trace, atStep);
  const canvas = canvasAt(trace, atStep);
  const P = trace.promptLength;
  // a position the AR run has written, or the next one (a word typed right after its text)
  checkEdits(edits, {
    canvas,
    editable: (p) => p >= P,
    limit,
    promptLength: P,
    maskId: -1,
    vocabSize,
    tokenText,
  });
  const steps = trace.steps.slice(0, atStep);
  if (edits.length === 0) return { steps, canvas, dropped: [] };
  const first = edits.reduce((a, b) => (spanOf(b).from < spanOf(a).from ? b : a));
  const cut = spanOf(first).from;
  if (cut > canvas.length) {
    throw new DraftEditError(
      describeEdit(first),
      `the AR text ends at ${canvas.length}: an edit must start at or before it`,
    );
  }
  const before = canvas.slice();
  canvas.length = cut;
  const changes: Edit[] = [];
  if (first.kind === 'set') {
    first.tokens.forEach((t, i) => {
      changes.push({ pos: cut + i, from: before[cut + i] ?? t, to: t, text: tokenText(t), prob: 1 });
      canvas.push(t);
    });
  }
  return { steps: [...steps, visitorStep(steps, changes, 0, cut)], canvas, dropped: edits.filter((e) => e !== first) };
}
