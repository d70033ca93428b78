// Drafts from the command line (issue 28): `npm run generate -- --resume FILE --at-step K --remask FROM-TO
// --set POS=TEXT --json` goes on from a saved --json output through the engine's own resume.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main, parseCliArgs } from '../../src/cli/generate.ts';
import { canvasAt, type Trace } from '../../src/core/trace/trace.ts';

/** Runs the CLI in this process; returns its exit code and what it printed. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'resume-'));
const saved = join(dir, 'saved.json');

afterEach(() => vi.restoreAllMocks());

describe('npm run generate -- --resume', () => {
  it('goes on from step K with the edits: the saved steps kept, the visitor’s step marked, the masks filled', async () => {
    const first = await run(['--pair', 'fixture', '--prompt', 'Once upon a time', '--gen-length', '24', '--json']);
    expect(first.code).toBe(0);
    writeFileSync(saved, first.out);
    const before = JSON.parse(first.out) as { diffusion: Trace; block: Trace; ar: Trace };
    const K = 6;
    const P = before.diffusion.promptLength;
    // a span and a word, both at word starts of the diffusion canvas at step K: the positions after the prompt
    // that the model has not written yet are masks, which start no word
    const at = canvasAt(before.diffusion, K);
    const masked = at.map((t, p) => (p >= P && t === before.diffusion.maskId ? p : -1)).filter((p) => p >= 0);
    const [a, b] = [masked[0], masked[Math.floor(masked.length / 2)]];
    const resumed = await run([
      '--pair',
      'fixture',
      '--resume',
      saved,
      '--at-step',
      String(K),
      '--remask',
      `${a}-${a + 1}`,
      '--set',
      `${b}=dog`,
      '--mode',
      'diffusion',
      '--json',
    ]);
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    const out = JSON.parse(resumed.out) as { diffusion: Trace; ar?: Trace; prompt: string };
    const t = out.diffusion;
    expect(out.prompt).toBe('Once upon a time');
    expect(out.ar).toBeUndefined();
    expect(t.steps.slice(0, K)).toEqual(before.diffusion.steps.slice(0, K));
    expect(t.steps[K]).toMatchObject({ step: K + 1, visitor: true, commits: [] });
    const typed = t.steps[K].edits.filter((e) => e.pos >= b && e.to !== t.maskId);
    expect(typed.map((e) => e.text).join('')).toMatch(/^ ?dog$/);
    expect(t.steps[K].edits.filter((e) => e.to === t.maskId).map((e) => e.pos)).toEqual(
      [a, a + 1].filter((p) => at[p] !== t.maskId),
    );
    expect(t.steps.slice(K + 1).every((s) => !s.visitor && s.commits.length > 0)).toBe(true);
    // the masks are filled, and the typed word stands where it was typed
    expect(t.final.slice(P, t.final.indexOf(t.endOfTextId, P) >>> 0).includes(t.maskId)).toBe(false);
    expect(typed.map((e) => t.final[e.pos])).toEqual(typed.map((e) => e.to));
  }, 120_000);

  it('takes the AR run from its whole text, keeps what comes before the edit and says what it cannot do', async () => {
    const before = JSON.parse((await run(['--pair', 'fixture', '--prompt', 'Once upon a time', '--json'])).out) as {
      ar: Trace;
    };
    writeFileSync(saved, JSON.stringify(before));
    const P = before.ar.promptLength;
    const r = await run([
      '--pair',
      'fixture',
      '--resume',
      saved,
      '--at-step',
      '0',
      '--set',
      `${P + 2}=dog`,
      '--mode',
      'ar',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /kept the text before position \d+ and wrote the rest anew: it cannot revise what comes after/,
    );
  }, 120_000);

  it('refuses what it cannot do, with the reason: edits without a file, a file of another pair, bad edits', async () => {
    expect(() => parseCliArgs(['--prompt', 'x', '--remask', '3-4'])).toThrow(/give it with --resume FILE/);
    expect(() => parseCliArgs(['--resume', saved])).toThrow(/needs --at-step/);
    expect(() => parseCliArgs(['--resume', saved, '--at-step', '1', '--remask', '3'])).toThrow(/FROM-TO/);
    expect(() => parseCliArgs(['--resume', saved, '--at-step', '1', '--set', 'dog'])).toThrow(/POS=TEXT/);
    writeFileSync(join(dir, 'bad.json'), '[1, 2]');
    const bad = await run(['--pair', 'fixture', '--resume', join(dir, 'bad.json'), '--at-step', '0']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/TraceFileError: the file must be an object/);
    const other = JSON.parse(
      (await run(['--pair', 'fixture', '--prompt', 'Once', '--mode', 'diffusion', '--json'])).out,
    );
    other.diffusion.model = 'tinystories/diffusion';
    writeFileSync(join(dir, 'other.json'), JSON.stringify(other));
    const wrong = await run([
      '--pair',
      'fixture',
      '--resume',
      join(dir, 'other.json'),
      '--at-step',
      '0',
      '--mode',
      'diffusion',
    ]);
    expect(wrong.err).toMatch(/made by tinystories\/diffusion, not fixture\/diffusion: load its pair/);
    const prompt = await run([
      '--pair',
      'fixture',
      '--resume',
      saved,
      '--at-step',
      '1',
      '--remask',
      '0-1',
      '--mode',
      'ar',
    ]);
    expect(prompt.err).toMatch(/DraftEditError: the ar run: re-mask 0-1: position 0 is in the prompt/);
  }, 120_000);
});
