// Drafts in hand (issue 28): a run taken back to a step, edited, resumed — on the scripted fakes, with exact
// schedules (steps left, blocks left), every kind of edit checked, and the trace keeping the visitor's edits.
import { describe, expect, it } from 'vitest';
import { generateDiffusion } from '../../../src/core/sampler/diffusion.ts';
import { generateAr } from '../../../src/core/sampler/ar.ts';
import { resumeAr, resumeDiffusion, resolveEdits } from '../../../src/core/drafts/resume.ts';
import { continuesWord, typedEdits, type DraftEdit } from '../../../src/core/drafts/edits.ts';
import { DraftEditError } from '../../../src/core/errors.ts';
import { canvasAt, type Trace } from '../../../src/core/trace/trace.ts';
import { parseTraceFile, TRACE_FORMAT } from '../../../src/core/trace/trace-file.ts';
import { timelineOf } from '../../../src/core/trace/timeline.ts';
import { cellsAt } from '../../../src/core/trace/replay.ts';
import {
  FakeBlockDenoiser,
  FakeCachingDenoiser,
  FakeCausalLM,
  FakeDenoiser,
  logitsFrom,
  type ScriptedBlockLogits,
} from '../../helpers/fake-models.ts';
import type { DiffusionOptions } from '../../../src/core/sampler/options.ts';

const V = 12; // 0 = end-of-text, 1 = mask, 2..11 ordinary tokens
const MASK = 1;
const PROMPT = [5, 6];
const greedy: Partial<DiffusionOptions> = { temperature: 0, endOfTextAhead: null, stopAtEndOfText: false };

/** Position p predicts token 2 + (p % 9), surer the further right (a fixed order of commits, right to left). */
const rising = () =>
  new FakeCachingDenoiser(V, (seq) =>
    logitsFrom(seq.length, V, (p) => ({ [2 + (p % 9)]: 0.5 + 0.04 * p, 11: 0.5 - 0.04 * p })),
  );
const commitsPerStep = (t: Trace) => t.steps.filter((s) => !s.visitor).map((s) => s.commits.map((c) => c.pos));
const text = (id: number) => `<${id}>`;

