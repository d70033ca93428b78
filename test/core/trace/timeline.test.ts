import { describe, expect, it } from 'vitest';
import { generateAr } from '../../../src/core/sampler/ar.ts';
import { generateDiffusion } from '../../../src/core/sampler/diffusion.ts';
import { FakeCausalLM, FakeDenoiser, logitsFrom } from '../../helpers/fake-models.ts';
import { markAt, timelineOf } from '../../../src/core/trace/timeline.ts';
import type { TraceStep } from '../../../src/core/trace/trace.ts';

const V = 10; // 0 = end-of-text, 1 = mask
const step = (n: number, s: Partial<TraceStep>): TraceStep => ({
  step: n,
  block: 0,
  forwardPasses: n,
  modelMs: 0,
  samplerMs: 0,
  commits: [],
  edits: [],
  ghosts: [],
  ...s,
});

describe('the denoising timeline', () => {
  it('draws each decision at its step until a later one replaces it, re-masks and the end-of-text fill included', () => {
    const trace = {
      kind: 'diffusion' as const,
      promptLength: 2,
      initial: [5, 6, 1, 1, 1, 1],
      maskId: 1,
      endOfTextId: 0,
      steps: [
        step(1, { commits: [{ pos: 4, token: 7, text: 'x', conf: 0.9 }] }),
        step(2, { commits: [{ pos: 2, token: 3, text: 'a', conf: 0.4 }] }),
        step(3, { edits: [{ pos: 2, from: 3, to: 1, text: '', prob: 0.05 }] }),
        step(4, { commits: [{ pos: 2, token: 8, text: 'b', conf: 0.8 }], fill: { from: 5, to: 6 } }),
        step(5, { commits: [{ pos: 3, token: 0, text: '', conf: 0.7 }] }),
      ],
    };
    const t = timelineOf(trace);
    expect([t.from, t.to, t.steps]).toEqual([2, 6, 5]);
    expect(t.marks.map((m) => [m.kind, m.pos, m.step, m.until])).toEqual([
      ['commit', 4, 1, 6],
      ['commit', 2, 2, 3],
      ['remask', 2, 3, 4],
      ['commit', 2, 4, 6],
      ['fill', 5, 4, 6],
      ['end', 3, 5, 6],
    ]);
    expect(markAt(t, 2, 2)).toMatchObject({ kind: 'commit', token: 3, conf: 0.4 });
    expect(markAt(t, 2, 3)).toMatchObject({ kind: 'remask' });
    expect(markAt(t, 2, 5)).toMatchObject({ kind: 'commit', token: 8 });
    expect(markAt(t, 3, 4)).toBeUndefined(); // still masked then
    expect(markAt(t, 0, 5)).toBeUndefined(); // the prompt is not drawn
  });

  it("is a diagonal for the AR model and follows the diffusion sampler's own order", async () => {
    const ar = new FakeCausalLM(V, () => logitsFrom(1, V, () => ({ 4: 1 })), 0, 64);
    const a = timelineOf(await generateAr(ar, [5, 6], { maxNewTokens: 5, temperature: 0 }), 5);
    expect([a.from, a.to]).toEqual([2, 7]); // the canvas it may fill, not its prompt-only start
    expect(a.marks.map((m) => [m.pos, m.step])).toEqual([
      [2, 1],
      [3, 2],
      [4, 3],
      [5, 4],
      [6, 5],
    ]);
    // most confident first: the right end of a one-block canvas is decided before its left
    const conf = [0, 0, 0.5, 0.6, 0.7, 0.8];
    const d = new FakeDenoiser(V, (seq) => logitsFrom(seq.length, V, (p) => ({ 4: conf[p] ?? 0.5, 9: 0.1 })));
    const trace = await generateDiffusion(d, [5, 6], { genLength: 4, steps: 4, blockLength: 4, temperature: 0 });
    expect(timelineOf(trace).marks.map((m) => [m.pos, m.step])).toEqual([
      [5, 1],
      [4, 2],
      [3, 3],
      [2, 4],
    ]);
  });
});
