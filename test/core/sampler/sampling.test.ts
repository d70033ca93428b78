// Token choice (sampling.ts): chooseToken's pruned Gumbel-max is exactly the plain loop it replaced — the same
// token and the same random draws — on flat, peaked, tied and filtered rows.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/sampler/rng.ts';
import { chooseToken, type LogitsRow } from '../../../src/core/sampler/sampling.ts';

/** The plain Gumbel-max loop: a noise draw for every token with a finite logit, in order; ties to the lowest. */
function plainChoice(logits: LogitsRow, temperature: number, rng: Rng): number {
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

function rows(seed: number): Float32Array[] {
  const r = new Rng(seed);
  const out: Float32Array[] = [];
  for (const spread of [0.1, 1, 4, 12, 40]) {
    for (const n of [1, 2, 7, 2048]) {
      const row = Float32Array.from({ length: n }, () => (r.uniform() - 0.5) * spread);
      out.push(row);
      const filtered = row.map((x, i) => (i % 3 === 1 ? -Infinity : x)); // top-k / top-p / banned tokens
      out.push(filtered);
      out.push(row.map((x) => Math.round(x))); // many exact ties
      out.push(row.map((x, i) => (i === n - 1 ? x + 30 : x))); // one token far ahead
    }
  }
  out.push(new Float32Array([-Infinity, -Infinity, -Infinity]), new Float32Array([NaN, 1, NaN, 1]));
  return out;
}

describe('chooseToken', () => {
  it('picks what the plain Gumbel-max loop picks, with the same draws, at every temperature', () => {
    let checked = 0;
    for (const seed of [1, 2, 3, 42]) {
      for (const row of rows(seed)) {
        for (const temperature of [0.3, 0.9, 1, 2.5]) {
          const [a, b] = [new Rng(seed * 7919 + row.length), new Rng(seed * 7919 + row.length)];
          for (let k = 0; k < 5; k++) expect(chooseToken(row, temperature, a)).toBe(plainChoice(row, temperature, b));
          expect(a.nextUint32()).toBe(b.nextUint32()); // the stream continues in step
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('samples in proportion to softmax(logits / temperature)', () => {
    const logits = new Float32Array([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
    const rng = new Rng(5);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20_000; i++) counts[chooseToken(logits, 1, rng)]++;
    expect(counts.map((c) => c / 20_000).map((p) => Math.round(p * 100) / 100)).toEqual([0.5, 0.3, 0.2]);
  });
});
