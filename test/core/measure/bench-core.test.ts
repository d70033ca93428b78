import { describe, expect, it } from 'vitest';
import { figure, frontierLayout, type FrontierRun } from '../../../src/core/measure/bench-core.ts';

describe('figure', () => {
  it('gives the median with min and max, for odd and even counts', () => {
    expect(figure([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5 });
    expect(figure([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 });
  });
});

describe('frontierLayout', () => {
  const run = (name: string, tps: number, ppl: number): FrontierRun => {
    const f = (x: number) => ({ median: x, min: x, max: x });
    return {
      name,
      tokens: 32,
      passes: f(1),
      wallMs: f(1),
      tokensPerSecond: f(tps),
      genPpl: f(ppl),
      entropy: 4,
      doomLoops: 0,
      draftSpread: 0.25,
      samplerShare: f(0),
    };
  };

  it('puts faster runs to the right and better (lower) perplexity lower, inside the plot', () => {
    const [slow, fast, ar] = frontierLayout(
      [run('diffusion a', 10, 20), run('diffusion b', 40, 40), run('AR, KV cache', 20, 5)],
      600,
      300,
    );
    expect(fast.x).toBeGreaterThan(slow.x);
    expect(fast.y).toBeLessThan(slow.y); // higher perplexity is drawn higher
    expect(ar.ar).toBe(true);
    for (const p of [slow, fast, ar]) {
      expect(p.x).toBeGreaterThanOrEqual(50);
      expect(p.x).toBeLessThanOrEqual(580);
      expect(p.y).toBeGreaterThanOrEqual(10);
      expect(p.y).toBeLessThanOrEqual(260);
    }
  });
});
