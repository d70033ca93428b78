// Block diffusion (BD3-LM) through the one step loop, on a scripted fake with exact schedules: blocks counted from
// position 0 (the first may begin inside the prompt), finished blocks entering an exact cache with one pass,
// only the current block predicted, and the diffusion options keeping their meaning inside a block.
import { describe, expect, it } from 'vitest';
import { generateDiffusion } from '../../../src/core/sampler/diffusion.ts';
import { FakeBlockDenoiser, logitsFrom, type ScriptedBlockLogits } from '../../helpers/fake-models.ts';
import { blockModelOptions, type DiffusionOptions } from '../../../src/core/sampler/options.ts';
import type { Trace } from '../../../src/core/trace/trace.ts';

const V = 40; // 0 = end-of-text, 1 = mask, 2.. ordinary tokens
const PROMPT = [2, 3, 4, 5, 6, 7]; // six tokens: the first block [4, 8) holds two prompt tokens and two masks
/** Position p is token 10 + p, surer the later it is: inside a block the last position goes first. */
const rising: ScriptedBlockLogits = (visible) =>
  logitsFrom(visible.length + 1, V, (p) => ({ [10 + p]: 0.5 + 0.02 * p, 9: 0.5 - 0.02 * p }));
const greedy: Partial<DiffusionOptions> = { genLength: 8, steps: 8, temperature: 0, endOfTextAhead: null };

const commitsPerStep = (t: Trace) => t.steps.map((s) => s.commits.map((c) => c.pos));
const windowOf = (c: FakeBlockDenoiser['calls'][number]) => c.pass as { from: number; to: number } | undefined;
const windows = (m: FakeBlockDenoiser) =>
  m.calls.map((c) => (windowOf(c) ? [windowOf(c)!.from, windowOf(c)!.to, c.keep] : c.sequences[0].length));

