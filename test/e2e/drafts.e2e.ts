// Drafts in hand (issue 28), as a visitor does it in Chromium on the fixture pair: pause a run, re-mask a span,
// type a word, resume; the edits in the timeline, in an exported trace and its replay; the AR panel continuing from
// the edit; the block model giving the same tokens with and without its (exact) cache after an edit; the loop marks
// and per-run measures from the eval's own function; keyboard and a 390 px screen.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diversityOf } from '../../src/core/measure/diversity.ts';
import { loopMarks } from '../../src/core/measure/loop-marks.ts';
import { sampleMeasures } from '../../src/core/measure/text-measures.ts';
import { cellsAt } from '../../src/core/trace/replay.ts';
import { canvasAt, type Trace } from '../../src/core/trace/trace.ts';
import { pageAndBrowser, SHOTS } from './browser.ts';

const env = pageAndBrowser();

async function open(diffusion: object, width = 1200): Promise<Page> {
  const context = await env.browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const q = new URLSearchParams({ pair: 'fixture', prompt: 'Once upon a time', mode: 'all' });
  q.set('diffusion', JSON.stringify(diffusion));
  await page.goto(`${env.server.url}?${q}`);
  await page.waitForFunction(() => (globalThis as any).demo?.page.status === 'ready', null, { timeout: 60_000 });
  return page;
}

const waitIdle = (page: Page) =>
  page.waitForFunction(() => (globalThis as any).demo.page.status === 'ready', null, { timeout: 90_000 });
const traceOf = (page: Page, kind: string) =>
  page.evaluate((k) => (globalThis as any).demo.run.traces[k]?.done as Trace | null, kind);
const vocabOf = (page: Page) => page.evaluate(() => (globalThis as any).demo.models.vocabText as string[]);

/** A position of the canvas at `step` holding a whole word (a committed token no word runs into or out of). */
function wholeWordAt(t: Trace, step: number, vocab: string[], after = 0): number {
  const c = canvasAt(t, step);
  const wordy = (p: number, edge: RegExp) => c[p] !== t.maskId && edge.test(vocab[c[p]] ?? '');
  for (let p = Math.max(t.promptLength, after); p < c.length - 1; p++) {
    const committed = c[p] !== t.maskId && c[p] !== t.endOfTextId;
    const startsWord = !(wordy(p, /^[\p{L}\p{N}]/u) && wordy(p - 1, /[\p{L}\p{N}]$/u));
    const endsWord = !(wordy(p + 1, /^[\p{L}\p{N}]/u) && wordy(p, /[\p{L}\p{N}]$/u));
    if (committed && startsWord && endsWord) return p;
  }
  throw new Error('no whole word on the canvas');
}

const cell = (page: Page, panel: string, pos: number) =>
  page.locator(`section[aria-label="${panel}"] [data-pos="${pos}"]`);

