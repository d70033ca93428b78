// Measures of generated text shared by the quality eval and the benchmark: repetition that a low perplexity would
// hide (repeated 4-grams, doom loops, unigram entropy), distinct-2, and whether a run ended cleanly.
import type { Trace } from '../trace/trace.ts';

export const words = (text: string) => text.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? [];

function ngrams(ws: string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= ws.length; i++) out.push(ws.slice(i, i + n).join(' '));
  return out;
}

/** Unique bigrams / bigrams, over one sample's words. */
export function distinct2(text: string): number {
  const g = ngrams(words(text), 2);
  return g.length ? new Set(g).size / g.length : 1;
}

/** Share of a sample's 4-grams that repeat an earlier 4-gram of the same sample. */
export function repeated4(text: string): number {
  const g = ngrams(words(text), 4);
  const seen = new Set<string>();
  let repeats = 0;
  for (const x of g) {
    if (seen.has(x)) repeats++;
    seen.add(x);
  }
  return g.length ? repeats / g.length : 0;
}

/** An end-of-text was generated and everything after it is end-of-text too. */
export function cleanTermination(trace: Trace): boolean {
  const gen = trace.final.slice(trace.promptLength);
  const first = gen.indexOf(trace.endOfTextId);
  return first >= 0 && gen.slice(first).every((id) => id === trace.endOfTextId);
}

/** Sentences of a text: up to . ! or ? (and a closing quote), or the end. */
export function sentences(text: string): string[] {
  return (text.match(/[^.!?]+(?:[.!?]+["”']?|$)/g) ?? []).map((s) => s.trim()).filter(Boolean);
}

/** A doom loop: one sentence of three or more words said three or more times in one sample. */
export function doomLoop(text: string): boolean {
  const counts = new Map<string, number>();
  for (const s of sentences(text)) {
    const ws = words(s);
    if (ws.length < 3) continue;
    const key = ws.join(' ');
    const c = (counts.get(key) ?? 0) + 1;
    if (c >= 3) return true;
    counts.set(key, c);
  }
  return false;
}

/** Entropy (nats) of the unigram distribution of one sample's token ids, as MDLM reports it beside gen-PPL. */
export function unigramEntropy(ids: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / ids.length) * Math.log(c / ids.length);
  return h;
}

/**
 * How out of order a run drafted its answer: the span of the first quarter of the answer's positions to be
 * written (by the step that first committed each; ties by position) divided by the answer's length. Left to right
 * (an AR model, small blocks) gives 0.25; an outline across the whole text, near 1. Null for an empty answer.
 */
export function draftSpread(trace: Trace): number | null {
  const start = trace.promptLength;
  const n = trace.answer.length;
  if (n === 0) return null;
  const firstStep = new Map<number, number>();
  trace.steps.forEach((step, i) => {
    for (const c of step.commits) {
      if (c.pos >= start && c.pos < start + n && !firstStep.has(c.pos)) firstStep.set(c.pos, i);
    }
  });
  const order = [...firstStep].sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([pos]) => pos);
  const quarter = order.slice(0, Math.ceil(n / 4));
  if (quarter.length === 0) return null;
  return (Math.max(...quarter) - Math.min(...quarter) + 1) / n;
}
