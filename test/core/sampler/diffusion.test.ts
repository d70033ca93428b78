import { describe, expect, it } from 'vitest';
import { generateDiffusion } from '../../../src/core/sampler/diffusion.ts';
import {
  dllmTransferCounts,
  dreamTransferCount,
  factorCount,
  transferCount,
} from '../../../src/core/sampler/schedule.ts';
import { generateAr } from '../../../src/core/sampler/ar.ts';
import { FakeCausalLM, FakeDenoiser, logitsFrom } from '../../helpers/fake-models.ts';
import { DIFFUSION_DEFAULTS, fitToContext, resolveDiffusionOptions } from '../../../src/core/sampler/options.ts';
import { softmax } from '../../../src/core/sampler/sampling.ts';
import { canvasAt, type Trace } from '../../../src/core/trace/trace.ts';

const V = 10; // 0 = end-of-text, 1 = mask, 2..9 ordinary tokens
const EOT = 0;
const MASK = 1;
const PROMPT = [5, 6];

/** Each position p predicts token `tok(p)` with probability conf[p]; the rest of the mass goes to token 9. */
function fixedBeliefs(conf: Record<number, number>, tok = (p: number) => 2 + (p % 7)) {
  return new FakeDenoiser(V, (seq) =>
    logitsFrom(seq.length, V, (p) => (conf[p] === undefined ? { 9: 1 } : { [tok(p)]: conf[p], 9: 1 - conf[p] })),
  );
}

/**
 * The sampler as the LLaDA paper states it: one block and argmax tokens unless a test says otherwise, so the
 * exact schedules below do not move with the page's defaults (which `defaults` pins on its own).
 */
const classic: typeof generateDiffusion = (model, input, options = {}, ctx) =>
  generateDiffusion(
    model,
    input,
    { blockLength: Math.max(1, options.genLength ?? DIFFUSION_DEFAULTS.genLength), temperature: 0, ...options },
    ctx,
  );

const commitsPerStep = (t: Trace) => t.steps.map((s) => s.commits.map((c) => c.pos));

describe('fixed schedule (LLaDA low-confidence remasking)', () => {
  const conf = { 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6 };

  it('commits one token per step, most confident first', async () => {
    const t = await classic(fixedBeliefs(conf), PROMPT, { genLength: 4, steps: 4 });
    expect(commitsPerStep(t)).toEqual([[3], [4], [5], [2]]);
    expect(t.final).toEqual([5, 6, 4, 5, 6, 7]);
    expect(t.stats.forwardPasses).toBe(4);
    expect(t.steps[0].commits[0]).toMatchObject({ pos: 3, token: 5, conf: 0.9 });
  });

  it('commits two per step with steps = genLength / 2', async () => {
    const t = await classic(fixedBeliefs(conf), PROMPT, { genLength: 4, steps: 2 });
    expect(commitsPerStep(t)).toEqual([
      [3, 4],
      [2, 5],
    ]);
  });

  it('spreads N masks over S steps as floor(N/S) + [i < N mod S]', async () => {
    expect([0, 1, 2].map((i) => transferCount(5, 3, i))).toEqual([2, 2, 1]);
    expect([0, 1, 2, 3].map((i) => transferCount(10, 4, i))).toEqual([3, 3, 2, 2]);
    const c5 = { 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6, 6: 0.8 };
    const t = await classic(fixedBeliefs(c5), PROMPT, { genLength: 5, steps: 3 });
    expect(commitsPerStep(t)).toEqual([[3, 6], [4, 5], [2]]);
  });

  it('decodes semi-autoregressive blocks left to right', async () => {
    const t = await classic(fixedBeliefs(conf), PROMPT, { genLength: 4, steps: 4, blockLength: 2 });
    expect(commitsPerStep(t)).toEqual([[3], [2], [4], [5]]);
    expect(t.steps.map((s) => s.block)).toEqual([0, 0, 1, 1]);
  });

  it('never commits a position outside the current block, however confident', async () => {
    const t = await classic(fixedBeliefs({ 2: 0.55, 3: 0.6, 4: 0.99, 5: 0.98 }), PROMPT, {
      genLength: 4,
      steps: 4,
      blockLength: 2,
    });
    expect(commitsPerStep(t)).toEqual([[3], [2], [4], [5]]);
  });
});

