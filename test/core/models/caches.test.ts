// Fast-dLLM's prefix and dual caches and the sparse and local caches in the diffusion sampler, on scripted fakes with
// exact schedules: which passes are full, how many positions each computes, and that every option keeps its meaning
// with a cache.
import { describe, expect, it } from 'vitest';
import { LOCAL_REACH, LOCAL_REFRESH, SPARSE_REFRESH } from '../../../src/core/models/caches.ts';
import { generateDiffusion } from '../../../src/core/sampler/diffusion.ts';
import { FakeCachingDenoiser, FakeDenoiser, logitsFrom, type ScriptedLogits } from '../../helpers/fake-models.ts';
import type { DiffusionOptions } from '../../../src/core/sampler/options.ts';
import type { Trace } from '../../../src/core/trace/trace.ts';

const V = 10; // 0 = end-of-text, 1 = mask, 2..9 ordinary tokens
const EOT = 0;
const PROMPT = [5, 6];
const conf: Record<number, number> = { 2: 0.5, 3: 0.9, 4: 0.7, 5: 0.6, 6: 0.55, 7: 0.8, 8: 0.65, 9: 0.75 };
const beliefs: ScriptedLogits = (seq) =>
  logitsFrom(seq.length, V, (p) => (conf[p] === undefined ? { 9: 1 } : { [2 + (p % 7)]: conf[p], 9: 1 - conf[p] }));

/** Greedy, two blocks of 4 after a 2-token prompt, one token per step: steps 1 and 5 start a block. */
const twoBlocks: Partial<DiffusionOptions> = {
  genLength: 8,
  steps: 8,
  blockLength: 4,
  temperature: 0,
  endOfTextAhead: null,
};

const commitsPerStep = (t: Trace) => t.steps.map((s) => s.commits.map((c) => c.pos));
const passKinds = (model: FakeDenoiser) => model.calls.map((c) => c.pass ?? 'full');

describe('cache off', () => {
  it('runs a full pass over every position at every step, as before', async () => {
    const model = new FakeCachingDenoiser(V, beliefs);
    const t = await generateDiffusion(model, PROMPT, twoBlocks);
    expect(passKinds(model)).toEqual(Array(8).fill('full'));
    expect(t.steps.map((s) => [s.fullPass, s.positions])).toEqual(Array(8).fill([true, 10]));
    expect(commitsPerStep(t)).toEqual([[3], [4], [5], [2], [7], [9], [8], [6]]);
  });
});

