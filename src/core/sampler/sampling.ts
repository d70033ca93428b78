// Per-position math shared by both samplers: filtering (top-k, top-p), probabilities, token choice by
// Gumbel-max, and the confidence measures of masked-diffusion decoding. Sums run in float64 (JS numbers)
// over a float32 logits row, so results do not depend on the backend's summation order beyond the logits.
import { gumbelOf, type Rng } from './rng.ts';

/** One position's logits: a view into the model's float32 output, or a float64 working copy. */
export type LogitsRow = Float32Array | Float64Array;

/** Keeps the k largest logits (ties at the boundary kept), the rest to -Infinity. Returns a new row. */
export function topKFilter(logits: LogitsRow, k: number): LogitsRow {
  if (k <= 0 || k >= logits.length) return logits;
  const sorted = Float64Array.from(logits).sort().reverse();
  const cutoff = sorted[k - 1];
  return logits.map((x) => (x >= cutoff ? x : -Infinity));
}

/** Nucleus filter: keeps the smallest set of most likely tokens whose probability reaches p. */
export function topPFilter(logits: LogitsRow, p: number): LogitsRow {
  if (p >= 1) return logits;
  const probs = softmax(logits);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  const keep = new Uint8Array(logits.length);
  let total = 0;
  for (const i of order) {
    keep[i] = 1;
    total += probs[i];
    if (total >= p) break;
  }
  return logits.map((x, i) => (keep[i] ? x : -Infinity));
}

export function softmax(logits: LogitsRow): Float64Array {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i] - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Index of the largest value; ties go to the lowest index. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

// Upper bounds of gumbelOf(u) (increasing in u) by where u lies, for chooseToken's pruning; the last holds for any
// draw of Rng.uniform, whose largest value is (2^32 - 0.5) / 2^32 (noise ~22.9). A hair above each, for rounding.
const U1 = 0.9;
const G1 = gumbelOf(U1) + 1e-9;
const U2 = 0.999;
const G2 = gumbelOf(U2) + 1e-9;
const G_MAX = 23.5;

let draws = new Float64Array(0);

/**
 * Gumbel-max sampling from softmax(logits / temperature); temperature 0 is argmax and draws no noise. One uniform
 * draw per token with a finite logit, in index order, and the token whose logit / temperature + noise is largest
 * (ties: the lowest index): exactly `argmax_i logits[i] / temperature + rng.gumbel()`. The logs of a token's noise
 * are computed only when a bound on it says the token could still win: most of a vocabulary lies far below the
 * most likely token, so this skips most of the 2 x vocabulary logs a row would cost (the page's hottest loop).
 */