describe("Dream's step schedule", () => {
  const conf = { 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6 };
  const perStep = (n: number, steps: number) => {
    const out: number[] = [];
    for (let i = 0, left = n; i < steps; i++) {
      out.push(dreamTransferCount(left, steps, i));
      left -= out[i];
    }
    return out;
  };

  it('commits int(n (1 - s/t)) of the n masks left on linspace(1, eps, S + 1), as Dream computes it in float32', () => {
    // reference values: Dream's _sample arithmetic run in PyTorch (float32 linspace, int() truncation)
    expect(perStep(4, 4)).toEqual([0, 1, 1, 2]);
    expect(perStep(8, 8)).toEqual([0, 1, 1, 1, 1, 1, 1, 2]);
    expect(perStep(32, 8)).toEqual([3, 4, 4, 4, 4, 4, 4, 5]);
    expect(perStep(100, 7)).toEqual([14, 14, 14, 14, 14, 14, 16]);
    expect(perStep(13, 5)).toEqual([2, 2, 2, 3, 4]);
    // LLaDA's even split of the same masks, for contrast: more early, fewer late
    expect([0, 1, 2, 3, 4].map((i) => transferCount(13, 5, i))).toEqual([3, 3, 3, 2, 2]);
  });

  it('runs in the sampler: a first step that commits nothing, the rest at the last step', async () => {
    const t = await classic(fixedBeliefs(conf), PROMPT, { genLength: 4, steps: 4, schedule: 'dream' });
    expect(commitsPerStep(t)).toEqual([[], [3], [4], [2, 5]]);
    expect(t.stats.forwardPasses).toBe(4);
    const llada = await classic(fixedBeliefs(conf), PROMPT, { genLength: 4, steps: 4, schedule: 'llada' });
    expect(commitsPerStep(llada)).toEqual([[3], [4], [5], [2]]);
  });

  it('works block by block and with every confidence measure', async () => {
    // two blocks of 4, 4 steps each: Dream's [0, 1, 1, 2] in each block
    const conf8 = { ...conf, 6: 0.55, 7: 0.8, 8: 0.65, 9: 0.75 };
    for (const confidence of ['probability', 'margin', 'entropy'] as const) {
      const t = await classic(fixedBeliefs(conf8), PROMPT, {
        genLength: 8,
        steps: 8,
        blockLength: 4,
        schedule: 'dream',
        confidence,
      });
      expect(
        commitsPerStep(t).map((c) => c.length),
        confidence,
      ).toEqual([0, 1, 1, 2, 0, 1, 1, 2]);
      expect(commitsPerStep(t).slice(0, 4).flat().sort(), confidence).toEqual([2, 3, 4, 5]);
    }
    const random = await classic(fixedBeliefs(conf8), PROMPT, {
      genLength: 8,
      steps: 8,
      blockLength: 4,
      schedule: 'dream',
      confidence: 'random',
    });
    expect(commitsPerStep(random).map((c) => c.length)).toEqual([0, 1, 1, 2, 0, 1, 1, 2]);
  });

  it('rejects an unknown schedule', async () => {
    await expect(classic(fixedBeliefs(conf), PROMPT, { genLength: 4, schedule: 'cosine' as never })).rejects.toThrow(
      /schedule.*must be one of llada, dream/,
    );
  });
});

describe('parallel decoding (Fast-dLLM)', () => {
  const conf = { 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6 };

  it('threshold commits every position at or above tau, at least the most confident', async () => {
    const t = await classic(fixedBeliefs(conf), PROMPT, { genLength: 4, threshold: 0.65 });
    expect(commitsPerStep(t)).toEqual([[3, 4], [5], [2]]);
    expect(t.stats.forwardPasses).toBe(3);
    expect(t.termination.plannedSteps).toBe(4);
  });

  it('factor commits the largest n with (m + 1)(1 - c(m)) <= f for all m <= n', async () => {
    expect(factorCount([0.9, 0.7, 0.6, 0.5], 1)).toBe(2); // 0.2, 0.9 pass; 4 * 0.4 = 1.6 fails
    expect(factorCount([0.6, 0.5], 1)).toBe(1); // 0.8 passes; 1.5 fails
    expect(factorCount([0.2], 1)).toBe(1); // at least one
    expect(factorCount([0.99, 0.99, 0.99], 1)).toBe(3);
    const t = await classic(fixedBeliefs(conf), PROMPT, { genLength: 4, factor: 1 });
    expect(commitsPerStep(t)).toEqual([[3, 4], [5], [2]]);
  });

  it('threshold respects blocks', async () => {
    const t = await classic(fixedBeliefs({ 2: 0.95, 3: 0.96, 4: 0.97, 5: 0.98 }), PROMPT, {
      genLength: 4,
      blockLength: 2,
      threshold: 0.9,
    });
    expect(commitsPerStep(t)).toEqual([
      [2, 3],
      [4, 5],
    ]);
  });
});

describe('confidence measures', () => {
  // position 2: p1 0.6 spread over the rest (high margin, low entropy)
  // position 3: p1 0.7 but p2 0.3 (higher probability, lower margin)
  const model = () =>
    new FakeDenoiser(V, (seq) =>
      logitsFrom(seq.length, V, (p) =>
        p === 2 ? { 2: 0.6, 3: 0.1, 4: 0.1, 5: 0.1, 6: 0.1 } : p === 3 ? { 7: 0.7, 8: 0.3 } : { 9: 1 },
      ),
    );

  it('probability ranks by p of the chosen token', async () => {
    const t = await classic(model(), PROMPT, { genLength: 2, steps: 2, confidence: 'probability' });
    expect(commitsPerStep(t)).toEqual([[3], [2]]);
  });

  it('margin ranks by p1 - p2', async () => {
    const t = await classic(model(), PROMPT, { genLength: 2, steps: 2, confidence: 'margin' });
    expect(commitsPerStep(t)).toEqual([[2], [3]]);
    expect(t.steps[0].commits[0].conf).toBeCloseTo(0.5, 4);
  });

  it('entropy ranks by negative entropy', async () => {
    const t = await classic(model(), PROMPT, { genLength: 2, steps: 2, confidence: 'entropy' });
    // H(0.7, 0.3) = 0.611 < H(0.6, 4 x 0.1) = 1.2 -> position 3 first
    expect(commitsPerStep(t)).toEqual([[3], [2]]);
    expect(t.steps[0].commits[0].conf).toBeCloseTo(0.7 * Math.log(0.7) + 0.3 * Math.log(0.3), 3);
  });

  it('random order is seeded', async () => {
    const a = await classic(fixedBeliefs({ 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6 }), PROMPT, {
      genLength: 4,
      confidence: 'random',
      seed: 7,
    });
    const b = await classic(fixedBeliefs({ 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6 }), PROMPT, {
      genLength: 4,
      confidence: 'random',
      seed: 7,
    });
    expect(commitsPerStep(a)).toEqual(commitsPerStep(b));
    const orders = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const t = await classic(fixedBeliefs({ 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6 }), PROMPT, {
        genLength: 4,
        confidence: 'random',
        seed,
      });
      orders.add(JSON.stringify(commitsPerStep(t)));
    }
    expect(orders.size).toBeGreaterThan(3);
  });

  it('algTemp samples positions from softmax(confidence / algTemp); a tiny algTemp is the top order', async () => {
    const conf = { 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6 };
    const cold = await classic(fixedBeliefs(conf), PROMPT, { genLength: 4, algTemp: 1e-4, seed: 3 });
    expect(commitsPerStep(cold)).toEqual([[3], [4], [5], [2]]);
    const orders = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const t = await classic(fixedBeliefs(conf), PROMPT, { genLength: 4, algTemp: 10, seed });
      orders.add(JSON.stringify(commitsPerStep(t)));
    }
    expect(orders.size).toBeGreaterThan(3);
  });
});