describe('dual cache', () => {
  it('refreshes the cache with a full pass at each block start and computes only the block after it', async () => {
    const model = new FakeCachingDenoiser(V, beliefs);
    const t = await generateDiffusion(model, PROMPT, { ...twoBlocks, cache: 'dual' });
    const block0 = { from: 2, to: 6 };
    const block1 = { from: 6, to: 10 };
    expect(passKinds(model)).toEqual(['cache', block0, block0, block0, 'cache', block1, block1, block1]);
    expect(t.steps.map((s) => s.fullPass)).toEqual([true, false, false, false, true, false, false, false]);
    expect(t.steps.map((s) => s.positions)).toEqual([10, 4, 4, 4, 10, 4, 4, 4]);
    expect(t.stats.forwardPasses).toBe(8); // a window pass is still a pass
    expect(commitsPerStep(t)).toEqual([[3], [4], [5], [2], [7], [9], [8], [6]]); // this fake's logits are exact
  });

  it('a shifted-logits model computes one position more: the state before the block predicts its first position', async () => {
    const model = new FakeCachingDenoiser(V, beliefs);
    model.shiftedLogits = true;
    const t = await generateDiffusion(model, PROMPT, { ...twoBlocks, cache: 'dual' });
    expect(t.steps.map((s) => s.positions)).toEqual([10, 5, 5, 5, 10, 5, 5, 5]);
    expect(commitsPerStep(t)).toEqual([[3], [4], [5], [2], [7], [9], [8], [6]]);
  });

  it('sends ghosts only for positions a pass computed', async () => {
    const t = await generateDiffusion(new FakeCachingDenoiser(V, beliefs), PROMPT, { ...twoBlocks, cache: 'dual' });
    expect(t.steps[0].ghosts.map((g) => g[0])).toEqual([2, 4, 5, 6, 7, 8, 9]); // every mask left after step 1
    for (const s of [t.steps[1], t.steps[2], t.steps[3]]) {
      for (const [pos] of s.ghosts) expect(pos >= 2 && pos < 6, `ghost at ${pos}`).toBe(true);
    }
  });

  it('edits only what a pass computed: a committed token of an earlier block is judged at block starts alone', async () => {
    // position 2 looks like token 4 at first; from the 7th pass on the model prefers token 8 there
    const script: ScriptedLogits = (seq, call) =>
      logitsFrom(seq.length, V, (p) =>
        p === 2 ? (call < 6 ? { 4: 0.9, 8: 0.1 } : { 4: 0.05, 8: 0.95 }) : { 6: 0.5 + p / 100, 9: 0.5 - p / 100 },
      );
    const options = { ...twoBlocks, editMode: 'threshold', editThreshold: 0.1, editAction: 'replace' } as const;
    const off = await generateDiffusion(new FakeCachingDenoiser(V, script), PROMPT, options);
    const dual = await generateDiffusion(new FakeCachingDenoiser(V, script), PROMPT, { ...options, cache: 'dual' });
    expect(off.steps[6].edits.map((e) => [e.pos, e.to])).toEqual([[2, 8]]); // pass 7, in block 1
    expect(dual.steps.flatMap((s) => s.edits)).toEqual([]); // passes 6-8 of block 1 compute positions 6-9 only
    expect(dual.final[2]).toBe(4);
  });

  it('sets the text length at the first step, a full pass, as without a cache', async () => {
    // blocks [2,3] [4,5] [6,7] [8,9]: a sure end from 6 on
    const model = new FakeCachingDenoiser(V, (seq) =>
      logitsFrom(seq.length, V, (p) => (p >= 6 ? { [EOT]: 0.95, 4: 0.05 } : { 4: 0.6 + p / 100, 9: 0.4 - p / 100 })),
    );
    const options = { ...twoBlocks, blockLength: 2, endOfTextAhead: 0.9 };
    const t = await generateDiffusion(model, PROMPT, { ...options, cache: 'dual' });
    expect(commitsPerStep(t)).toEqual([[3, 6, 7, 8, 9], [2], [5], [4]]);
    expect(t.steps.map((s) => s.fullPass)).toEqual([true, false, true, false]);
    expect(t.termination).toMatchObject({ reason: 'end-of-text', step: 4 });
  });

  it('guidance keeps a cache for each of its two sequences (the unconditional one of the masked prompt)', async () => {
    const model = new FakeCachingDenoiser(V, beliefs);
    const t = await generateDiffusion(model, PROMPT, { ...twoBlocks, cache: 'dual', cfgScale: 1 });
    expect(model.calls[1].pass).toEqual({ from: 2, to: 6 });
    expect(model.calls[1].sequences).toHaveLength(2);
    expect(model.calls[1].sequences[1].slice(0, 2)).toEqual([1, 1]);
    expect(t.stats.forwardPasses).toBe(16);
  });
});