describe('resuming a diffusion run', () => {
  it('without edits goes on exactly as the run did: the same steps, the same tokens (every schedule, cache or not)', async () => {
    const cases: Partial<DiffusionOptions>[] = [
      { genLength: 8, steps: 8, blockLength: 8 },
      { genLength: 8, steps: 8, blockLength: 4 },
      { genLength: 12, steps: 6, blockLength: 4 },
      { genLength: 8, steps: 8, blockLength: 4, cache: 'dual' },
      { genLength: 8, steps: 8, blockLength: 4, cache: 'prefix' },
      { genLength: 8, steps: 8, blockLength: 4, schedule: 'dllm' },
      { genLength: 8, steps: 4, blockLength: 8, schedule: 'dream' },
      { genLength: 8, steps: 8, blockLength: 4, threshold: 0.7 },
      { genLength: 8, steps: 8, blockLength: 8, decideLength: true },
    ];
    for (const c of cases) {
      const o = { ...greedy, ...c };
      const full = await generateDiffusion(rising(), PROMPT, o);
      for (let k = 0; k <= full.steps.length; k++) {
        const resumed = await resumeDiffusion(rising(), full, k, []);
        expect(commitsPerStep(resumed), `${JSON.stringify(c)} at step ${k}`).toEqual(commitsPerStep(full));
        expect(resumed.final).toEqual(full.final);
        expect(resumed.steps.slice(0, k)).toEqual(full.steps.slice(0, k));
        // a fixed schedule plans the same steps; a dynamic rule plans one a mask left, decideLength none for the tail
        if (!c.threshold && !c.decideLength) {
          expect(resumed.termination.plannedSteps, `${JSON.stringify(c)} at ${k}`).toBe(full.termination.plannedSteps);
        }
      }
    }
  });

  it('spreads the masks left over the block’s steps left: a re-masked token in the current block', async () => {
    // one block of 8, one token a step: step 3 has written 9, 8, 7; the visitor re-masks 8
    const full = await generateDiffusion(rising(), PROMPT, { ...greedy, genLength: 8, steps: 8, blockLength: 8 });
    expect(commitsPerStep(full)).toEqual([[9], [8], [7], [6], [5], [4], [3], [2]]);
    const resumed = await resumeDiffusion(rising(), full, 3, [{ kind: 'remask', from: 8, to: 9 }]);
    // 6 masks over the 5 steps left: ceil(6/5) = 2, then one a step
    expect(commitsPerStep(resumed)).toEqual([[9], [8], [7], [6, 8], [5], [4], [3], [2]]);
    expect(resumed.steps[3]).toMatchObject({
      step: 4,
      visitor: true,
      commits: [],
      edits: [{ pos: 8, from: 10, to: MASK }],
    });
    expect(resumed.steps.length).toBe(9);
    expect(resumed.final).toEqual(full.final);
  });

  it('decodes a finished block the visitor re-masked first, from its first step, then the block it was in', async () => {
    // blocks of 4 ([2, 6), [6, 10)), 4 steps each; step 6 is the second of block 1
    const o = { ...greedy, genLength: 8, steps: 8, blockLength: 4 };
    const full = await generateDiffusion(rising(), PROMPT, o);
    expect(commitsPerStep(full)).toEqual([[5], [4], [3], [2], [9], [8], [7], [6]]);
    const resumed = await resumeDiffusion(rising(), full, 6, [{ kind: 'remask', from: 3, to: 5 }]);
    // block 0: 2 masks over its 4 steps, one a step; block 1: 2 masks over its 2 steps left
    expect(commitsPerStep(resumed)).toEqual([[5], [4], [3], [2], [9], [8], [4], [3], [7], [6]]);
    expect(resumed.steps.slice(7).map((s) => s.block)).toEqual([0, 0, 1, 1]);
  });

  it('refreshes a cache at the first resumed step: a dual-cache pass would read the visitor’s old tokens', async () => {
    const model = rising();
    const o = { ...greedy, genLength: 8, steps: 8, blockLength: 4, cache: 'dual' as const };
    const full = await generateDiffusion(rising(), PROMPT, o);
    await resumeDiffusion(model, full, 6, [{ kind: 'set', pos: 2, tokens: [7] }]);
    expect(model.calls[0].pass).toBe('cache');
    expect(model.calls[0].sequences[0].slice(0, 3)).toEqual([5, 6, 7]);
  });

  it('keeps a typed token: the model writes around it, never over it', async () => {
    const o = { ...greedy, genLength: 8, steps: 8, blockLength: 8 };
    const full = await generateDiffusion(rising(), PROMPT, o);
    const resumed = await resumeDiffusion(rising(), full, 0, [{ kind: 'set', pos: 5, tokens: [10, 11] }]);
    expect(resumed.final.slice(5, 7)).toEqual([10, 11]);
    expect(commitsPerStep(resumed)).toEqual([[9], [8], [7], [4], [3], [2]]);
    expect(resumed.steps[0]).toMatchObject({
      visitor: true,
      edits: [
        { pos: 5, to: 10 },
        { pos: 6, to: 11 },
      ],
    });
  });

  it('keeps the length decided at the first step (decideLength); a re-masked tail position is written again', async () => {
    // p(end-of-text) 0.9 from position 6 on, ~0.35 before: the expected length is 3, so the text is 2..4
    const ending = new FakeDenoiser(V, (seq) =>
      logitsFrom(seq.length, V, (p) => (p >= 6 ? { 0: 0.9, 11: 0.1 } : { [2 + (p % 9)]: 0.5 + 0.04 * p, 0: 0.3 })),
    );
    const o = { ...greedy, genLength: 8, steps: 8, blockLength: 8, decideLength: true };
    const full = await generateDiffusion(ending, PROMPT, o);
    expect(full.final.slice(5)).toEqual([0, 0, 0, 0, 0]);
    const inside = await resumeDiffusion(ending, full, 2, [{ kind: 'remask', from: 2, to: 4 }]);
    expect(inside.final).toEqual(full.final);
    expect(commitsPerStep(inside).slice(1)).toEqual([[3], [3], [2]]); // 3 written at step 2, re-masked, written again
    // position 5 is after the decided end: end-of-text is allowed there, and the model's surer word wins
    const tail = await resumeDiffusion(ending, full, 3, [{ kind: 'remask', from: 5, to: 6 }]);
    expect(tail.final.slice(2, 7)).toEqual([4, 5, 6, 7, 0]);
  });
});