describe('token choice', () => {
  it('temperature 0 is argmax; Gumbel sampling follows the probabilities and the seed', async () => {
    const model = () => new FakeDenoiser(V, (seq) => logitsFrom(seq.length, V, () => ({ 4: 0.6, 7: 0.4 })));
    const greedy = await classic(model(), PROMPT, { genLength: 1, steps: 1 });
    expect(greedy.answer).toEqual([4]);
    let sevens = 0;
    for (let seed = 0; seed < 400; seed++) {
      const t = await classic(model(), PROMPT, { genLength: 1, steps: 1, temperature: 1, seed });
      if (t.answer[0] === 7) sevens++;
    }
    expect(sevens / 400).toBeGreaterThan(0.33);
    expect(sevens / 400).toBeLessThan(0.47);
  });

  it('topK 1 makes any temperature greedy; topP keeps the nucleus only', async () => {
    const model = () => new FakeDenoiser(V, (seq) => logitsFrom(seq.length, V, () => ({ 4: 0.5, 7: 0.3, 8: 0.2 })));
    for (let seed = 0; seed < 30; seed++) {
      const k = await classic(model(), PROMPT, { genLength: 1, steps: 1, temperature: 2, topK: 1, seed });
      expect(k.answer).toEqual([4]);
      const p = await classic(model(), PROMPT, { genLength: 1, steps: 1, temperature: 2, topP: 0.8, seed });
      expect([4, 7]).toContain(p.answer[0]);
    }
  });

  it('never predicts the mask token', async () => {
    const model = new FakeDenoiser(V, (seq) => logitsFrom(seq.length, V, () => ({ [MASK]: 0.9, 3: 0.1 })));
    const t = await classic(model, PROMPT, { genLength: 2 });
    expect(t.answer).toEqual([3, 3]);
  });
});

describe('classifier-free guidance', () => {
  it('runs an unconditional pass with the prompt masked and mixes u + (w + 1)(c - u)', async () => {
    // conditional: token 2 logit 2, token 3 logit 1.5; unconditional: 2 and 0
    const model = new FakeDenoiser(V, (seq, _call, batch) => {
      const out = new Float32Array(seq.length * V).fill(-30);
      for (let p = 0; p < seq.length; p++) {
        out[p * V + 2] = 2;
        out[p * V + 3] = batch === 0 ? 1.5 : 0;
      }
      return out;
    });
    const t = await classic(model, PROMPT, { genLength: 1, steps: 1, cfgScale: 1 });
    expect(model.calls[0].sequences).toEqual([
      [5, 6, MASK],
      [MASK, MASK, MASK],
    ]);
    expect(t.answer).toEqual([3]); // u + 2(c - u): token 2 -> 2, token 3 -> 3
    const mixed = new Float64Array(V).fill(-30);
    mixed[2] = 2;
    mixed[3] = 3;
    mixed[MASK] = -Infinity;
    expect(t.steps[0].commits[0].conf).toBeCloseTo(softmax(mixed)[3], 4);
    expect(t.stats.forwardPasses).toBe(2);
    const plain = await classic(model, PROMPT, { genLength: 1, steps: 1 });
    expect(plain.answer).toEqual([2]);
  });
});

describe('end of text', () => {
  // position 3 is surely end-of-text; positions 2, 4, 5 are words
  const model = () =>
    new FakeDenoiser(V, (seq) =>
      logitsFrom(seq.length, V, (p) => (p === 3 ? { [EOT]: 0.95, 4: 0.05 } : { 4: 0.6, 9: 0.4 })),
    );

  it('stops once the first end-of-text and everything before it are decoded, filling the rest', async () => {
    const t = await classic(model(), PROMPT, { genLength: 4, steps: 4 });
    expect(commitsPerStep(t)).toEqual([[3], [2]]);
    expect(t.steps[1].fill).toEqual({ from: 4, to: 6 });
    expect(t.final).toEqual([5, 6, 4, EOT, EOT, EOT]);
    expect(t.answer).toEqual([4]);
    expect(t.termination).toMatchObject({ reason: 'end-of-text', step: 2, plannedSteps: 4 });
    expect(t.termination.message).toBe('terminated at step 2 of 4: end-of-text decoded');
    expect(t.stats.forwardPasses).toBe(2);
  });

  it('keeps going when stopAtEndOfText is off', async () => {
    const t = await classic(model(), PROMPT, { genLength: 4, steps: 4, stopAtEndOfText: false });
    expect(t.steps).toHaveLength(4);
    expect(t.termination.reason).toBe('completed');
  });

  it('minLength suppresses end-of-text at the first positions', async () => {
    const t = await classic(model(), PROMPT, { genLength: 4, steps: 4, minLength: 2 });
    expect(t.final[3]).toBe(4);
    expect(t.final.slice(2)).not.toContain(EOT);
  });
});