describe('block diffusion with its exact cache', () => {
  it('leaves the length to its blocks when decideLength is on: its passes never see the tail', async () => {
    // the text ends at 12, which only the last block's passes see
    const ending: ScriptedBlockLogits = (visible, call, i) => {
      const rows = rising(visible, call, i);
      if (visible.length + 1 > 12)
        rows.set(
          logitsFrom(1, V, () => ({ 0: 0.99, 9: 0.01 })),
          12 * V,
        );
      return rows;
    };
    for (const cache of ['dual', 'off'] as const) {
      const run = (decideLength: boolean) =>
        generateDiffusion(new FakeBlockDenoiser(V, 4, ending), PROMPT, { ...greedy, cache, decideLength });
      const [plain, decided] = [await run(false), await run(true)];
      expect(plain.final.slice(12)).toEqual([0, 0]);
      expect(commitsPerStep(decided)).toEqual(commitsPerStep(plain));
      expect(decided.final).toEqual(plain.final);
    }
  });

  it('decodes its own blocks from position 0, finished blocks entering the cache in the next block’s first pass', async () => {
    const model = new FakeBlockDenoiser(V, 4, rising);
    model.shiftedLogits = true;
    const t = await generateDiffusion(model, PROMPT, { ...greedy, cache: 'dual' });
    // blocks [4, 8) (two masks), [8, 12), [12, 14) (the canvas ends at 14): right to left inside each
    expect(commitsPerStep(t)).toEqual([[7], [6], [11], [10], [9], [8], [13], [12]]);
    expect(t.final.slice(6)).toEqual([16, 17, 18, 19, 20, 21, 22, 23]);
    expect(t.termination.plannedSteps).toBe(8);
    // [from, to, kept]: a block's first pass runs from the cache's end, the finished positions entering the cache
    expect(windows(model)).toEqual([
      [0, 8, 4],
      [4, 8, 0],
      [4, 12, 4],
      [8, 12, 0],
      [8, 12, 0],
      [8, 12, 0],
      [8, 14, 4],
      [12, 14, 0],
    ]);
    expect(t.steps.map((s) => s.forwardPasses)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(t.steps.map((s) => s.positions)).toEqual([8, 4, 8, 4, 4, 4, 6, 2]);
    expect(t.steps.every((s) => !s.fullPass)).toBe(true);
    expect((t.options as DiffusionOptions).blockLength).toBe(4);
  });

  it('or with a pass of their own when the next block starts: the same tokens, one pass more a block', async () => {
    const model = new FakeBlockDenoiser(V, 4, rising);
    model.shiftedLogits = true;
    const folded = await generateDiffusion(new FakeBlockDenoiser(V, 4, rising), PROMPT, { ...greedy, cache: 'dual' });
    const t = await generateDiffusion(model, PROMPT, { ...greedy, cache: 'dual' }, { blockCommit: 'separate' });
    expect(t.final).toEqual(folded.final);
    expect(windows(model)).toEqual([
      [0, 4, 4],
      [4, 8, 0],
      [4, 8, 0],
      [4, 8, 4],
      [8, 12, 0],
      [8, 12, 0],
      [8, 12, 0],
      [8, 12, 0],
      [8, 12, 4],
      [12, 14, 0],
      [12, 14, 0],
    ]);
    expect(t.steps.map((s) => s.forwardPasses)).toEqual([2, 3, 5, 6, 7, 8, 10, 11]);
    expect(t.steps.map((s) => s.positions)).toEqual([8, 4, 8, 4, 4, 4, 6, 2]);
  });

  it('without the cache every step runs the sequence up to the block end, with the same tokens', async () => {
    const model = new FakeBlockDenoiser(V, 4, rising);
    model.shiftedLogits = true;
    const cached = await generateDiffusion(new FakeBlockDenoiser(V, 4, rising), PROMPT, { ...greedy, cache: 'dual' });
    const t = await generateDiffusion(model, PROMPT, { ...greedy, cache: 'off' });
    expect(commitsPerStep(t)).toEqual(commitsPerStep(cached));
    expect(t.final).toEqual(cached.final);
    expect(windows(model)).toEqual([8, 8, 12, 12, 12, 12, 14, 14]);
    expect(t.steps.map((s) => s.forwardPasses)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('predicts only the current block: later masks get no guesses', async () => {
    const model = new FakeBlockDenoiser(V, 4, rising);
    const t = await generateDiffusion(model, PROMPT, { ...greedy, cache: 'dual' });
    for (const [i, s] of t.steps.entries()) {
      const block = i < 2 ? [6, 8] : i < 6 ? [8, 12] : [12, 14];
      for (const [pos] of s.ghosts)
        expect(pos >= block[0] && pos < block[1], `step ${i + 1} ghost at ${pos}`).toBe(true);
    }
  });

  it('a prompt that ends on a block boundary has no partial block', async () => {
    const model = new FakeBlockDenoiser(V, 4, rising);
    model.shiftedLogits = true;
    const t = await generateDiffusion(model, [2, 3, 4, 5, 6, 7, 8, 9], { ...greedy, cache: 'dual' });
    expect(commitsPerStep(t)).toEqual([[11], [10], [9], [8], [15], [14], [13], [12]]);
    expect(windows(model).slice(0, 2)).toEqual([
      [0, 12, 8],
      [8, 12, 0],
    ]);
  });

  it('threshold decoding commits every position of the block at or above tau in one step', async () => {
    const model = new FakeBlockDenoiser(V, 4, rising);
    // confidences 0.5 + 0.02 p: positions 8..11 have 0.66..0.72, so tau 0.69 commits 10 and 11 first
    const t = await generateDiffusion(model, PROMPT, { ...greedy, threshold: 0.69, cache: 'dual' });
    expect(commitsPerStep(t)).toEqual([[7], [6], [10, 11], [9], [8], [12, 13]]);
    expect(t.termination.plannedSteps).toBe(8); // a dynamic schedule plans one step per token
  });

  it('stops at the block that decodes the first end-of-text, filling the rest', async () => {
    // end-of-text is surest at position 10
    const script: ScriptedBlockLogits = (visible) =>
      logitsFrom(visible.length + 1, V, (p) => (p === 10 ? { 0: 0.99, 9: 0.01 } : { [10 + p]: 0.6, 9: 0.4 }));
    const model = new FakeBlockDenoiser(V, 4, script);
    const t = await generateDiffusion(model, PROMPT, { ...greedy, genLength: 16, steps: 16, cache: 'dual' });
    expect(t.termination.reason).toBe('end-of-text');
    expect(t.answer).toEqual([16, 17, 18, 19]);
    expect(t.final.slice(10)).toEqual(new Array(12).fill(0));
    expect(Math.max(...model.calls.map((c) => windowOf(c)?.to ?? 0))).toBe(12); // no block after it ran
  });

  it('refuses blocks it was not trained on, and masks inside the prompt', async () => {
    const model = new FakeBlockDenoiser(V, 4, rising);
    await expect(generateDiffusion(model, PROMPT, { ...greedy, blockLength: 8 })).rejects.toThrow(
      /trained on blocks of 4; got 8/,
    );
    await expect(generateDiffusion(model, [2, 1, 3], greedy)).rejects.toThrow(/cannot fill masks inside the prompt/);
  });

  it('runs the page’s diffusion settings in its own blocks, at the same steps per token', async () => {
    expect(blockModelOptions({ genLength: 100, steps: 100, blockLength: 4 }, 16)).toEqual({
      genLength: 96,
      steps: 96,
      blockLength: 16,
      cache: 'prefix',
    });
    expect(blockModelOptions({ genLength: 64, steps: 32, blockLength: 4, cache: 'dual' }, 16)).toEqual({
      genLength: 64,
      steps: 32,
      blockLength: 16,
      cache: 'dual',
    });
    // the exact cache whatever the (Fast-dLLM) cache setting, unless full passes are asked for
    expect(blockModelOptions({ genLength: 3, cache: 'off' }, 4)).toEqual({
      genLength: 4,
      blockLength: 4,
      cache: 'prefix',
    });
    expect(blockModelOptions({ genLength: 3, cache: 'dual' }, 4, false)).toEqual({
      genLength: 4,
      blockLength: 4,
      cache: 'off',
    });
    const model = new FakeBlockDenoiser(V, 4, rising);
    const t = await generateDiffusion(
      model,
      PROMPT,
      blockModelOptions({ ...greedy, blockLength: 8, fillContext: true, cache: 'dual' }, 4),
    );
    // the canvas towards the context end in as many masks as whole blocks hold (1,016 after 6 prompt tokens)
    expect(t.final.length).toBe(1022);
    expect((t.options as DiffusionOptions).blockLength).toBe(4);
  });
});

describe("blocks aligned at the prompt's end (dLLM's BD3LM)", () => {
  it('the first generated position begins a block; the model is told the offset at every pass', async () => {
    const model = new FakeBlockDenoiser(V, 4, rising);
    model.blockAlign = 'prompt-end';
    const t = await generateDiffusion(model, PROMPT, { ...greedy, cache: 'dual' });
    // six prompt tokens, offset 2 (the padding to whole blocks): blocks [6, 10), [10, 14), right to left inside each
    expect(commitsPerStep(t)).toEqual([[9], [8], [7], [6], [13], [12], [11], [10]]);
    expect(windows(model)).toEqual([
      [0, 10, 6],
      [6, 10, 0],
      [6, 10, 0],
      [6, 10, 0],
      [6, 14, 4],
      [10, 14, 0],
      [10, 14, 0],
      [10, 14, 0],
    ]);
    expect(model.calls.every((c) => c.offset === 2)).toBe(true);
    // and without the cache, the whole sequence to the block's end, with the same offset
    const plain = new FakeBlockDenoiser(V, 4, rising);
    plain.blockAlign = 'prompt-end';
    const off = await generateDiffusion(plain, PROMPT, { ...greedy, cache: 'off' });
    expect(off.final).toEqual(t.final);
    expect(plain.calls.map((c) => [c.sequences[0].length, c.offset])).toEqual([
      ...Array(4).fill([10, 2]),
      ...Array(4).fill([14, 2]),
    ]);
  });

  it('a prompt of whole blocks has offset 0', async () => {
    const model = new FakeBlockDenoiser(V, 3, rising);
    model.blockAlign = 'prompt-end';
    await generateDiffusion(model, PROMPT, { ...greedy, genLength: 6, steps: 6, cache: 'dual' });
    expect(windows(model)[0]).toEqual([0, 9, 6]);
    expect(model.calls.every((c) => c.offset === undefined)).toBe(true);
  });
});