export function chooseToken(logits: LogitsRow, temperature: number, rng: Rng): number {
  if (temperature === 0) return argmax(logits);
  const n = logits.length;
  if (draws.length < n) draws = new Float64Array(n);
  let top = -1;
  for (let i = 0; i < n; i++) {
    if (logits[i] === -Infinity) continue;
    draws[i] = rng.uniform();
    if (logits[i] === logits[i] && (top < 0 || logits[i] > logits[top])) top = i; // NaN never wins
  }
  if (top < 0) return 0; // every token ruled out: as the plain loop, which never beats -Infinity
  let best = top;
  let bestScore = logits[top] / temperature + gumbelOf(draws[top]);
  for (let i = 0; i < n; i++) {
    if (i === top || logits[i] === -Infinity) continue;
    const base = logits[i] / temperature;
    const u = draws[i];
    if (base + (u <= U1 ? G1 : u <= U2 ? G2 : G_MAX) < bestScore) continue; // cannot reach the best score
    const score = base + gumbelOf(u);
    if (score > bestScore || (score === bestScore && i < best)) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

export type ConfidenceKind = 'probability' | 'margin' | 'entropy' | 'random';

/** What one pass over a logits row yields: enough for every confidence measure without a probs array. */
export interface RowSummary {
  /** Index of the largest logit (ties: lowest index). */
  best: number;
  /** Probabilities of the two most likely tokens. */
  p1: number;
  p2: number;
  /** log sum exp of the row: p(t) = exp(row[t] - logSumExp). */
  logSumExp: number;
  /** Shannon entropy of softmax(row), in nats. */
  entropy: number;
}

export function summarizeRow(row: LogitsRow): RowSummary {
  let best = 0;
  let max = -Infinity;
  let second = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const x = row[i];
    if (x > max) {
      second = max;
      max = x;
      best = i;
    } else if (x > second) second = x;
  }
  let sum = 0;
  let weighted = 0; // sum of e_i * (x_i - max)
  for (let i = 0; i < row.length; i++) {
    const d = row[i] - max;
    if (d === -Infinity) continue;
    const e = Math.exp(d);
    sum += e;
    weighted += e * d;
  }
  const logSumExp = max + Math.log(sum);
  return {
    best,
    p1: 1 / sum,
    p2: second === -Infinity ? 0 : Math.exp(second - max) / sum,
    logSumExp,
    // H = log S - sum(p_i * d_i) with d_i = x_i - max
    entropy: Math.log(sum) - weighted / sum,
  };
}

/** Probability of `token` under softmax(row), given the row's summary. */
export function probabilityOf(row: LogitsRow, summary: RowSummary, token: number): number {
  return Math.exp(row[token] - summary.logSumExp);
}

/**
 * Confidence of committing `token`: probability p(token) (LLaDA low_confidence, Dream maskgit_plus);
 * margin p1 - p2 (Dream topk_margin); entropy = -H(p) (Dream entropy: higher is more certain);
 * random = uniform order (LLaDA "random").
 */
export function confidence(kind: ConfidenceKind, row: LogitsRow, summary: RowSummary, token: number, rng: Rng): number {
  switch (kind) {
    case 'probability':
      return probabilityOf(row, summary, token);
    case 'margin':
      return summary.p1 - summary.p2;
    case 'entropy':
      return -summary.entropy;
    case 'random':
      return rng.uniform();
  }
}

/** What shapes a row before a token is chosen: guidance, then top-k, then top-p (transformers.js's order). */
export interface LogitsSettings {
  /** Classifier-free guidance scale w (0 = off): logits = u + (w + 1)(c - u) (LLaDA eq. 16). */
  cfgScale: number;
  topK: number;
  topP: number;
}

/**
 * The logits processors both samplers share: guidance, bans (tokens never chosen at a position), top-k and top-p,
 * then the row's summary. Without guidance or filters the model's float32 row is read in place (bans are set
 * aside and put back, since the row belongs to the model's output); otherwise one reused float64 buffer.
 */
export class LogitsPipeline {
  private readonly buffer: Float64Array | null;

  constructor(
    private readonly vocabSize: number,
    private readonly settings: LogitsSettings,
  ) {
    const plain = settings.cfgScale === 0 && settings.topK === 0 && settings.topP === 1;
    this.buffer = plain ? null : new Float64Array(vocabSize);
  }

  /**
   * The row at `offset` (a multiple of the vocabulary) of `cond`, guided by `uncond` when given, lowered by
   * `penalties` (token -> amount), with `banned` tokens at -Infinity and filtered; `use` sees the filtered row and
   * its summary, and its result is returned.
   */
  apply<T>(
    cond: Float32Array,
    uncond: Float32Array | undefined,
    offset: number,
    banned: readonly number[],
    use: (row: LogitsRow, summary: RowSummary) => T,
    penalties: ReadonlyMap<number, number> | null = null,
  ): T {
    const V = this.vocabSize;
    const { cfgScale, topK, topP } = this.settings;
    let row: LogitsRow;
    if (!this.buffer) row = cond.subarray(offset, offset + V);
    else {
      const buffer = this.buffer;
      if (uncond) {
        for (let v = 0; v < V; v++) {
          const u = uncond[offset + v];
          buffer[v] = u + (cfgScale + 1) * (cond[offset + v] - u);
        }
      } else for (let v = 0; v < V; v++) buffer[v] = cond[offset + v];
      row = buffer;
    }
    // changed in place and put back after (the plain row is the model's own output)
    const touched = [...(penalties?.keys() ?? []), ...banned];
    const kept = touched.map((id) => row[id]);
    for (const [id, amount] of penalties ?? []) row[id] -= amount;
    for (const id of banned) row[id] = -Infinity;
    let filtered = topK > 0 ? topKFilter(row, topK) : row;
    if (topP < 1) filtered = topPFilter(filtered, topP);
    const result = use(filtered, summarizeRow(filtered));
    for (let i = touched.length - 1; i >= 0; i--) row[touched[i]] = kept[i];
    return result;
  }
}