describe('end of text ahead of the block', () => {
  // blocks [2,3] [4,5] [6,7] [8,9]: words at 2-4, a likely end at 5, a sure end at 6, a word guess again at 7
  const model = () =>
    new FakeDenoiser(V, (seq) =>
      logitsFrom(seq.length, V, (p) =>
        p === 5 ? { [EOT]: 0.7, 4: 0.3 } : p === 6 || p >= 8 ? { [EOT]: 0.95, 4: 0.05 } : { 4: 0.6, 9: 0.4 },
      ),
    );
  const options = { genLength: 8, steps: 8, blockLength: 2 };

  it('commits end-of-text from the first sure position after the block to the end, in the same step', async () => {
    const t = await classic(model(), PROMPT, { ...options, endOfTextAhead: 0.9 });
    // step 1: the block's most confident position, and 6..9 (7 too: nothing but end-of-text follows one)
    expect(commitsPerStep(t)).toEqual([[2, 6, 7, 8, 9], [3], [5], [4]]);
    expect(t.steps[0].commits.slice(1).map((c) => [c.token, c.conf])).toEqual([...Array(4)].map(() => [EOT, 0.95]));
    expect(t.final).toEqual([5, 6, 4, 4, 4, EOT, EOT, EOT, EOT, EOT]);
    expect(t.termination).toMatchObject({ reason: 'end-of-text', step: 4, plannedSteps: 8 });
  });

  it('decides the length once: a sure end that appears only after the first decision is left to its block', async () => {
    // position 4 becomes a sure end once 6 is end-of-text; deciding again would pull the end back to 4
    const cascading = new FakeDenoiser(V, (seq) =>
      logitsFrom(seq.length, V, (p) =>
        p >= 6 || (p === 4 && seq[6] === EOT) ? { [EOT]: 0.95, 4: 0.05 } : { 4: 0.6, 9: 0.4 },
      ),
    );
    const t = await classic(cascading, PROMPT, { ...options, endOfTextAhead: 0.9 });
    // (deciding at every step would commit 4 and 5 at step 2)
    expect(commitsPerStep(t)).toEqual([[2, 6, 7, 8, 9], [3], [4]]);
    expect(t.final).toEqual([5, 6, 4, 4, EOT, EOT, EOT, EOT, EOT, EOT]);
  });

  it('is off by default and below its threshold: the tail waits for its block', async () => {
    for (const endOfTextAhead of [null, 0.99]) {
      const t = await classic(model(), PROMPT, { ...options, endOfTextAhead });
      expect(commitsPerStep(t)).toEqual([[2], [3], [5], [4]]);
    }
  });

  it('respects minLength and needs a threshold of at least 0.5', async () => {
    const t = await classic(model(), PROMPT, { ...options, endOfTextAhead: 0.9, minLength: 6 });
    expect(t.final.slice(2, 8)).not.toContain(EOT);
    expect(t.steps[0].commits.map((c) => c.pos)).toEqual([2, 8, 9]);
    await expect(classic(model(), PROMPT, { ...options, endOfTextAhead: 0.3 })).rejects.toThrow(
      'endOfTextAhead: must be a number in [0.5, 1], got 0.3',
    );
  });
});

describe('the length decided at the first step (decideLength)', () => {
  // end-of-text probabilities q at positions 2..9 after the prompt [5, 6]; the rest of the mass on token 7:
  // the expected length is the sum of 1 - q = 1 + 0.4 + 1 + 1 + 0 + 0 + 0 + 0 = 3.4 -> 3 tokens, the end at 5
  const Q = [0, 0.6, 0, 0, 1, 1, 1, 1];
  const model = () =>
    new FakeDenoiser(V, (seq) =>
      logitsFrom(seq.length, V, (p) => {
        const q = p >= 2 ? Q[p - 2] : 0;
        return { [EOT]: q || undefined, 7: 1 - q || undefined };
      }),
    );

  it('commits the tail after the expected length at once, in one block, and bans end-of-text before it', async () => {
    const t = await classic(model(), PROMPT, { genLength: 8, steps: 8, decideLength: true, endOfTextAhead: null });
    // step 1: the surest mask before the end (2, tied with 4, by position), and 5..9 as end-of-text; then 4 (token 7
    // alone) before 3 (token 7 once end-of-text is banned there: a little less sure)
    expect(commitsPerStep(t)).toEqual([[2, 5, 6, 7, 8, 9], [4], [3]]);
    expect(t.steps[0].commits.slice(1).map((c) => [c.token, c.conf])).toEqual([...Array(5)].map(() => [EOT, 0.425]));
    // position 3's likeliest token is end-of-text (0.6), banned before the decided end: the text is 3 tokens
    expect(t.final).toEqual([5, 6, 7, 7, 7, EOT, EOT, EOT, EOT, EOT]);
    expect(t.termination).toMatchObject({ reason: 'end-of-text', step: 3 });
  });

  it('works across blocks too, and without it one block commits the tail one position a step', async () => {
    const blocks = await classic(model(), PROMPT, { genLength: 8, steps: 8, blockLength: 2, decideLength: true });
    expect(commitsPerStep(blocks)).toEqual([[2, 5, 6, 7, 8, 9], [3], [4]]);
    const plain = await classic(model(), PROMPT, { genLength: 8, steps: 8, endOfTextAhead: null });
    expect(plain.steps[0].commits.map((c) => c.token)).toEqual([EOT]); // the surest single position: the tail
  });

  it('keeps at least minLength tokens and one token', async () => {
    const t = await classic(model(), PROMPT, { genLength: 8, steps: 8, decideLength: true, minLength: 5 });
    expect(t.final.slice(2, 7)).not.toContain(EOT);
    expect(t.final.slice(7)).toEqual([EOT, EOT, EOT]);
    await expect(classic(model(), PROMPT, { genLength: 8, decideLength: 1 as never })).rejects.toThrow(
      'decideLength: must be true or false',
    );
  });
});

