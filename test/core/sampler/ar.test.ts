import { describe, expect, it } from 'vitest';
import { generateAr } from '../../../src/core/sampler/ar.ts';
import { FakeCausalLM } from '../../helpers/fake-models.ts';

const V = 10;
const EOT = 0;

/** Next token = last + 1 (wrapping within 2..9), with probability 0.8; end-of-text once `stopAfter` tokens exist. */
function counting(stopAfter = Infinity) {
  return new FakeCausalLM(V, (seq) => {
    const out = new Float32Array(V).fill(-30);
    if (seq.length >= stopAfter) out[EOT] = 5;
    const next = 2 + ((seq[seq.length - 1] - 1) % 8);
    out[next] = Math.log(0.8);
    out[9 === next ? 2 : 9] = Math.log(0.2);
    return out;
  });
}

describe('AR sampler', () => {
  it('prefills the prompt once, then feeds one token per pass against the cache', async () => {
    const model = counting();
    const t = await generateAr(model, [2, 3], { maxNewTokens: 3 });
    expect(model.calls).toEqual([
      { ids: [2, 3], cached: 0 },
      { ids: [4], cached: 2 },
      { ids: [5], cached: 3 },
    ]);
    expect(t.final).toEqual([2, 3, 4, 5, 6]);
    expect(t.steps.map((s) => s.commits)).toEqual([
      [{ pos: 2, token: 4, text: '<4>', conf: 0.8 }],
      [{ pos: 3, token: 5, text: '<5>', conf: 0.8 }],
      [{ pos: 4, token: 6, text: '<6>', conf: 0.8 }],
    ]);
    expect(t.termination).toMatchObject({ reason: 'max-tokens', step: 3 });
  });

  it('without the cache recomputes the whole sequence each pass, with the same result', async () => {
    const model = counting();
    const t = await generateAr(model, [2, 3], { maxNewTokens: 3, useCache: false });
    expect(model.calls.map((c) => c.ids)).toEqual([
      [2, 3],
      [2, 3, 4],
      [2, 3, 4, 5],
    ]);
    expect(model.calls.every((c) => c.cached === 0)).toBe(true);
    expect(t.final).toEqual([2, 3, 4, 5, 6]);
  });

  it('stops at end-of-text, which ends the answer', async () => {
    const t = await generateAr(counting(4), [2, 3], { maxNewTokens: 10 });
    expect(t.final).toEqual([2, 3, 4, 5, EOT]);
    expect(t.answer).toEqual([4, 5]);
    expect(t.termination).toMatchObject({ reason: 'end-of-text', step: 3 });
    expect(t.termination.message).toBe('stopped at end-of-text after 3 of 10 tokens');
  });

  it('minLength suppresses end-of-text', async () => {
    const t = await generateAr(counting(4), [2, 3], { maxNewTokens: 5, minLength: 4 });
    expect(t.final.slice(2, 6)).not.toContain(EOT);
    expect(t.final[6]).toBe(EOT);
  });

  it('samples with the seed: same seed same tokens, temperature follows the probabilities', async () => {
    const a = await generateAr(counting(), [2], { maxNewTokens: 20, temperature: 1, seed: 5 });
    const b = await generateAr(counting(), [2], { maxNewTokens: 20, temperature: 1, seed: 5 });
    expect(a.final).toEqual(b.final);
    let unlikely = 0;
    for (let seed = 0; seed < 200; seed++) {
      const t = await generateAr(counting(), [2], { maxNewTokens: 1, temperature: 1, seed });
      if (t.final[1] === 9) unlikely++;
    }
    expect(unlikely / 200).toBeGreaterThan(0.12);
    expect(unlikely / 200).toBeLessThan(0.28);
    const k1 = await generateAr(counting(), [2], { maxNewTokens: 20, temperature: 5, topK: 1, seed: 1 });
    expect(k1.final).toEqual(Array.from({ length: 21 }, (_, i) => 2 + (i % 8)));
  });

  it('cancels within one pass', async () => {
    const controller = new AbortController();
    const model = counting();
    const t = await generateAr(
      model,
      [2],
      { maxNewTokens: 10 },
      { signal: controller.signal, onStep: () => controller.abort() },
    );
    expect(model.calls).toHaveLength(1);
    expect(t.termination).toMatchObject({ reason: 'cancelled', step: 1 });
  });

  it('validates options and the prompt', async () => {
    await expect(generateAr(counting(), [2], { maxNewTokens: 0 })).rejects.toThrow(
      'maxNewTokens: must be an integer in [1, 1023], got 0',
    );
    await expect(generateAr(counting(), [2], { steps: 3 } as never)).rejects.toThrow(/unknown option "steps"/);
    await expect(generateAr(counting(), [], {})).rejects.toThrow(/the prompt is empty/);
    await expect(generateAr(counting(), [2, 12], {})).rejects.toThrow('token id 12 is outside the vocabulary 0..9');
  });
});
