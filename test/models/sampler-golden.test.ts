// A shipped pair (the committed fixture, or PAIR_DIR): our diffusion sampler reproduces the Python reference
// sampler (models/py/golden.py) token for token and step for step. Only for committed pairs with trained
// models: on a barely trained model (the CI pipeline smoke) many confidences tie within float noise, and the
// two runtimes' last-digit differences legitimately reorder them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDiffusion } from '../../src/core/sampler/diffusion.ts';
import { OrtBlockDenoiser } from '../../src/core/models/onnx/block-denoiser.ts';
import { parseModelConfig } from '../../src/core/models/onnx/config.ts';
import { OrtWindowedDenoiser } from '../../src/core/models/onnx/windowed-denoiser.ts';
import { PAIR_DIR, denoiserIn, ort, readJson } from '../helpers/fixture.ts';

/** One case of models/py/golden.py: the reference sampler's output and the positions it committed per step. */
interface GoldenCase {
  prompt: number[];
  gen_length: number;
  steps: number;
  block_length: number;
  output: number[];
  committed_per_step: number[][];
}

describe(`sampler of the pair in ${PAIR_DIR}`, () => {
  it('the diffusion sampler reproduces the Python reference sampler token for token', async () => {
    const golden = readJson<{ cases: GoldenCase[] }>(join(PAIR_DIR, 'golden', 'sampler.json'));
    expect(golden.cases.length).toBeGreaterThanOrEqual(4);
    // as the engine loads it; no cache (the sampler's default), so every step is a full pass
    const denoiser = await denoiserIn(
      join(PAIR_DIR, 'diffusion'),
      (whole, config, cached) => new OrtWindowedDenoiser(ort, whole, config, 'diffusion', undefined, cached),
    );
    for (const c of golden.cases) {
      const t = await generateDiffusion(denoiser, c.prompt, {
        genLength: c.gen_length,
        steps: c.steps,
        blockLength: c.block_length,
        temperature: 0, // the reference is greedy
        stopAtEndOfText: false, // the reference runs every step
        endOfTextAhead: null, // and has no end-of-text look-ahead
      });
      expect(t.final).toEqual(c.output);
      expect(t.steps.map((s) => s.commits.map((x) => x.pos))).toEqual(
        c.committed_per_step.map((s) => [...s].sort((a, b) => a - b)),
      );
    }
  });
});

interface BlockGoldenCase {
  prompt: number[];
  gen_length: number;
  steps_per_block: number;
  block_size: number;
  output: number[];
  committed_per_step: number[][];
}

const blockGolden = join(PAIR_DIR, 'golden', 'block-sampler.json');

/** The pair's block model with its cached graph, as the engine loads it. */
async function blockModel(): Promise<OrtBlockDenoiser> {
  const model = await denoiserIn(
    join(PAIR_DIR, 'block'),
    (whole, config, cached) => new OrtBlockDenoiser(ort, whole, config, 'block', undefined, cached),
  );
  expect(model.blockSize).toBe(readJson(join(PAIR_DIR, 'block', 'config.json')).diffusion.block_size);
  return model;
}

describe.runIf(existsSync(blockGolden))(`block sampler of the pair in ${PAIR_DIR}`, () => {
  it('block diffusion with the exact cache reproduces the Python reference (uncached) token for token', async () => {
    const golden = readJson<{ cases: BlockGoldenCase[] }>(blockGolden);
    expect(golden.cases.length).toBeGreaterThanOrEqual(4);
    const model = await blockModel();
    for (const c of golden.cases) {
      expect(c.block_size).toBe(model.blockSize);
      const t = await generateDiffusion(model, c.prompt, {
        genLength: c.gen_length,
        steps: (c.steps_per_block * c.gen_length) / c.block_size,
        temperature: 0,
        stopAtEndOfText: false,
        endOfTextAhead: null,
        cache: 'dual',
      });
      expect(t.final).toEqual(c.output);
      expect(t.steps.map((s) => s.commits.map((x) => x.pos))).toEqual(
        c.committed_per_step.map((s) => [...s].sort((a, b) => a - b)),
      );
    }
    await model.release();
  });

  it('the sampler writes the same tokens with the exact cache as without it (temperature 0)', async () => {
    const model = await blockModel();
    const size = model.blockSize!;
    const prompt = readJson<{ cases: BlockGoldenCase[] }>(blockGolden).cases[0].prompt; // 7 tokens: a partial block
    const options = { genLength: 8 * size, temperature: 0, stopAtEndOfText: false, endOfTextAhead: null };
    const on = await generateDiffusion(model, prompt, { ...options, cache: 'dual' });
    const off = await generateDiffusion(model, prompt, { ...options, cache: 'off' });
    expect(on.final).toEqual(off.final);
    expect(on.steps.map((s) => s.commits.map((x) => [x.pos, x.token]))).toEqual(
      off.steps.map((s) => s.commits.map((x) => [x.pos, x.token])),
    );
    // the cache computes a block (and each finished block once) instead of everything up to the block's end
    const positions = (t: typeof on) => t.steps.reduce((a, s) => a + (s.positions ?? 0), 0);
    expect(positions(on)).toBeLessThan(positions(off));
    await model.release();
  });
});
