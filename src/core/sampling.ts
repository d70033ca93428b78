// Per-position math shared by both samplers: filtering (top-k, top-p), probabilities, token choice by
// Gumbel-max, and the confidence measures of masked-diffusion decoding. Everything runs in float64 on a
// float32 logits row, so results do not depend on the backend's summation order beyond the logits.
import type { Rng } from './rng.ts';

/** Keeps the k largest logits (ties at the boundary kept), the rest to -Infinity. Returns a new row. */
export function topKFilter(logits: Float64Array, k: number): Float64Array {
  if (k <= 0 || k >= logits.length) return logits;
  const sorted = Float64Array.from(logits).sort().reverse();
  const cutoff = sorted[k - 1];
  return logits.map((x) => (x >= cutoff ? x : -Infinity));
}

/** Nucleus filter: keeps the smallest set of most likely tokens whose probability reaches p. */
export function topPFilter(logits: Float64Array, p: number): Float64Array {
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

export function softmax(logits: Float64Array): Float64Array {
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

/** Gumbel-max sampling from softmax(logits / temperature); temperature 0 is argmax and draws no noise. */
export function chooseToken(logits: Float64Array, temperature: number, rng: Rng): number {
  if (temperature === 0) return argmax(logits);
  let best = 0;
  let bestScore = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const score = logits[i] === -Infinity ? -Infinity : logits[i] / temperature + rng.gumbel();
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

export type ConfidenceKind = 'probability' | 'margin' | 'entropy' | 'random';

/**
 * Confidence of committing `token` at a position with probabilities `probs`:
 * probability p(token) (LLaDA low_confidence, Dream maskgit_plus); margin p1 - p2 (Dream topk_margin);
 * entropy = -H(p) (Dream entropy: higher is more certain); random = uniform order (LLaDA "random").
 */
export function confidence(kind: ConfidenceKind, probs: Float64Array, token: number, rng: Rng): number {
  switch (kind) {
    case 'probability':
      return probs[token];
    case 'margin': {
      let p1 = 0;
      let p2 = 0;
      for (const p of probs) {
        if (p > p1) {
          p2 = p1;
          p1 = p;
        } else if (p > p2) p2 = p;
      }
      return p1 - p2;
    }
    case 'entropy': {
      let h = 0;
      for (const p of probs) if (p > 0) h -= p * Math.log(p);
      return -h;
    }
    case 'random':
      return rng.uniform();
  }
}
