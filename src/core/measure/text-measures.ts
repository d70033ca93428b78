// Measures of generated text shared by the quality eval and the benchmark: repetition that a low perplexity would
// hide (repeated 4-grams, doom loops, unigram entropy), distinct-2, and whether a run ended cleanly.
import type { Trace } from '../trace/trace.ts';

/** A word of a text (lower-cased) and where it stands in it: [start, end) in characters. */
export interface WordAt {
  word: string;
  start: number;
  end: number;
}

export function wordsAt(text: string): WordAt[] {
  return [...text.matchAll(/[a-z]+(?:'[a-z]+)?/gi)].map((m) => ({
    word: m[0].toLowerCase(),
    start: m.index,
    end: m.index + m[0].length,
  }));
}

export const words = (text: string) => wordsAt(text).map((w) => w.word);

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
export const repeated4 = (text: string): number => repetitionOf(text).repeated4;

/** An end-of-text was generated and everything after it is end-of-text too. */
export function cleanTermination(trace: Trace): boolean {
  const gen = trace.final.slice(trace.promptLength);
  const first = gen.indexOf(trace.endOfTextId);
  return first >= 0 && gen.slice(first).every((id) => id === trace.endOfTextId);
}

/** Sentences of a text: up to . ! or ? (and a closing quote), or the end, with where each stands. */
function sentencesAt(text: string): { sentence: string; start: number; end: number }[] {
  return [...text.matchAll(/[^.!?]+(?:[.!?]+["”']?|$)/g)]
    .map((m) => {
      const lead = m[0].length - m[0].trimStart().length;
      const sentence = m[0].trim();
      return { sentence, start: m.index + lead, end: m.index + lead + sentence.length };
    })
    .filter((s) => s.sentence);
}

export function sentences(text: string): string[] {
  return sentencesAt(text).map((s) => s.sentence);
}

/** A doom loop: one sentence of three or more words said three or more times in one sample. */
export const doomLoop = (text: string): boolean => repetitionOf(text).doomLoop;

/** Something said more than once in a text: a sentence (3+ words) or a 4-gram of words, and where each time. */
export interface Repeat {
  kind: 'sentence' | '4-gram';
  /** The words, lower-cased, as compared. */
  text: string;
  count: number;
  /** Every occurrence: [start, end) in characters. */
  spans: { start: number; end: number }[];
}

export interface Repetition {
  /** Share of the 4-grams that repeat an earlier one (repeated4). */
  repeated4: number;
  /** A sentence of 3+ words said 3+ times (doomLoop). */
  doomLoop: boolean;
  /** Sentences said twice or more, then 4-grams said twice or more, in order of first occurrence. */
  repeats: Repeat[];
}

/**
 * The repetition in one text, and where it stands: the one function behind the eval's repeated 4-grams and doom
 * loops and the page's loop marks, so a mark and a figure can never disagree.
 */
export function repetitionOf(text: string): Repetition {
  const ws = wordsAt(text);
  const grams = new Map<string, number[]>();
  for (let i = 0; i + 4 <= ws.length; i++) {
    const key = ws
      .slice(i, i + 4)
      .map((w) => w.word)
      .join(' ');
    grams.set(key, [...(grams.get(key) ?? []), i]);
  }
  const total = Math.max(0, ws.length - 3);
  const said = new Map<string, { start: number; end: number }[]>();
  for (const s of sentencesAt(text)) {
    const key = words(s.sentence).join(' ');
    if (key.split(' ').length < 3) continue;
    said.set(key, [...(said.get(key) ?? []), { start: s.start, end: s.end }]);
  }
  const sentenceRepeats: Repeat[] = [...said]
    .filter(([, spans]) => spans.length >= 2)
    .map(([key, spans]) => ({ kind: 'sentence', text: key, count: spans.length, spans }));
  const gramRepeats: Repeat[] = [...grams]
    .filter(([, at]) => at.length >= 2)
    .map(([key, at]) => ({
      kind: '4-gram',
      text: key,
      count: at.length,
      spans: at.map((i) => ({ start: ws[i].start, end: ws[i + 3].end })),
    }));
  return {
    repeated4: total ? (total - grams.size) / total : 0,
    doomLoop: sentenceRepeats.some((r) => r.count >= 3),
    repeats: [...sentenceRepeats, ...gramRepeats].sort((a, b) => a.spans[0].start - b.spans[0].start),
  };
}

/** The per-run measures of the eval and the page: the same figures from the same code for the same text. */
export interface SampleMeasures {
  repeated4: number;
  distinct2: number;
  /** Nats, over the answer's token ids (null for an empty answer). */
  entropy: number | null;
  doomLoop: boolean;
}

export function sampleMeasures(text: string, answer: readonly number[]): SampleMeasures {
  const r = repetitionOf(text);
  return {
    repeated4: r.repeated4,
    distinct2: distinct2(text),
    entropy: answer.length ? unigramEntropy(answer) : null,
    doomLoop: r.doomLoop,
  };
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
