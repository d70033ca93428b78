import { describe, expect, it } from 'vitest';
import { draftSpread } from '../../../src/core/measure/text-measures.ts';
import { generateAr } from '../../../src/core/sampler/ar.ts';
import { generateDiffusion } from '../../../src/core/sampler/diffusion.ts';
import { FakeCausalLM, FakeDenoiser, logitsFrom } from '../../helpers/fake-models.ts';

const V = 12;
const EOT = 0;

describe('draft spread', () => {
  it('is 0.25 for a left-to-right writer (AR)', async () => {
    const lm = new FakeCausalLM(V, (seq) => logitsFrom(1, V, () => ({ [seq.length < 10 ? 5 : EOT]: 0.9 })));
    const t = await generateAr(lm, [3, 4], { maxNewTokens: 20, temperature: 0 });
    expect(t.answer).toHaveLength(8);
    expect(draftSpread(t)).toBe(0.25);
  });

  it('is 1 when the first quarter written spans the whole answer (an outline), and null for no answer', async () => {
    // one block of 8, one token per step; the model is surest at both ends, then inwards
    const sure = [0.9, 0.5, 0.4, 0.3, 0.35, 0.45, 0.55, 0.95];
    const model = new FakeDenoiser(V, (seq) =>
      logitsFrom(seq.length, V, (p) => (p < 2 ? { [seq[p]]: 1 } : { [6]: sure[p - 2], [7]: (1 - sure[p - 2]) / 2 })),
    );
    const t = await generateDiffusion(model, [3, 4], {
      genLength: 8,
      steps: 8,
      blockLength: 8,
      temperature: 0,
      endOfTextAhead: null,
    });
    expect(t.answer).toHaveLength(8);
    // the first two positions written: the last (0.95) and the first (0.9)
    expect(t.steps.slice(0, 2).map((s) => s.commits[0].pos)).toEqual([9, 2]);
    expect(draftSpread(t)).toBe(1);
    expect(draftSpread({ ...t, answer: [] })).toBeNull();
  });

  it('counts a position once, at its first commit, and only inside the answer', () => {
    const step = (pos: number) => ({
      step: 0,
      block: 0,
      forwardPasses: 0,
      modelMs: 0,
      samplerMs: 0,
      commits: [{ pos, token: 5, text: '', conf: 1 }],
      edits: [],
      ghosts: [],
    });
    // answer = positions 2..5; commits: 7 (after the answer: ignored), 4, 4 again (an edit redone), 2, 3, 5
    const trace = { promptLength: 2, answer: [5, 5, 5, 5], steps: [7, 4, 4, 2, 3, 5].map(step) };
    expect(draftSpread(trace as never)).toBe(0.25); // first quarter = [4]: span 1 of 4
  });
});
