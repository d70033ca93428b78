import { describe, expect, it } from 'vitest';
import { generateAr } from '../../../src/core/sampler/ar.ts';
import { generateDiffusion } from '../../../src/core/sampler/diffusion.ts';
import { FakeCausalLM, FakeDenoiser, logitsFrom } from '../../helpers/fake-models.ts';
import { cellsAt, parseTraceFile, stepAt, stepSeries, stepTimes } from '../../../src/core/trace/replay.ts';
import { canvasAt } from '../../../src/core/trace/trace.ts';

const V = 10;
const MASK = 1;
const EOT = 0;

describe('cellsAt', () => {
  it('shows prompt, masks with ghosts, fresh commits and the end-of-text tail', async () => {
    const model = new FakeDenoiser(V, (seq) =>
      logitsFrom(seq.length, V, (p) => (p === 3 ? { [EOT]: 0.95, 4: 0.05 } : { 4: 0.6, 9: 0.4 })),
    );
    const t = await generateDiffusion(model, [5, 6], { genLength: 4, blockLength: 4, temperature: 0 });
    const at0 = cellsAt(t, 0);
    expect(at0.map((c) => c.state)).toEqual(['prompt', 'prompt', 'masked', 'masked', 'masked', 'masked']);
    const at1 = cellsAt(t, 1);
    expect(at1[3]).toMatchObject({ state: 'end', token: EOT, fresh: true, committedAt: 1, conf: 0.95 });
    expect(at1[2]).toMatchObject({ state: 'masked', ghost: { token: 4, prob: 0.6 } });
    const at2 = cellsAt(t, 2);
    expect(at2.map((c) => c.state)).toEqual(['prompt', 'prompt', 'committed', 'end', 'tail', 'tail']);
    expect(at2[3].fresh).toBe(false);
    expect(at2.map((c) => c.token)).toEqual(canvasAt(t, 2));
  });

  it('flags re-masked and edited positions', async () => {
    const model = new FakeDenoiser(V, (seq, call) =>
      logitsFrom(seq.length, V, (p) =>
        p === 2 ? (call === 0 ? { 4: 0.9, 8: 0.1 } : { 4: 0.05, 8: 0.95 }) : { 6: 0.5, 9: 0.5 },
      ),
    );
    const t = await generateDiffusion(model, [5, 6], {
      genLength: 3,
      steps: 3,
      editMode: 'threshold',
      editThreshold: 0.1,
    });
    expect(cellsAt(t, 2)[2]).toMatchObject({ state: 'masked', remasked: true, edit: { from: 4, to: MASK, step: 2 } });
    expect(cellsAt(t, 3)[2]).toMatchObject({
      state: 'committed',
      token: 8,
      remasked: false,
      edit: { from: 4, to: MASK },
    });
  });

  it('grows AR cells left to right', async () => {
    const model = new FakeCausalLM(V, (seq) => logitsFrom(1, V, () => ({ [2 + (seq.length % 7)]: 0.9, 9: 0.1 })));
    const t = await generateAr(model, [5, 6], { maxNewTokens: 3 });
    expect(cellsAt(t, 0)).toHaveLength(2);
    expect(cellsAt(t, 2).map((c) => c.state)).toEqual(['prompt', 'prompt', 'committed', 'committed']);
    expect(cellsAt(t, 3).map((c) => c.token)).toEqual(t.final);
  });
});

describe('time axis', () => {
  it('maps a time to the steps done by then, in passes or ms', () => {
    const steps = [1, 2, 3].map((i) => ({
      step: i,
      block: 0,
      forwardPasses: 2 * i,
      modelMs: 10,
      samplerMs: 1,
      commits: [],
      edits: [],
      ghosts: [],
    }));
    expect(stepTimes(steps, 'passes')).toEqual([2, 4, 6]);
    expect(stepTimes(steps, 'ms')).toEqual([11, 22, 33]);
    expect([0, 1.9, 2, 5, 6, 100].map((t) => stepAt([2, 4, 6], t))).toEqual([0, 0, 1, 2, 3, 3]);
  });

  it('series of commits and mean confidence per step', () => {
    const c = (conf: number) => ({ pos: 0, token: 2, text: '', conf });
    const steps = [
      {
        step: 1,
        block: 0,
        forwardPasses: 1,
        modelMs: 0,
        samplerMs: 0,
        commits: [c(0.5), c(0.9)],
        edits: [],
        ghosts: [],
      },
      { step: 2, block: 0, forwardPasses: 2, modelMs: 0, samplerMs: 0, commits: [], edits: [], ghosts: [] },
    ];
    expect(stepSeries(steps)).toEqual({ committed: [2, 0], meanConfidence: [0.7, 0] });
  });
});

describe('trace files', () => {
  it('rejects files that are not traces of this demo', () => {
    expect(() => parseTraceFile({})).toThrow(/not a trace file of this demo/);
    expect(() => parseTraceFile({ format: 'diffusion-demo-trace/1', diffusion: { version: 1 } })).toThrow(
      /diffusion.kind must be "diffusion" or "ar"/,
    );
    expect(() => parseTraceFile({ format: 'diffusion-demo-trace/1' })).toThrow(/holds no trace/);
  });
});