describe('a block-diffusion run resumed', () => {
  const blocky: ScriptedBlockLogits = (visible) =>
    logitsFrom(visible.length + 1, 40, (p) => ({ [10 + ((p + visible[1]) % 20)]: 0.5 + 0.02 * p, 9: 0.5 - 0.02 * p }));
  const PROMPT6 = [2, 3, 4, 5, 6, 7];
  const o = { ...greedy, genLength: 8, steps: 8 };

  it('gives the same tokens after an edit with the exact cache and without (its cache is exact)', async () => {
    for (const edits of [
      [{ kind: 'remask', from: 6, to: 8 }],
      [{ kind: 'set', pos: 9, tokens: [33] }],
      [
        { kind: 'remask', from: 7, to: 8 },
        { kind: 'set', pos: 12, tokens: [30] },
      ],
    ] as DraftEdit[][]) {
      const runs: Trace[] = [];
      for (const cache of ['off', 'dual'] as const) {
        const full = await generateDiffusion(new FakeBlockDenoiser(40, 4, blocky), PROMPT6, { ...o, cache });
        // the stale-cache check of the fake throws if a resumed pass read a finished block's old tokens
        runs.push(await resumeDiffusion(new FakeBlockDenoiser(40, 4, blocky), full, 5, edits, {}));
      }
      expect(runs[1].final).toEqual(runs[0].final);
      expect(commitsPerStep(runs[1])).toEqual(commitsPerStep(runs[0]));
    }
  });
});

describe('the visitor’s edits are checked before any pass', () => {
  const run = () => generateDiffusion(rising(), PROMPT, { ...greedy, genLength: 8, steps: 8, blockLength: 8 });
  const refused = async (edits: DraftEdit[], message: RegExp, at = 3, tokenText = text) => {
    const model = rising();
    const full = await run();
    await expect(resumeDiffusion(model, full, at, edits, { tokenText })).rejects.toThrow(DraftEditError);
    await expect(resumeDiffusion(model, full, at, edits, { tokenText })).rejects.toThrow(message);
    expect(model.calls).toEqual([]);
  };

  it('out of range, into the prompt, empty, overlapping, the mask as a token, a step the run does not have', async () => {
    await refused([{ kind: 'remask', from: 8, to: 11 }], /outside the canvas: positions 2..9/);
    await refused([{ kind: 'set', pos: -1, tokens: [3] }], /outside the canvas/);
    await refused([{ kind: 'remask', from: 1, to: 3 }], /position 1 is in the prompt \(0..1\)/);
    await refused([{ kind: 'remask', from: 5, to: 5 }], /is empty/);
    await refused([{ kind: 'set', pos: 4, tokens: [] }], /writes no token/);
    await refused([{ kind: 'set', pos: 4, tokens: [MASK] }], /re-mask instead/);
    await refused([{ kind: 'set', pos: 4, tokens: [V] }], /token 12 is outside 0..11/);
    await refused([{ kind: 'set', pos: 4.5, tokens: [3] }], /must be integers/);
    await refused(
      [
        { kind: 'remask', from: 4, to: 7 },
        { kind: 'set', pos: 6, tokens: [3] },
      ],
      /overlaps re-mask 4-6/,
    );
    await refused([], /steps 0..8 to resume from/, 9);
    // two re-masks may overlap: the union is masked
    const full = await run();
    const union = await resumeDiffusion(rising(), full, 3, [
      { kind: 'remask', from: 7, to: 9 },
      { kind: 'remask', from: 8, to: 10 },
    ]);
    expect(union.steps[3].edits.map((e) => e.pos)).toEqual([7, 8, 9]);
  });

  it('mid-token: an edit may not start or end inside a word the tokenizer split', async () => {
    // tokens 9, 10 and 2 read " gar", "den", "den": one word at 7-9 (written at steps 1-3)
    const pieces = (id: number) => ({ 9: ' gar', 10: 'den', 2: 'den' })[id] ?? ` w${id}`;
    const full = await run();
    expect(canvasAt(full, 3).slice(7, 10)).toEqual([9, 10, 2]);
    expect(continuesWord(canvasAt(full, 3), 8, MASK, pieces)).toBe(true);
    await refused(
      [{ kind: 'remask', from: 8, to: 10 }],
      /position 8 is inside a word .* the word starts at 7/,
      3,
      pieces,
    );
    await refused([{ kind: 'set', pos: 7, tokens: [4] }], /position 8 is inside a word/, 3, pieces);
    // the whole word, or a word typed over it (which re-masks the rest of it), is fine
    const typed = typedEdits(canvasAt(full, 3), { kind: 'type', pos: 7, text: 'cat' }, MASK, pieces, (t) =>
      t === ' cat' ? [4] : [],
    );
    expect(typed).toEqual([
      { kind: 'set', pos: 7, tokens: [4] },
      { kind: 'remask', from: 8, to: 10 },
    ]);
    const resumed = await resumeDiffusion(rising(), full, 3, typed, { tokenText: pieces });
    expect(resumed.final[7]).toBe(4);
  });
});