describe('no repeated n-grams first (noRepeatNgram)', () => {
  // the prompt holds 3 4 5; at 5 the model is surest of 5, which would write 3 4 5 again after the 3 4 at 3, 4
  const prompt = [3, 4, 5, 3, 4];
  const model = () =>
    new FakeDenoiser(V, (seq) => logitsFrom(seq.length, V, (p) => (p === 5 ? { 5: 0.9, 9: 0.1 } : { 6: 0.6, 9: 0.4 })));

  it('ranks a candidate that would complete an n-gram already on the canvas below the others', async () => {
    const off = await classic(model(), prompt, { genLength: 3, steps: 3 });
    expect(commitsPerStep(off)).toEqual([[5], [6], [7]]);
    const on = await classic(model(), prompt, { genLength: 3, steps: 3, noRepeatNgram: 3 });
    expect(commitsPerStep(on)).toEqual([[6], [7], [5]]); // the repeat waits while anything else is left
    expect(on.final).toEqual(off.final); // ranking only: the tokens are the model's
    const bigrams = await classic(model(), prompt, { genLength: 3, steps: 3, noRepeatNgram: 4 });
    expect(commitsPerStep(bigrams)).toEqual([[5], [6], [7]]); // 4 5 3 4 + 5 is no repeat of a 4-gram
  });

  it('takes 0 (off) or 2 to 16', async () => {
    await expect(classic(model(), prompt, { genLength: 3, noRepeatNgram: 1 })).rejects.toThrow(
      'noRepeatNgram: must be 0 (off) or an n-gram length of 2 to 16',
    );
  });
});

describe('position-aware ranking (positionDecay)', () => {
  // one block of 4 masks at 2..5, surer the further right: 0.5, 0.6, 0.7, 0.8
  const model = () => fixedBeliefs({ 2: 0.5, 3: 0.6, 4: 0.7, 5: 0.8 });

  it('ranks by confidence x exp(-lambda x), x from 0 (block start) to 1 (block end)', async () => {
    const off = await classic(model(), PROMPT, { genLength: 4, steps: 4 });
    expect(commitsPerStep(off)).toEqual([[5], [4], [3], [2]]);
    // lambda 2: weights 1, 0.61, 0.37, 0.22 over x = 0, 1/4, 2/4, 3/4: 0.5 beats 0.36, 0.26, 0.18
    const strong = await classic(model(), PROMPT, { genLength: 4, steps: 4, positionDecay: 2 });
    expect(commitsPerStep(strong)).toEqual([[2], [3], [4], [5]]);
    // lambda 0.2: weights 1, 0.95, 0.90, 0.86: 0.69 still first
    const weak = await classic(model(), PROMPT, { genLength: 4, steps: 4, positionDecay: 0.2 });
    expect(commitsPerStep(weak)[0]).toEqual([5]);
    await expect(classic(model(), PROMPT, { genLength: 4, positionDecay: -1 })).rejects.toThrow(
      'positionDecay: must be a number in [0, 100], got -1',
    );
  });
});

describe('frequency penalty (frequencyPenalty)', () => {
  // every masked position: token 3 with p 0.6, token 4 with p 0.4, the same everywhere (ties go left first)
  const same = () => new FakeDenoiser(V, (seq) => logitsFrom(seq.length, V, () => ({ 3: 0.6, 4: 0.4 })));
  const tokens = (t: Trace) => t.steps.map((s) => s.commits.map((c) => c.token)).flat();

  it('lowers a token’s logit by the penalty for each time it stands in the generated text', async () => {
    expect(tokens(await classic(same(), PROMPT, { genLength: 4, steps: 4 }))).toEqual([3, 3, 3, 3]);
    // penalty 1: log 0.6 - 1 < log 0.4 after one 3; log 0.4 - 1 < log 0.6 - 1 after a 4 as well: they alternate
    const t = await classic(same(), PROMPT, { genLength: 4, steps: 4, frequencyPenalty: 1 });
    expect(tokens(t)).toEqual([3, 4, 3, 4]);
    expect(commitsPerStep(t)).toEqual([[2], [3], [4], [5]]);
    // the prompt's tokens do not count: a prompt of 3s changes nothing at the first step
    const prompted = await classic(same(), [3, 3, 3], { genLength: 2, steps: 2, frequencyPenalty: 1 });
    expect(tokens(prompted)).toEqual([3, 4]);
    await expect(classic(same(), PROMPT, { genLength: 4, frequencyPenalty: -1 })).rejects.toThrow(
      'frequencyPenalty: must be a number in [0, 100], got -1',
    );
  });
});

