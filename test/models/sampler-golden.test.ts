// A shipped pair (the committed fixture, or PAIR_DIR): our diffusion sampler reproduces the Python reference
// sampler (models/py/golden.py) token for token and step for step. Only for committed pairs with trained
// models: on a barely trained model (the CI pipeline smoke) many confidences tie within float noise, and the
// two runtimes' last-digit differences legitimately reorder them.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDiffusion } from '../../src/core/diffusion-sampler.ts';
import { OrtDenoiser } from '../../src/core/ort-models.ts';
import { PAIR_DIR, ort, readJson, session } from '../helpers/fixture.ts';

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
    const denoiser = new OrtDenoiser(
      ort,
      await session('diffusion'),
      readJson(join(PAIR_DIR, 'diffusion', 'config.json')),
      'diffusion',
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