describe('typed words', () => {
  const pieces = (id: number) => ({ 2: ' the', 3: ' big', 4: 'gest', 5: ' dog', 6: '.' })[id] ?? `<${id}>`;
  const encode = (t: string) =>
    (({ ' cat': [7], ' elephant': [8, 9, 10], cat: [7] }) as Record<string, number[]>)[t] ?? [];
  const canvas = [2, 3, 4, 5, 6, MASK];

  it('take the space of the token they replace and re-mask what is left of the words they land on', () => {
    expect(typedEdits(canvas, { kind: 'type', pos: 1, text: 'cat' }, MASK, pieces, encode)).toEqual([
      { kind: 'set', pos: 1, tokens: [7] },
      { kind: 'remask', from: 2, to: 3 },
    ]);
    // three tokens over "big|gest" (two) and into " dog": the rest of " dog"'s word is nothing, so no re-mask
    expect(typedEdits(canvas, { kind: 'type', pos: 1, text: 'elephant' }, MASK, pieces, encode)).toEqual([
      { kind: 'set', pos: 1, tokens: [8, 9, 10] },
    ]);
    // on a mask: as typed
    expect(typedEdits(canvas, { kind: 'type', pos: 5, text: 'cat' }, MASK, pieces, encode)).toEqual([
      { kind: 'set', pos: 5, tokens: [7] },
    ]);
    expect(() => typedEdits(canvas, { kind: 'type', pos: 1, text: '  ' }, MASK, pieces, encode)).toThrow(/empty/);
  });

  it('resolveEdits turns them into tokens on the canvas at the step', async () => {
    const full = await generateDiffusion(rising(), PROMPT, { ...greedy, genLength: 8, steps: 8, blockLength: 8 });
    const edits = resolveEdits(
      { trace: full, atStep: 0, edits: [{ kind: 'type', pos: 4, text: 'x' }] },
      MASK,
      text,
      () => [10],
    );
    expect(edits).toEqual([{ kind: 'set', pos: 4, tokens: [10] }]);
  });
});