describe('infilling', () => {
  it('generates only the masks inside the text and never changes given tokens', async () => {
    const input = [5, MASK, MASK, 6, 7];
    const model = fixedBeliefs({ 0: 0.99, 1: 0.4, 2: 0.8, 3: 0.99, 4: 0.99 });
    const t = await classic(model, input, {
      genLength: 0,
      steps: 2,
      editMode: 'threshold',
      editAction: 'replace',
      editThreshold: 0.99,
    });
    expect(commitsPerStep(t)).toEqual([[2], [1]]);
    expect([t.final[0], t.final[3], t.final[4]]).toEqual([5, 6, 7]);
    for (const call of model.calls)
      expect([call.sequences[0][0], call.sequences[0][3], call.sequences[0][4]]).toEqual([5, 6, 7]);
    for (const s of t.steps) for (const e of s.edits) expect([1, 2]).toContain(e.pos);
  });

  it('refuses a mask at the first position of a model with shifted logits, which cannot predict it', async () => {
    const scores = () => logitsFrom(4, V, () => ({ 4: 0.9 }));
    const shifted = Object.assign(new FakeDenoiser(V, scores), { shiftedLogits: true });
    await expect(classic(shifted, [MASK, 5, 6], { genLength: 0, steps: 1 })).rejects.toThrow(
      'the prompt starts with [MASK], but fake-denoiser predicts each position from the one before it',
    );
    expect(shifted.calls).toHaveLength(0);
    // the same model fills a mask anywhere after the first position, and an unshifted one fills position 0
    expect((await classic(shifted, [5, MASK, 6], { genLength: 0, steps: 1 })).final).toEqual([5, 4, 6]);
    expect((await classic(new FakeDenoiser(V, scores), [MASK, 5, 6], { genLength: 0, steps: 1 })).final).toEqual([
      4, 5, 6,
    ]);
  });

  it('never writes end-of-text into a span inside the text', async () => {
    const model = new FakeDenoiser(V, (seq) => logitsFrom(seq.length, V, () => ({ [EOT]: 0.9, 4: 0.1 })));
    const t = await classic(model, [5, MASK, 6], { genLength: 0, steps: 1 });
    expect(t.final).toEqual([5, 4, 6]);
  });
});

describe('editing committed tokens', () => {
  it('threshold + replace: a committed token whose probability drops below the threshold is replaced', async () => {
    // pass 0: position 2 looks like token 4 (0.9); from pass 1 on the model prefers token 8 there
    const model = new FakeDenoiser(V, (seq, call) =>
      logitsFrom(seq.length, V, (p) =>
        p === 2 ? (call === 0 ? { 4: 0.9, 8: 0.1 } : { 4: 0.05, 8: 0.95 }) : { 6: 0.5, 9: 0.5 },
      ),
    );
    const t = await classic(model, PROMPT, {
      genLength: 2,
      steps: 2,
      editMode: 'threshold',
      editThreshold: 0.1,
      editAction: 'replace',
    });
    expect(t.steps[0].commits.map((c) => [c.pos, c.token])).toEqual([[2, 4]]);
    expect(t.steps[1].edits).toEqual([{ pos: 2, from: 4, to: 8, text: '<8>', prob: 0.05 }]);
    expect(t.final).toEqual([5, 6, 8, 6]);
    expect(canvasAt(t, 2)).toEqual(t.final);
  });

  it('threshold + remask: the token goes back to a mask and is decoded again; the block still finishes', async () => {
    const model = new FakeDenoiser(V, (seq, call) =>
      logitsFrom(seq.length, V, (p) =>
        p === 2 ? (call === 0 ? { 4: 0.9, 8: 0.1 } : { 4: 0.05, 8: 0.95 }) : { 6: 0.5, 9: 0.5 },
      ),
    );
    const t = await classic(model, PROMPT, {
      genLength: 3,
      steps: 3,
      editMode: 'threshold',
      editThreshold: 0.1,
    });
    expect(t.steps[1].edits).toEqual([{ pos: 2, from: 4, to: MASK, text: '', prob: 0.05 }]);
    expect(t.final.slice(2)).not.toContain(MASK);
    expect(t.final[2]).toBe(8);
    expect(canvasAt(t, t.steps.length)).toEqual(t.final);
  });

  it('remdm re-masks committed tokens of the current block with probability sigma', async () => {
    const model = () => fixedBeliefs({ 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6, 6: 0.55, 7: 0.65, 8: 0.75, 9: 0.85 });
    const never = await classic(model(), PROMPT, {
      genLength: 8,
      steps: 8,
      editMode: 'remdm',
      remdmSigma: 0,
    });
    expect(never.steps.flatMap((s) => s.edits)).toEqual([]);
    const often = await classic(model(), PROMPT, {
      genLength: 8,
      steps: 8,
      editMode: 'remdm',
      remdmSigma: 0.5,
      seed: 1,
    });
    const edits = often.steps.flatMap((s) => s.edits);
    expect(edits.length).toBeGreaterThan(0);
    expect(edits.every((e) => e.to === MASK)).toBe(true);
    // the schedule keeps its 8 steps: re-masked positions are decoded again within them
    expect(often.steps).toHaveLength(8);
    expect(often.steps.reduce((n, s) => n + s.commits.length, 0)).toBe(8 + edits.length);
    expect(often.final.slice(2)).not.toContain(MASK);
  });
});

