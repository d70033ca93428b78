// Many seeds at once (issue 28): how much a model's samples for one prompt differ from each other. An AR model of
// this size is reported to open nearly every sample with the same word where a masked-diffusion model varies
// (arXiv 2603.22075); these figures let a visitor see it for their own prompt.
import { words } from './text-measures.ts';

export interface Diversity {
  samples: number;
  /** Share of the samples that open with the most common first word (1: every sample starts alike). */
  sameFirstWord: number;
  /** The most common first word. */
  firstWord: string | null;
  /** Distinct word bigrams over all bigrams, pooled across the samples (higher: more varied). */
  distinct2: number;
  /** Mean BLEU-4 of each sample against the others (Zhu et al. 2018's self-BLEU; higher: more alike). */
  selfBleu: number;
}

function ngramCounts(ws: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= ws.length; i++) {
    const key = ws.slice(i, i + n).join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Sentence BLEU-4 of `hypothesis` against `references` (word lists): clipped n-gram precisions for n = 1..4 with
 * uniform weights, a precision with no match counted as 0.1 matches (smoothing, as NLTK's method 1 with epsilon
 * 0.1), and the brevity penalty against the reference closest in length. 0 for a hypothesis of fewer than 4 words.
 */
export function bleu4(hypothesis: readonly string[], references: readonly (readonly string[])[]): number {
  if (hypothesis.length === 0 || references.length === 0) return 0;
  let logSum = 0;
  for (let n = 1; n <= 4; n++) {
    const hyp = ngramCounts(hypothesis, n);
    const total = Math.max(0, hypothesis.length - n + 1);
    if (total === 0) return 0;
    const maxRef = new Map<string, number>();
    for (const r of references) for (const [g, c] of ngramCounts(r, n)) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, c));
    let matched = 0;
    for (const [g, c] of hyp) matched += Math.min(c, maxRef.get(g) ?? 0);
    logSum += Math.log((matched || 0.1) / total) / 4;
  }
  const closest = references
    .map((r) => r.length)
    .reduce((a, b) => (Math.abs(b - hypothesis.length) < Math.abs(a - hypothesis.length) ? b : a));
  const brevity = hypothesis.length >= closest ? 1 : Math.exp(1 - closest / hypothesis.length);
  return brevity * Math.exp(logSum);
}

/** How varied a model's samples of one prompt are (their answer texts). */
export function diversityOf(texts: readonly string[]): Diversity {
  const ws = texts.map(words);
  const firsts = new Map<string, number>();
  for (const w of ws) if (w.length) firsts.set(w[0], (firsts.get(w[0]) ?? 0) + 1);
  const [firstWord, most] = [...firsts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0] ?? [null, 0];
  const pooled = new Map<string, number>();
  let bigrams = 0;
  for (const w of ws) {
    for (const [g, c] of ngramCounts(w, 2)) pooled.set(g, (pooled.get(g) ?? 0) + c);
    bigrams += Math.max(0, w.length - 1);
  }
  const others = (i: number) => ws.filter((_, j) => j !== i);
  const bleus = ws.length > 1 ? ws.map((w, i) => bleu4(w, others(i))) : [];
  return {
    samples: texts.length,
    sameFirstWord: texts.length ? most / texts.length : 0,
    firstWord,
    distinct2: bigrams ? pooled.size / bigrams : 1,
    selfBleu: bleus.length ? bleus.reduce((a, b) => a + b, 0) / bleus.length : 0,
  };
}
