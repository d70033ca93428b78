// Trace files are untrusted: every one is either refused with a message naming the field, or replays.
import { describe, expect, it } from 'vitest';
import { generateAr } from '../../../src/core/sampler/ar.ts';
import { generateDiffusion } from '../../../src/core/sampler/diffusion.ts';
import { TraceFileError } from '../../../src/core/errors.ts';
import { FakeBlockDenoiser, FakeCausalLM, FakeDenoiser, logitsFrom } from '../../helpers/fake-models.ts';
import { cellsAt, stepSeries, stepTimes } from '../../../src/core/trace/replay.ts';
import { Rng } from '../../../src/core/sampler/rng.ts';
import { MAX_CANVAS, parseTraceFile } from '../../../src/core/trace/trace-file.ts';
import { canvasAt, type Trace } from '../../../src/core/trace/trace.ts';

const V = 10;

/** A real exported file: a diffusion run with edits, ghosts and an early stop, and an AR run. */
async function realFile() {
  const model = new FakeDenoiser(V, (seq, call) =>
    logitsFrom(seq.length, V, (p) =>
      p === 2
        ? call === 0
          ? { 4: 0.9, 8: 0.1 }
          : { 4: 0.05, 8: 0.95 }
        : p === 6
          ? { 0: 0.9, 5: 0.1 }
          : { 6: 0.5, 9: 0.5 },
    ),
  );
  const diffusion = await generateDiffusion(model, [5, 6], {
    genLength: 6,
    steps: 6,
    blockLength: 6,
    temperature: 0,
    editMode: 'threshold',
    editAction: 'replace',
  });
  const ar = await generateAr(new FakeCausalLM(V, () => logitsFrom(1, V, () => ({ 7: 0.6, 3: 0.4 }))), [5, 6], {
    maxNewTokens: 5,
    temperature: 0,
  });
  const blockModel = new FakeBlockDenoiser(V, 4, (visible) =>
    logitsFrom(visible.length + 1, V, () => ({ 7: 0.7, 3: 0.3 })),
  );
  const block = await generateDiffusion(blockModel, [5, 6], { genLength: 8, temperature: 0, cache: 'dual' });
  const vocabText = Array.from({ length: V }, (_, i) => `<${i}>`);
  return { format: 'diffusion-demo-trace/1', prompt: 'five six', pair: 'fake', diffusion, block, ar, vocabText };
}

/** Everything the page does with a trace it opened. */
function replayAll(t: Trace) {
  for (let step = 0; step <= t.steps.length; step++) cellsAt(t, step);
  canvasAt(t, t.steps.length);
  stepTimes(t.steps, 'passes');
  stepTimes(t.steps, 'ms');
  stepSeries(t.steps);
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

describe('trace files', () => {
  it('a real exported file replays', async () => {
    const f = parseTraceFile(clone(await realFile()));
    expect(f.diffusion!.steps.length).toBeGreaterThan(1);
    expect(f.diffusion!.steps.some((s) => s.ghosts.length)).toBe(true);
    replayAll(f.diffusion!);
    replayAll(f.block!);
    replayAll(f.ar!);
  });

  it('refuses what broke the page, naming the field', async () => {
    const cases: [(f: any) => void, RegExp][] = [
      [
        (f) => (f.diffusion.steps[0].commits[0].pos = 1e9),
        /diffusion.steps\[0\].commits\[0\].pos must be an integer in \[0, 7\], got number 1000000000/,
      ],
      [(f) => (f.diffusion.steps[0].commits[0].pos = -1), /diffusion.steps\[0\].commits\[0\].pos must be an integer/],
      [(f) => (f.diffusion.steps = [{}]), /diffusion.steps\[0\].step must be an integer/],
      [
        (f) => (f.diffusion.initial = new Array(200_000).fill(1)),
        new RegExp(`diffusion.initial has 200000 entries; at most ${MAX_CANVAS}`),
      ],
      [(f) => (f.ar.steps[0].commits[0].token = 99), /ar.steps\[0\].commits\[0\].token must be an integer in \[0, 9\]/],
      [(f) => (f.diffusion.steps[1].ghosts = [[1, 2]]), /ghosts\[0\] must be \[position, token, probability\]/],
      [(f) => (f.diffusion.stats.wallMs = 'fast'), /diffusion.stats.wallMs must be a finite number/],
      [(f) => (f.vocabText = 'abc'), /vocabText must be an array/],
      [(f) => ([f.diffusion, f.ar] = [f.ar, f.diffusion]), /wrong model/],
      [(f) => (f.block = f.ar), /wrong model/],
      [(f) => (f.block = { ...f.diffusion, maskId: -7 }), /block.maskId/],
    ];
    for (const [mutate, message] of cases) {
      const f = clone(await realFile());
      mutate(f);
      expect(() => parseTraceFile(f)).toThrow(TraceFileError);
      expect(() => parseTraceFile(f)).toThrow(message);
    }
  });

  it('fuzz: every random mutation of a real trace is refused with a message or replays', async () => {
    const base = await realFile();
    const rng = new Rng(2026);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.uniform() * xs.length)];
    const values = [-1, 0, 1, 7, 1e9, -1e9, 0.5, 1e308, null, true, 'x', '', [], {}, [0, 1, 2], { from: 3, to: 1 }];
    /** Every path to a value inside the file, for the mutations to aim at. */
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) walk(x, [...path, Array.isArray(v) ? Number(k) : k]);
    };
    walk(base, []);
    let refused = 0;
    let replayed = 0;
    for (let i = 0; i < 3000; i++) {
      const f = clone(base) as any;
      for (let m = 0; m < 1 + Math.floor(rng.uniform() * 3); m++) {
        const path = pick(paths);
        if (path.length === 0) continue;
        let parent = f;
        for (const k of path.slice(0, -1)) parent = parent?.[k];
        if (parent === null || typeof parent !== 'object') continue;
        const key = path[path.length - 1];
        if (rng.uniform() < 0.2) delete parent[key];
        else parent[key] = clone(pick(values));
      }
      let parsed;
      try {
        parsed = parseTraceFile(f);
      } catch (err) {
        expect(err).toBeInstanceOf(TraceFileError);
        expect((err as Error).message.length).toBeGreaterThan(10);
        refused++;
        continue;
      }
      if (parsed.diffusion) replayAll(parsed.diffusion);
      if (parsed.ar) replayAll(parsed.ar);
      replayed++;
    }
    expect(refused).toBeGreaterThan(100);
    expect(replayed).toBeGreaterThan(100);
  });
});