describe('an AR run resumed from an edit', () => {
  // the next token is 2 + (length % 9); end-of-text once the text is 9 long
  const lm = () =>
    new FakeCausalLM(V, (s) => logitsFrom(1, V, () => (s.length >= 9 ? { 0: 0.9 } : { [2 + (s.length % 9)]: 0.9 })));
  const o = { temperature: 0, maxNewTokens: 8 };

  it('keeps the text before the edit, writes the typed word there and the rest anew, and says it cannot revise', async () => {
    const full = await generateAr(lm(), PROMPT, o);
    expect(full.final).toEqual([5, 6, 4, 5, 6, 7, 8, 9, 10, 0]);
    const model = lm();
    const { trace, note } = await resumeAr(model, full, 8, [{ kind: 'set', pos: 4, tokens: [11] }]);
    expect(trace.final).toEqual([5, 6, 4, 5, 11, 7, 8, 9, 10, 0]);
    expect(trace.steps[8]).toMatchObject({ visitor: true, truncate: 4, edits: [{ pos: 4, from: 6, to: 11 }] });
    expect(trace.steps.slice(9).map((s) => s.commits[0].pos)).toEqual([5, 6, 7, 8, 9]);
    expect(model.calls[0].ids).toEqual([5, 6, 4, 5, 11]); // the prefill: prompt, kept text, typed word
    expect(note).toMatch(/kept the text before position 4 .* cannot revise what comes after/);
    expect(canvasAt(trace, trace.steps.length)).toEqual(trace.final);
    expect(trace.termination.reason).toBe('end-of-text');
  });

  it('applies the first edit only, and names the ones after it', async () => {
    const full = await generateAr(lm(), PROMPT, o);
    const { trace, note } = await resumeAr(lm(), full, 8, [
      { kind: 'remask', from: 6, to: 8 },
      { kind: 'remask', from: 3, to: 4 },
    ]);
    expect(trace.steps[8]).toMatchObject({ truncate: 3, edits: [] });
    expect(trace.final.slice(0, 3)).toEqual([5, 6, 4]);
    expect(note).toMatch(/not applied \(after the first edit\): re-mask 6-7/);
  });

  it('refuses an edit past its text or in the prompt', async () => {
    const full = await generateAr(lm(), PROMPT, o);
    await expect(resumeAr(lm(), full, 2, [{ kind: 'set', pos: 6, tokens: [3] }])).rejects.toThrow(/AR text ends at 4/);
    await expect(resumeAr(lm(), full, 2, [{ kind: 'remask', from: 0, to: 3 }])).rejects.toThrow(/in the prompt/);
  });
});

describe('the visitor’s step in the trace', () => {
  it('is drawn as its own kind, survives a trace file and replays to the same canvas', async () => {
    const full = await generateDiffusion(rising(), PROMPT, { ...greedy, genLength: 8, steps: 8, blockLength: 8 });
    const resumed = await resumeDiffusion(rising(), full, 3, [
      { kind: 'remask', from: 8, to: 9 },
      { kind: 'set', pos: 2, tokens: [11] },
    ]);
    const marks = timelineOf(resumed).marks.filter((m) => m.step === 4);
    expect(marks.map((m) => [m.kind, m.pos])).toEqual([
      ['typed', 2],
      ['cleared', 8],
    ]);
    const cells = cellsAt(resumed, 4);
    expect(cells[2]).toMatchObject({ token: 11, state: 'committed', byVisitor: true });
    expect(cells[8]).toMatchObject({ state: 'masked', byVisitor: true, remasked: true });
    const file = parseTraceFile(JSON.parse(JSON.stringify({ format: TRACE_FORMAT, prompt: 'x', diffusion: resumed })));
    expect(canvasAt(file.diffusion!, 4)).toEqual(canvasAt(resumed, 4));
    expect(canvasAt(file.diffusion!, resumed.steps.length)).toEqual(resumed.final);
    const bad = JSON.parse(JSON.stringify(resumed));
    bad.steps[2].truncate = 3;
    expect(() => parseTraceFile({ format: TRACE_FORMAT, diffusion: bad })).toThrow(/only a visitor step cuts the text/);
  });
});