describe('drafts in hand', () => {
  it('pause -> re-mask a span -> resume: the other tokens stay, the masks are filled, the edit is in the timeline', async () => {
    const page = await open({ temperature: 0, genLength: 96, steps: 96 });
    await page.click('button[type=submit]');
    // pause from inside the page as soon as step 8 is shown (the fixture model is fast)
    await page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const poll = setInterval(() => {
            if (((globalThis as any).demo.run.traces.diffusion?.steps.length ?? 0) >= 8) {
              clearInterval(poll);
              (document.querySelector('button.pause') as HTMLButtonElement).click();
              resolve();
            }
          }, 1);
        }),
    );
    await waitIdle(page);
    const paused = (await traceOf(page, 'diffusion'))!;
    expect(paused.termination.reason).toBe('cancelled');
    expect(await page.evaluate(() => (globalThis as any).demo.draft.kind)).toBe('diffusion');
    await page.getByRole('status').filter({ hasText: 'Paused' }).waitFor();
    const K = paused.steps.length;
    const vocab = await vocabOf(page);
    // a span of whole words: from one word's first token to a later word's last (shift-click extends)
    const p = wholeWordAt(paused, K, vocab);
    const q = wholeWordAt(paused, K, vocab, p + 2);
    await cell(page, 'Diffusion', p).click();
    await cell(page, 'Diffusion', q).click({ modifiers: ['Shift'] });
    expect(await page.evaluate(() => (globalThis as any).demo.draft.selection)).toEqual({ from: p, to: q + 1 });
    await page.getByRole('button', { name: 'Re-mask', exact: true }).click();
    await page.screenshot({ path: `${SHOTS}/draft-editing.png`, fullPage: true });
    await page.getByRole('button', { name: `Resume from step ${K}` }).click();
    await waitIdle(page);
    const t = (await traceOf(page, 'diffusion'))!;
    expect(t.steps.slice(0, K)).toEqual(paused.steps);
    expect(t.steps[K]).toMatchObject({ visitor: true, commits: [] });
    const before = canvasAt(paused, K);
    const span = Array.from({ length: q + 1 - p }, (_, i) => p + i).filter((x) => before[x] !== paused.maskId);
    expect(t.steps[K].edits.map((e) => [e.pos, e.to])).toEqual(span.map((x) => [x, t.maskId]));
    const end = t.final.indexOf(t.endOfTextId, t.promptLength);
    for (let x = t.promptLength; x < (end < 0 ? t.final.length : end); x++) {
      expect(t.final[x]).not.toBe(t.maskId); // every mask filled
      if ((x < p || x > q) && before[x] !== paused.maskId) expect(t.final[x]).toBe(before[x]); // the rest kept
    }
    // the timeline draws the visitor's re-masks as their own kind (its key names it)
    await expect(page.locator('section[aria-label="Diffusion"]').textContent()).resolves.toContain(
      'a token you re-masked',
    );
    await page.screenshot({ path: `${SHOTS}/draft-resumed.png`, fullPage: true });
    await page.context().close();
  });

  it('a typed word stands where it was typed; the AR panel continues from the edit and says so; export and replay keep it', async () => {
    const page = await open({ temperature: 0 });
    await page.click('button[type=submit]');
    await page.waitForFunction(() => (globalThis as any).demo.run.traces.ar?.done, null, { timeout: 90_000 });
    await waitIdle(page);
    const first = (await traceOf(page, 'diffusion'))!;
    const ar = (await traceOf(page, 'ar'))!;
    const vocab = await vocabOf(page);
    const K = first.steps.length;
    const p = wholeWordAt(first, K, vocab);
    await page.getByRole('button', { name: 'Edit this draft' }).first().click();
    await cell(page, 'Diffusion', p).click();
    await page.getByLabel('a word to type at the selection').fill('dog');
    await page.getByRole('button', { name: 'Type it here' }).click();
    await page.getByRole('button', { name: `Resume from step ${K}` }).click();
    await page.waitForFunction(
      (n) => ((globalThis as any).demo.run.traces.ar?.done?.steps.length ?? 0) !== n,
      ar.steps.length,
      { timeout: 90_000 },
    );
    await waitIdle(page);
    const t = (await traceOf(page, 'diffusion'))!;
    const typed = t.steps[K].edits.filter((e) => e.to !== t.maskId);
    expect(typed[0].pos).toBe(p);
    expect(typed.map((e) => vocab[e.to]).join('')).toMatch(/^ ?dog$/);
    expect(typed.map((e) => t.final[e.pos])).toEqual(typed.map((e) => e.to));
    // the AR model kept its text before the edit, wrote the typed word there, and the rest anew
    const arAfter = (await traceOf(page, 'ar'))!;
    const cut = arAfter.steps[ar.steps.length];
    expect(cut).toMatchObject({ visitor: true, truncate: p });
    expect(arAfter.final.slice(0, p)).toEqual(ar.final.slice(0, p));
    expect(arAfter.final.slice(p, p + typed.length)).toEqual(typed.map((e) => e.to));
    await expect(
      page.locator('section[aria-label="Autoregressive"] [data-testid="panel-note"]').textContent(),
    ).resolves.toMatch(/cannot revise what comes after/);
    // the timeline draws the typed word as the visitor's
    const kinds = await page.evaluate(() => (globalThis as any).demo.run.traces.diffusion.steps.length);
    expect(kinds).toBe(t.steps.length);
    // exported and opened again: the visitor's step replays to the same canvas
    const file = await page.evaluate(() => (globalThis as any).demo.exportTraces() as string);
    await page.evaluate((text) => (globalThis as any).demo.importTraces(text), file);
    const replayed = (await traceOf(page, 'diffusion'))!;
    expect(replayed.steps[K]).toEqual(t.steps[K]);
    expect(cellsAt(replayed, K + 1)[p]).toMatchObject({ byVisitor: true, state: 'committed' });
    expect(await page.locator('section[aria-label="Diffusion"] .visitor').count()).toBeGreaterThan(0);
    await page.context().close();
  });

  it('the block model gives the same tokens after an edit with its exact cache and without', async () => {
    const page = await open({ temperature: 0 });
    await page.evaluate(() => ((globalThis as any).demo.settings.mode = 'block'));
    await page.click('button[type=submit]');
    await waitIdle(page);
    const b = (await traceOf(page, 'block'))!;
    expect(b.options).toMatchObject({ cache: 'local' }); // any cache but off: the block model's exact one
    const p = wholeWordAt(b, 6, await vocabOf(page));
    // the same draft resumed twice in the page's worker: as run (cache), then with the cache off
    const finals = await page.evaluate(
      async ([pos]) => {
        const demo = (globalThis as any).demo;
        const run = demo.run;
        const original = run.traces.block.done;
        const edits = [{ kind: 'remask', from: pos, to: pos + 1 }];
        const out: number[][] = [];
        for (const cache of ['dual', 'off']) {
          const done = { ...original, options: { ...original.options, cache } };
          run.traces = { ...run.traces, block: { ...done, plannedSteps: done.termination.plannedSteps, done } };
          if (!(await run.resume('block', 6, edits))) throw new Error(demo.page.error?.message);
          out.push(run.traces.block.done.final);
        }
        return out;
      },
      [p],
    );
    expect(finals[1]).toEqual(finals[0]);
    expect(finals[0][p]).not.toBe(b.maskId);
    await page.context().close();
  });

  it('marks repeats and shows the per-run measures from the eval’s own function; refuses a bad edit, losing nothing', async () => {
    const page = await open({ temperature: 0, genLength: 96, steps: 96 });
    await page.click('button[type=submit]');
    await page.waitForFunction(() => (globalThis as any).demo.run.traces.ar?.done, null, { timeout: 90_000 });
    await waitIdle(page);
    const vocab = await vocabOf(page);
    for (const [kind, row, panel] of [
      ['diffusion', 'diffusion', 'Diffusion'],
      ['ar', 'AR', 'Autoregressive'],
    ]) {
      const t = (await traceOf(page, kind))!;
      const m = sampleMeasures(t.answerText, t.answer);
      await expect(page.getByTestId(`${row}-rep4`).textContent()).resolves.toBe(m.repeated4.toFixed(3));
      await expect(page.getByTestId(`${row}-loop`).textContent()).resolves.toBe(m.doomLoop ? 'yes' : 'no');
      const cells = cellsAt(t, t.steps.length);
      const end = cells.findIndex((c) => c.state === 'end' && c.pos >= t.promptLength);
      const answer = cells.slice(t.promptLength, end < 0 ? cells.length : end);
      const expected = loopMarks(
        answer.map((c) => ({ pos: c.pos, text: c.state === 'masked' ? null : vocab[c.token] })),
      );
      expect(await page.locator(`section[aria-label="${panel}"] [data-loop]`).count()).toBe(expected.size);
    }
    // an edit into the prompt is refused with the reason; the draft keeps its edits
    const before = (await traceOf(page, 'diffusion'))!;
    await page.getByRole('button', { name: 'Edit this draft' }).first().click();
    await page.evaluate(() => {
      const d = (globalThis as any).demo.draft;
      d.edits = [{ kind: 'remask', from: 0, to: 1 }];
    });
    await page.getByRole('button', { name: /^Resume from step/ }).click();
    await page.getByRole('alert').filter({ hasText: 'DraftEditError' }).waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/position 0 is in the prompt/);
    expect(await page.evaluate(() => (globalThis as any).demo.draft.edits.length)).toBe(1);
    expect((await traceOf(page, 'diffusion'))!.final).toEqual(before.final);
    await page.context().close();
  });

  it('works by keyboard and at 390 px', async () => {
    const page = await open({ temperature: 0 }, 390);
    await page.click('button[type=submit]');
    await page.waitForFunction(() => (globalThis as any).demo.run.traces.ar?.done, null, { timeout: 90_000 });
    await waitIdle(page);
    const t = (await traceOf(page, 'diffusion'))!;
    const p = wholeWordAt(t, t.steps.length, await vocabOf(page));
    await page.getByRole('button', { name: 'Edit this draft' }).first().focus();
    await page.keyboard.press('Enter');
    await cell(page, 'Diffusion', p).focus();
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => (globalThis as any).demo.draft.selection)).toEqual({ from: p, to: p + 1 });
    await page.getByRole('button', { name: 'Re-mask', exact: true }).focus();
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => (globalThis as any).demo.draft.edits.length)).toBe(1);
    // nothing of the draft's controls makes the page scroll sideways on a phone
    expect(await page.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${SHOTS}/draft-phone.png`, fullPage: true });
    await page.context().close();
  });

  it('8 samples: every model with 8 seeds as small multiples, with diversity figures; Cancel keeps those finished', async () => {
    const page = await open({ temperature: 0.9, genLength: 48, steps: 48 });
    await page.getByRole('button', { name: '8 samples' }).click();
    await page.waitForFunction(
      () => (globalThis as any).demo.samples.results.length === 8 && !(globalThis as any).demo.samples.running,
      null,
      {
        timeout: 120_000,
      },
    );
    const results = await page.evaluate(
      () => (globalThis as any).demo.samples.results as { traces: Record<string, Trace> }[],
    );
    const seeds = results.map((r) => (r.traces.diffusion.options as { seed: number }).seed);
    expect(seeds).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const kind of ['diffusion', 'block', 'ar']) {
      const d = diversityOf(results.map((r) => r.traces[kind].answerText));
      await expect(page.getByTestId(`${kind}-self-bleu`).textContent()).resolves.toBe(d.selfBleu.toFixed(2));
      await expect(page.getByTestId(`${kind}-same-first`).textContent()).resolves.toBe(
        `${Math.round(100 * d.sameFirstWord)}%`,
      );
      expect(await page.locator(`[data-testid="samples-${kind}"] canvas`).count()).toBe(8);
    }
    await page.screenshot({ path: `${SHOTS}/samples.png`, fullPage: true });
    // a second series, cancelled after two samples: those two stay, the page says so
    await page.getByRole('button', { name: '8 samples' }).click();
    await page.waitForFunction(() => (globalThis as any).demo.samples.results.length >= 2, null, { timeout: 60_000 });
    await page.click('button.cancel');
    await page.waitForFunction(() => (globalThis as any).demo.page.status === 'ready', null, { timeout: 60_000 });
    const kept = await page.evaluate(() => (globalThis as any).demo.samples.results.length);
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(8);
    await page
      .getByRole('status')
      .filter({ hasText: `Samples cancelled: ${kept} of 8` })
      .waitFor();
    await page.context().close();
  });
});