describe('determinism, cancellation, validation', () => {
  const noisy = () =>
    new FakeDenoiser(V, (seq, call) =>
      logitsFrom(seq.length, V, (p) => ({ 2: 0.3 + ((p * 7 + call) % 5) / 20, 3: 0.3, 4: 0.2, [EOT]: 0.05 })),
    );
  const strip = (t: Trace) =>
    JSON.stringify({ ...t, stats: null, steps: t.steps.map((s) => ({ ...s, modelMs: 0, samplerMs: 0 })) });

  it('the same seed, model and options give the identical trace', async () => {
    const opts = { genLength: 12, steps: 6, blockLength: 4, temperature: 1, confidence: 'margin' as const, seed: 42 };
    const a = await classic(noisy(), PROMPT, opts);
    const b = await classic(noisy(), PROMPT, opts);
    expect(strip(a)).toBe(strip(b));
    const c = await classic(noisy(), PROMPT, { ...opts, seed: 43 });
    expect(strip(c)).not.toBe(strip(a));
  });

  it('a cancelled run stops within one forward pass and reports it', async () => {
    const controller = new AbortController();
    const model = fixedBeliefs({ 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6 });
    const t = await classic(
      model,
      PROMPT,
      { genLength: 4 },
      {
        signal: controller.signal,
        onStep: () => controller.abort(),
      },
    );
    expect(model.calls).toHaveLength(1);
    expect(t.termination).toMatchObject({ reason: 'cancelled', step: 1 });
    expect(t.termination.message).toBe('cancelled after step 1 of 4');
  });

  it('rejects options that do not divide, with values that would work', async () => {
    const m = fixedBeliefs({});
    await expect(classic(m, PROMPT, { genLength: 12, blockLength: 5 })).rejects.toThrow(
      'blockLength: 5 does not divide genLength 12; blockLength values that work: 1, 2, 3, 4, 6, 12',
    );
    await expect(classic(m, PROMPT, { genLength: 12, blockLength: 4, steps: 10 })).rejects.toThrow(
      'steps: 10 is not a multiple of the 3 blocks (genLength 12 / blockLength 4); steps that work: 3, 6, 9, 12',
    );
    await expect(classic(m, PROMPT, { genLength: 4, steps: 8 })).rejects.toThrow(
      /steps: 8 is more than the 4 masks to generate/,
    );
  });

  it('rejects unknown options, bad values, bad ids and oversized prompts with clear messages', async () => {
    const m = fixedBeliefs({});
    await expect(classic(m, PROMPT, { genLenght: 4 } as never)).rejects.toThrow(
      /unknown option "genLenght"; known options: genLength/,
    );
    for (const inherited of ['constructor', 'toString', 'hasOwnProperty']) {
      await expect(classic(m, PROMPT, { [inherited]: 1 } as never)).rejects.toThrow(`unknown option "${inherited}"`);
    }
    await expect(classic(m, PROMPT, { temperature: -1 })).rejects.toThrow(
      'temperature: must be a number in [0, 100], got -1',
    );
    await expect(classic(m, PROMPT, { threshold: 0.9, factor: 1 })).rejects.toThrow(/set only one/);
    await expect(classic(m, [5, 99], { genLength: 2 })).rejects.toThrow('token id 99 is outside the vocabulary 0..9');
    await expect(classic(m, [], { genLength: 2 })).rejects.toThrow(/the prompt is empty/);
    const small = new FakeDenoiser(V, (s) => logitsFrom(s.length, V, () => ({ 2: 1 })), MASK, EOT, 16);
    await expect(classic(small, new Array(10).fill(5), { genLength: 8 })).rejects.toThrow(
      "the prompt has 10 tokens and 8 more are to be generated, but the model's context is 16; shorten the prompt to at most 8 tokens or lower the generation length to at most 6",
    );
  });
});

describe('trace', () => {
  it('streams every step, rebuilds any step, and reports ghosts for masked positions', async () => {
    const seen: number[] = [];
    const t = await classic(
      fixedBeliefs({ 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6 }),
      PROMPT,
      { genLength: 4 },
      {
        onStep: (s) => seen.push(s.step),
      },
    );
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(canvasAt(t, 0)).toEqual([5, 6, MASK, MASK, MASK, MASK]);
    expect(canvasAt(t, 1)).toEqual([5, 6, MASK, 5, MASK, MASK]);
    expect(t.steps[0].ghosts).toEqual([
      [2, 4, 0.5],
      [4, 6, 0.7],
      [5, 7, 0.6],
    ]);
    expect(t.steps[1].ghosts).toEqual([]); // unchanged guesses are not repeated
    expect(t.steps.map((s) => s.forwardPasses)).toEqual([1, 2, 3, 4]);
  });

  // Guesses at a masked position change as its neighbours get decoded, as with a real model: the guess
  // depends on how many of the 8 positions around it are committed.
  const contextual = () =>
    new FakeDenoiser(
      100,
      (seq) => {
        const out = new Float32Array(seq.length * 100).fill(-5);
        for (let p = 0; p < seq.length; p++) {
          let near = 0;
          for (let q = Math.max(0, p - 4); q < Math.min(seq.length, p + 5); q++) if (seq[q] !== MASK) near++;
          out[p * 100 + 2 + ((p * 31 + near * 7) % 97)] = 2 + near / 4 + (p % 5) / 10;
        }
        return out;
      },
      MASK,
      EOT,
      1024,
    );

  it('a 512-token, 512-step trace stays small', async () => {
    const t = await classic(contextual(), [5], { genLength: 512, steps: 512, stopAtEndOfText: false });
    const bytes = new TextEncoder().encode(JSON.stringify(t)).length;
    const ghosts = t.steps.reduce((n, s) => n + s.ghosts.length, 0);
    console.log(`512-token, 512-step trace: ${bytes} bytes of JSON, ${ghosts} ghost updates`);
    expect(t.steps).toHaveLength(512);
    // every step re-stating all masked guesses would be 131,328 ghosts (about 2.5 MB alone)
    expect(ghosts).toBeLessThan(20_000);
    expect(bytes).toBeLessThan(300_000);
    expect(canvasAt(t, 512)).toEqual(t.final);
  });
});

describe('cooperative cancellation', () => {
  it('awaits `between` after each step, so a cancel arriving as a message stops the run', async () => {
    const controller = new AbortController();
    const model = fixedBeliefs({ 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6 });
    let yields = 0;
    const t = await classic(
      model,
      PROMPT,
      { genLength: 4 },
      {
        signal: controller.signal,
        // the "message" is delivered only when the sampler yields
        between: async () => {
          yields++;
          if (yields === 2) controller.abort();
        },
      },
    );
    expect(yields).toBe(2);
    expect(model.calls).toHaveLength(2);
    expect(t.termination.reason).toBe('cancelled');
  });
});