describe('prefix cache', () => {
  it('computes the block and everything after it, reading the prompt and finished blocks from the cache', async () => {
    const model = new FakeCachingDenoiser(V, beliefs);
    const t = await generateDiffusion(model, PROMPT, { ...twoBlocks, cache: 'prefix' });
    const after0 = { from: 2, to: 10 };
    const after1 = { from: 6, to: 10 };
    expect(passKinds(model)).toEqual(['cache', after0, after0, after0, 'cache', after1, after1, after1]);
    expect(t.steps.map((s) => s.positions)).toEqual([10, 8, 8, 8, 10, 4, 4, 4]);
    expect(commitsPerStep(t)).toEqual([[3], [4], [5], [2], [7], [9], [8], [6]]);
  });

  it('threshold decoding inside the block still commits everything at or above tau', async () => {
    const model = new FakeCachingDenoiser(V, beliefs);
    const t = await generateDiffusion(model, PROMPT, { ...twoBlocks, threshold: 0.7, cache: 'prefix' });
    expect(commitsPerStep(t)).toEqual([[3, 4], [5], [2], [7, 9], [8], [6]]);
    expect(t.steps.map((s) => s.fullPass)).toEqual([true, false, false, true, false, false]);
  });
});

describe('sparse cache', () => {
  /** One block of 24 masks after the prompt (positions 2..25), greedy, with confidences in no order. */
  const long: Partial<DiffusionOptions> = {
    genLength: 24,
    steps: 24,
    blockLength: 24,
    temperature: 0,
    endOfTextAhead: null,
  };
  const ramp: ScriptedLogits = (seq) =>
    logitsFrom(seq.length, V, (p) => ({ [2 + (p % 8)]: 0.3 + ((p * 7) % 24) / 40, 9: 0.1 }));

  /** One block over 8 masks: commits by confidence anywhere, 3 7 9 4 8 5 6 2. */
  const oneBlock: Partial<DiffusionOptions> = { ...twoBlocks, blockLength: 8 };

  it("computes only the block's masks and the tokens committed since the last pass, wherever they stand", async () => {
    const model = new FakeCachingDenoiser(V, beliefs);
    const t = await generateDiffusion(model, PROMPT, { ...oneBlock, cache: 'sparse' });
    expect(commitsPerStep(t)).toEqual([[3], [7], [9], [4], [8], [5], [6], [2]]); // as with full passes: the fake is exact
    expect(passKinds(model)).toEqual([
      'cache',
      { positions: [2, 3, 4, 5, 6, 7, 8, 9] }, // 3 committed at step 1, the rest masked
      { positions: [2, 4, 5, 6, 7, 8, 9] }, // 7 committed at step 2; 3 is read from the cache now
      { positions: [2, 4, 5, 6, 8, 9] },
      { positions: [2, 4, 5, 6, 8] },
      { positions: [2, 5, 6, 8] },
      { positions: [2, 5, 6] },
      { positions: [2, 6] },
    ]);
    expect(t.steps.map((s) => s.positions)).toEqual([10, 8, 7, 6, 5, 4, 3, 2]);
    expect(t.steps.map((s) => s.fullPass)).toEqual([true, ...Array(7).fill(false)]);
    // what a pass computed entered the cache: the pass at step 3 saw 3 from the cache, 7 as committed
    expect(model.calls[2].sequences[0].slice(2)).toEqual([1, 5, 1, 1, 1, 2, 1, 1]);
  });

  it('gives the same tokens as full passes, and is refreshed by a full pass every SPARSE_REFRESH steps', async () => {
    const off = await generateDiffusion(new FakeCachingDenoiser(V, ramp), PROMPT, { ...long });
    const model = new FakeCachingDenoiser(V, ramp);
    const sparse = await generateDiffusion(model, PROMPT, { ...long, cache: 'sparse' });
    expect(commitsPerStep(sparse)).toEqual(commitsPerStep(off));
    const full = sparse.steps.flatMap((s, i) => (s.fullPass ? [i + 1] : []));
    expect(full).toEqual([1, 1 + SPARSE_REFRESH]);
    // the step after the refresh: the masks left and the one token the refresh's step committed
    expect(sparse.steps[SPARSE_REFRESH + 1].positions).toBe(24 - (SPARSE_REFRESH + 1) + 1);
  });

  it("with blocks: the cache is refreshed at each block start, and only the current block's masks are computed", async () => {
    const model = new FakeCachingDenoiser(V, beliefs);
    const t = await generateDiffusion(model, PROMPT, { ...twoBlocks, cache: 'sparse' });
    expect(commitsPerStep(t)).toEqual([[3], [4], [5], [2], [7], [9], [8], [6]]);
    expect(passKinds(model)).toEqual([
      'cache',
      { positions: [2, 3, 4, 5] },
      { positions: [2, 4, 5] },
      { positions: [2, 5] },
      'cache',
      { positions: [6, 7, 8, 9] },
      { positions: [6, 8, 9] },
      { positions: [6, 8] },
    ]);
  });

  it('local: only the masks near a token just written are computed; the others keep their last prediction', async () => {
    // the fake's beliefs do not depend on the canvas, so the last prediction is the fresh one and the commits are
    // those of full passes
    const off = await generateDiffusion(new FakeCachingDenoiser(V, ramp), PROMPT, long);
    const model = new FakeCachingDenoiser(V, ramp);
    const local = await generateDiffusion(model, PROMPT, { ...long, cache: 'local' });
    expect(commitsPerStep(local)).toEqual(commitsPerStep(off));
    // every pass but the refreshes: the token written at the step before and the masks within LOCAL_REACH of it
    const canvas = [...PROMPT, ...Array(24).fill(1)];
    local.steps.forEach((step, i) => {
      if (i > 0 && !step.fullPass) {
        const written = local.steps[i - 1].commits.map((c) => c.pos);
        const masks = canvas.flatMap((t, p) =>
          t === 1 && written.some((w) => Math.abs(w - p) <= LOCAL_REACH) ? [p] : [],
        );
        expect(model.calls[i].pass, `step ${i + 1}`).toEqual({
          positions: [...new Set([...written, ...masks])].sort((a, b) => a - b),
        });
      }
      for (const c of step.commits) canvas[c.pos] = c.token;
    });
    const full = local.steps.flatMap((s, i) => (s.fullPass ? [i + 1] : []));
    expect(full).toEqual([1, 1 + LOCAL_REFRESH, 1 + 2 * LOCAL_REFRESH]); // its own refresh, more often than sparse
    expect(Math.max(...local.steps.filter((s) => !s.fullPass).map((s) => s.positions!))).toBeLessThanOrEqual(
      1 + 2 * LOCAL_REACH,
    );
  });

  it('a shifted-logits model computes the state before each mask (which predicts it)', async () => {
    const model = new FakeCachingDenoiser(V, beliefs);
    model.shiftedLogits = true;
    const t = await generateDiffusion(model, PROMPT, { ...oneBlock, cache: 'sparse' });
    expect(commitsPerStep(t)).toEqual([[3], [7], [9], [4], [8], [5], [6], [2]]);
    // step 2: masks 2 4 5 6 7 8 9 are predicted by the states at 1 3 4 5 6 7 8; 3 (committed) is among them
    expect(model.calls[1].pass).toEqual({ positions: [1, 3, 4, 5, 6, 7, 8] });
    // step 3: masks 2 4 5 6 8 9 from the states at 1 3 4 5 7 8; 7, committed at step 2, is one of them anyway
    expect(model.calls[2].pass).toEqual({ positions: [1, 3, 4, 5, 7, 8] });
  });
});

it('refuses a cache for a model without a cached graph, saying so', async () => {
  await expect(
    generateDiffusion(new FakeDenoiser(V, beliefs), PROMPT, { ...twoBlocks, cache: 'dual' }),
  ).rejects.toThrow(/cache.*"dual" needs a model with a cached graph, and fake-denoiser has none/);
  await expect(
    generateDiffusion(new FakeCachingDenoiser(V, beliefs), PROMPT, { ...twoBlocks, cache: 'both' as never }),
  ).rejects.toThrow(/cache.*must be one of off, prefix, dual/);
});