describe('defaults', () => {
  it('are blocks of 4 (or the largest divisor below), about one token per step, temperature 0.9, length at 0.5', () => {
    expect(resolveDiffusionOptions({ genLength: 64 })).toMatchObject({
      blockLength: 4,
      steps: 64,
      temperature: 0.9,
      endOfTextAhead: 0.5,
    });
    expect(resolveDiffusionOptions({ genLength: 102 })).toMatchObject({ blockLength: 3, steps: 102 });
    expect(resolveDiffusionOptions({ genLength: 3 })).toMatchObject({ blockLength: 3, steps: 3 });
    // 6 infill masks decode with the first of 16 blocks: steps stay a multiple of the block count
    expect(resolveDiffusionOptions({ genLength: 64 }, Infinity, 6)).toMatchObject({ blockLength: 4, steps: 64 });
    expect(resolveDiffusionOptions({ genLength: 64, blockLength: 16 }, Infinity, 6)).toMatchObject({ steps: 68 });
    expect(resolveDiffusionOptions({ genLength: 0 }, Infinity, 3)).toMatchObject({ blockLength: 1, steps: 3 });
  });

  it('run on the page schedule: blocks of 4 left to right, one token per step', async () => {
    const t = await generateDiffusion(fixedBeliefs({}), PROMPT, { genLength: 16 });
    expect(t.steps.map((s) => s.block)).toEqual([...Array(16)].map((_, i) => Math.floor(i / 4)));
    expect(t.steps.every((s) => s.commits.length === 1)).toBe(true);
  });
});

describe('the canvas to the context end (fillContext)', () => {
  const anyBeliefs = () => fixedBeliefs({});
  const small = (contextLength: number) =>
    new FakeDenoiser(V, (seq) => logitsFrom(seq.length, V, () => ({ 3: 1 })), MASK, EOT, contextLength);

  it('fits the canvas to whole blocks after the prompt, keeping each block its steps', () => {
    // 2 steps per block of 4; 13 positions left: 3 whole blocks
    expect(fitToContext({ fillContext: true, genLength: 8, steps: 4, blockLength: 4 }, 13)).toMatchObject({
      genLength: 12,
      blockLength: 4,
      steps: 6,
    });
    // one block over the canvas grows with it, its steps in proportion
    expect(fitToContext({ fillContext: true, genLength: 8, steps: 4, blockLength: 8 }, 13)).toMatchObject({
      genLength: 13,
      blockLength: 13,
      steps: 7,
    });
    // less room than a block: one block of what is left
    expect(fitToContext({ fillContext: true, genLength: 8, blockLength: 4 }, 3)).toMatchObject({
      genLength: 3,
      blockLength: 3,
    });
    // off: the options as given
    const off = { genLength: 8, steps: 4, blockLength: 4 };
    expect(fitToContext(off, 13)).toBe(off);
  });

  it('runs the sampler over the fitted canvas, and records the fitted options', async () => {
    const t = await generateDiffusion(small(17), PROMPT, {
      fillContext: true,
      genLength: 8,
      steps: 8,
      blockLength: 4,
      temperature: 0,
      stopAtEndOfText: false,
    });
    expect(t.final.length).toBe(2 + 12); // 15 left: three blocks of 4
    expect(t.options).toMatchObject({ genLength: 12, steps: 12, blockLength: 4, fillContext: true });
    expect(t.steps.length).toBe(12);
    // without it the length is the one given
    const fixed = await generateDiffusion(anyBeliefs(), PROMPT, { genLength: 4, steps: 4, temperature: 0 });
    expect(fixed.final.length).toBe(6);
  });

  it('gives the AR model the rest of the context', async () => {
    const ar = new FakeCausalLM(V, () => logitsFrom(1, V, () => ({ 3: 1 })), EOT, 10);
    const t = await generateAr(ar, PROMPT, { fillContext: true, maxNewTokens: 4, temperature: 0 });
    expect(t.final.length).toBe(10);
    expect(t.options).toMatchObject({ maxNewTokens: 8 });
  });
});

describe("dLLM's schedule (its get_num_transfer_tokens, linear)", () => {
  it('rounds half to even on what is left and drops steps that commit nothing', () => {
    expect(dllmTransferCounts(8, 3)).toEqual([3, 2, 3]); // round(8/3) = 3; round(2.5) = 2; 3
    expect(dllmTransferCounts(32, 32)).toEqual(Array(32).fill(1));
    expect(dllmTransferCounts(32, 16)).toEqual(Array(16).fill(2));
    expect(dllmTransferCounts(8, 16)).toEqual(Array(8).fill(1)); // round(0.5) = 0 at the first step: dropped
    expect(dllmTransferCounts(5, 2)).toEqual([2, 3]); // round(2.5) = 2
    expect(dllmTransferCounts(0, 4)).toEqual([]);
  });

  it('drives the sampler: the same canvas commits [3, 2, 3] where LLaDA commits [3, 3, 2]', async () => {
    const run = async (schedule: 'dllm' | 'llada') => {
      const beliefs: Record<number, number> = {};
      for (let p = 2; p < 10; p++) beliefs[p] = 0.5 + 0.04 * p; // later positions surer
      const t = await generateDiffusion(fixedBeliefs(beliefs), [2, 3], {
        genLength: 8,
        steps: 3,
        blockLength: 8,
        schedule,
        temperature: 0,
        endOfTextAhead: null,
        stopAtEndOfText: false,
      });
      return t.steps.map((s) => s.commits.length);
    };
    expect(await run('dllm')).toEqual([3, 2, 3]);
    expect(await run('llada')).toEqual([3, 3, 2]);
  });
});
