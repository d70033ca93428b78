// The page as a user meets it: loads offline, generates with all three models, scrubs, cancels, shows errors,
// renders token text literally, and keeps the main thread free of long tasks. Screenshots of the main
// states go to test-results/.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageAndBrowser, SHOTS } from './browser.ts';

const env = pageAndBrowser();

interface Session {
  context: BrowserContext;
  page: Page;
  offsite: string[];
  dialogs: string[];
}

/** A fresh page; any request that is not to this localhost server is recorded and refused. */
async function open(query = '?pair=fixture', setup?: (context: BrowserContext) => Promise<void>): Promise<Session> {
  const context = await env.browser.newContext();
  const offsite: string[] = [];
  const origin = new URL(env.server.url).origin;
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith('data:') || url.startsWith('blob:')) return route.fallback();
    offsite.push(url);
    return route.abort();
  });
  await setup?.(context);
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss();
  });
  // The tests pin the fixture pair, whatever the page's default is.
  await page.goto(env.server.url + (query.includes('pair=') ? query : query.replace(/^\??/, '?pair=fixture&')));
  return { context, page, offsite, dialogs };
}

const status = (page: Page) => page.evaluate(() => (globalThis as any).demo.page.status as string);
const waitReady = (page: Page) =>
  page.waitForFunction(() => ['ready', 'error'].includes((globalThis as any).demo?.page.status), null, {
    timeout: 60_000,
  });
const waitDone = (page: Page) =>
  page.waitForFunction(
    () => {
      const d = (globalThis as any).demo;
      return d.page.status === 'ready' && (d.run.traces.diffusion?.done || d.run.traces.ar?.done);
    },
    null,
    { timeout: 90_000 },
  );
const cellStates = (page: Page, panel: string) =>
  page.$$eval(`section[aria-label="${panel}"] [data-state]`, (els) => els.map((e) => e.getAttribute('data-state')));

describe('the page', () => {
  it('loads offline from localhost alone and generates with all three models', async () => {
    const s = await open();
    await waitReady(s.page);
    expect(await status(s.page)).toBe('ready');
    await expect(s.page.getByTestId('backend').textContent()).resolves.toBe('WASM');
    await s.page.fill('#prompt', 'Once upon a time, there was a little dog.');
    await s.page.click('button[type=submit]');
    // mid-generation screenshot for the README
    await s.page.waitForFunction(() => ((globalThis as any).demo.run.traces.diffusion?.steps.length ?? 0) >= 20);
    await s.page.screenshot({ path: `${SHOTS}/mid-generation.png`, fullPage: true });
    await waitDone(s.page);
    await s.page.waitForFunction(() => (globalThis as any).demo.run.traces.ar?.done);
    const diffusion = await cellStates(s.page, 'Diffusion');
    const block = await cellStates(s.page, 'Block diffusion');
    const ar = await cellStates(s.page, 'Autoregressive');
    expect(diffusion.filter((x) => x === 'committed').length).toBeGreaterThan(10);
    expect(diffusion).not.toContain('masked');
    expect(block.filter((x) => x === 'committed').length).toBeGreaterThan(10);
    expect(block).not.toContain('masked');
    expect(ar.filter((x) => x === 'committed').length).toBeGreaterThan(10);
    // the three race on one time axis: the block model in its own blocks, with its exact cache
    const run = await s.page.evaluate(() => {
      const t = (globalThis as any).demo.run.traces.block.done;
      return {
        blockLength: t.options.blockLength,
        model: t.model,
        full: t.steps.filter((x: any) => x.fullPass).length,
      };
    });
    expect(run).toEqual({ blockLength: 4, model: 'fixture/block', full: 0 });
    await expect(s.page.locator('section[aria-label="Block diffusion"] .note').textContent()).resolves.toMatch(
      /Masks after the current block show no guesses/,
    );
    // early in the block model's run, masks after its current block have no guess shown
    await s.page.evaluate(() => (globalThis as any).demo.playback.seekStep('block', 3));
    const shown = await s.page.$$eval('section[aria-label="Block diffusion"] [data-state]', (els) =>
      els.map((e) => [e.getAttribute('data-state'), e.querySelector('.ghost')?.textContent?.trim() ?? '']),
    );
    const lastWritten = shown.map(([state]) => state).lastIndexOf('committed');
    expect(shown.slice(lastWritten + 8).every(([state, ghost]) => state === 'masked' && ghost === '')).toBe(true);
    expect(Number(await s.page.getByTestId('diffusion-passes').textContent())).toBeGreaterThan(0);
    // the page's settings use the local KV cache: most passes compute the tokens just written and the masks near
    // them, full passes (the refreshes) are marked
    expect(await s.page.locator('select:has(option[value=local])').inputValue()).toBe('local');
    const [perPass, total] = (await s.page.getByTestId('diffusion-positions').textContent())!.split(' of ').map(Number);
    expect(perPass).toBeLessThan(total);
    const fullPasses = await s.page.evaluate(
      () => (globalThis as any).demo.run.traces.diffusion.done.steps.filter((x: any) => x.fullPass).length,
    );
    expect(fullPasses).toBeGreaterThan(0);
    expect(await s.page.locator('rect.full-pass').count()).toBe(fullPasses);
    await s.page.screenshot({ path: `${SHOTS}/finished.png`, fullPage: true });
    expect(s.offsite).toEqual([]);
    await s.context.close();
  });

  it('scrubbing and the arrow keys move the canvas back and forward', async () => {
    const s = await open();
    await waitReady(s.page);
    await s.page.click('button[type=submit]');
    await waitDone(s.page);
    await s.page.waitForFunction(() => (globalThis as any).demo.run.traces.ar?.done);
    const slider = s.page.getByLabel('scrub through the steps');
    await slider.fill('0');
    const atStart = await cellStates(s.page, 'Diffusion');
    // the canvas runs to the fixture's context end (128 tokens), one block
    const [canvas, prompt, blockLength] = await s.page.evaluate(() => {
      const t = (globalThis as any).demo.run.traces.diffusion;
      return [t.initial.filter((id: number) => id === t.maskId).length, t.promptLength, t.done.options.blockLength];
    });
    expect(prompt + canvas).toBe(128);
    expect(blockLength).toBe(canvas);
    expect(atStart.filter((x) => x === 'masked')).toHaveLength(canvas);
    const max = Number(await slider.getAttribute('max'));
    await slider.fill(String(Math.floor(max / 2)));
    const middle = (await cellStates(s.page, 'Diffusion')).filter((x) => x === 'masked').length;
    expect(middle).toBeGreaterThan(0);
    expect(middle).toBeLessThan(canvas);
    await s.page.screenshot({ path: `${SHOTS}/scrubbed-halfway.png`, fullPage: true });
    await s.page.click('h1'); // keyboard focus away from inputs
    await s.page.keyboard.press('ArrowRight');
    expect((await cellStates(s.page, 'Diffusion')).filter((x) => x === 'masked').length).toBe(middle - 1);
    await s.page.keyboard.press('ArrowLeft');
    await s.page.keyboard.press('ArrowLeft');
    expect((await cellStates(s.page, 'Diffusion')).filter((x) => x === 'masked').length).toBe(middle + 1);
    await s.context.close();
  });

  it('cancel stops a run and keeps what was produced', async () => {
    const s = await open();
    await waitReady(s.page);
    await s.page.evaluate(() => {
      const d = (globalThis as any).demo;
      d.settings.diffusion.genLength = 100;
      d.settings.diffusion.steps = 100;
      d.settings.diffusion.blockLength = 100;
      d.settings.diffusion.stopAtEndOfText = false;
      d.settings.diffusion.fillContext = d.settings.ar.fillContext = false;
      d.settings.ar.maxNewTokens = 100;
    });
    await s.page.fill('#prompt', 'Once upon a time');
    await s.page.click('button[type=submit]');
    // Click the real Cancel button from inside the page as soon as step 3 is shown: a round trip from the
    // test process can arrive after this small model has already finished.
    await s.page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const poll = setInterval(() => {
            if (((globalThis as any).demo.run.traces.diffusion?.steps.length ?? 0) >= 3) {
              clearInterval(poll);
              (document.querySelector('button.cancel') as HTMLButtonElement).click();
              resolve();
            }
          }, 1);
        }),
    );
    await waitDone(s.page);
    const reason = await s.page.evaluate(() => (globalThis as any).demo.run.traces.diffusion.done.termination.reason);
    expect(reason).toBe('cancelled');
    await s.page.getByRole('status').filter({ hasText: 'Generation cancelled' }).waitFor();
    expect(await s.page.evaluate(() => (globalThis as any).demo.run.traces.ar)).toBeNull();
    await s.context.close();
  });

  it('a double click on Generate runs once, and focus stays on the button as it turns into Cancel', async () => {
    const s = await open();
    await waitReady(s.page);
    await s.page.focus('button[type=submit]');
    await s.page.dblclick('button[type=submit]');
    expect(await s.page.evaluate(() => document.activeElement?.textContent?.trim())).toMatch(/^(Cancel|Generate)$/);
    await waitDone(s.page);
    await s.page.waitForFunction(() => (globalThis as any).demo.run.traces.ar?.done);
    const reasons = await s.page.evaluate(() =>
      ['diffusion', 'ar'].map((k) => (globalThis as any).demo.run.traces[k].done.termination.reason),
    );
    expect(reasons).not.toContain('cancelled');
    expect(await s.page.evaluate(() => document.activeElement?.tagName)).toBe('BUTTON');
    await s.context.close();
  });

  it('renders token text literally, never as HTML', async () => {
    const s = await open();
    await waitReady(s.page);
    const xss = '<img src=x onerror=alert(1)>';
    await s.page.fill('#prompt', `A cat said ${xss}`);
    await s.page.click('button[type=submit]');
    await waitDone(s.page);
    const text = await s.page.locator('section[aria-label="Diffusion"] [role=group]').textContent();
    expect(text).toContain(xss);
    expect(await s.page.locator('section img').count()).toBe(0);
    expect(s.dialogs).toEqual([]);
    await s.context.close();
  });

  it('shows a readable error for a corrupt model file', async () => {
    const s = await open(undefined, async (context) => {
      await context.route('**/models/fixture/diffusion/onnx/model_cached.onnx', (route) =>
        route.fulfill({ status: 200, contentType: 'application/octet-stream', body: 'this is not an onnx model' }),
      );
    });
    await waitReady(s.page);
    const alert = s.page.getByRole('alert');
    await expect(alert.textContent()).resolves.toMatch(
      /ModelLoadError.*could not load the model file \/models\/fixture\/diffusion\/onnx\/model_cached\.onnx/,
    );
    await s.page.screenshot({ path: `${SHOTS}/corrupt-model.png` });
    await s.context.close();
  });

  it('a missing model file is a real 404 with its name in the message', async () => {
    const res = await fetch(`${env.server.url}models/fixture/diffusion/onnx/missing.onnx`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).not.toMatch(/html/);
  });

  it('keeps the state in the URL, validates options inline, and records main-thread long tasks', async () => {
    const s = await open('?prompt=The+little+bird&mode=diffusion&diffusion=%7B%22threshold%22%3A0.5%7D');
    await waitReady(s.page);
    expect(await s.page.inputValue('#prompt')).toBe('The little bird');
    expect(await s.page.evaluate(() => (globalThis as any).demo.settings.diffusion.threshold)).toBe(0.5);
    // the canvas to the context end fits any block length (whole blocks); a fixed length must divide
    await s.page.getByLabel('block length').fill('7');
    await s.page.getByLabel('canvas to the context end').uncheck();
    await s.page
      .getByRole('alert')
      .filter({
        hasText: /blockLength: 7 does not divide genLength 64; blockLength values that work: 1, 2, 4, 8, 16, 32, 64/,
      })
      .waitFor({ timeout: 5_000 });
    expect(await s.page.isDisabled('button[type=submit]')).toBe(true);
    await s.page.getByLabel('block length').fill('16');
    await s.page.evaluate(() => {
      (globalThis as any).longTasks = [];
      new PerformanceObserver((list) =>
        (globalThis as any).longTasks.push(...list.getEntries().map((e) => e.duration)),
      ).observe({
        type: 'longtask',
      });
    });
    await s.page.click('button[type=submit]');
    await waitDone(s.page);
    const longTasks: number[] = await s.page.evaluate(() => (globalThis as any).longTasks);
    // Measured and recorded, not asserted: timing targets live in benchmarks (DEVELOPERS.md), and on a
    // 2-core machine scheduler noise alone produces 50-250 ms tasks. Target: none over 50 ms; measured here
    // without other load: none in most runs, rarely one of 50-85 ms (200-500 ms before the font warm-up).
    writeFileSync(`${SHOTS}/long-tasks.json`, JSON.stringify({ longTasksMs: longTasks.map(Math.round) }));
    console.log(`long tasks during generation (ms): ${JSON.stringify(longTasks.map(Math.round))}`);
    // the measurement itself must be real: Chromium must support long-task entries
    expect(await s.page.evaluate(() => PerformanceObserver.supportedEntryTypes.includes('longtask'))).toBe(true);
    expect(s.page.url()).toContain('blockLength');
    await s.context.close();
  });

  it("takes the pair's own generation length from the manifest unless the URL or the user chose one", async () => {
    // the fixture pair with a manifest that gives it a length of its own (the default pair has 224)
    const withLength = async (context: BrowserContext) => {
      await context.route('**/models/manifest.json', async (route) => {
        const manifest = await (await route.fetch()).json();
        manifest.pairs.fixture.genLength = 96;
        await route.fulfill({ json: manifest });
      });
    };
    const lengths = (page: Page) =>
      page.evaluate(() => {
        const d = (globalThis as any).demo;
        return [
          d.settings.diffusion.genLength,
          d.settings.diffusion.steps,
          d.settings.diffusion.blockLength,
          d.settings.ar.maxNewTokens,
        ];
      });
    const s = await open(undefined, withLength);
    await waitReady(s.page);
    expect(await lengths(s.page)).toEqual([96, 96, 96, 96]); // the outline: one block
    expect(await s.page.getByLabel('generation length').inputValue()).toBe('96');
    await s.context.close();
    // a shared link carries what differs from the defaults: here a length of 32
    const query = new URLSearchParams({
      diffusion: JSON.stringify({ genLength: 32, steps: 32 }),
      ar: JSON.stringify({ maxNewTokens: 32 }),
    });
    const fromUrl = await open(`?${query}`, withLength);
    await waitReady(fromUrl.page);
    expect(await lengths(fromUrl.page)).toEqual([32, 32, 32, 32]);
    await fromUrl.context.close();
  });

  it('an infill prompt fills only its gaps, says how many positions, and says why the AR model did not run', async () => {
    const s = await open();
    await waitReady(s.page);
    const subtitle = () => s.page.locator('section[aria-label="Diffusion"] .subtitle').textContent();
    await expect(subtitle()).resolves.toContain('positions to the context end,');
    await s.page.fill('#prompt', 'Tom had a [MASK:3] ball. He [MASK] with it.');
    await s.page.click('button[type=submit]');
    await waitDone(s.page);
    await expect(subtitle()).resolves.toContain('11 positions to fill,');
    const cells = await cellStates(s.page, 'Diffusion');
    expect(cells).not.toContain('masked');
    expect(cells.filter((x) => x === 'committed')).toHaveLength(11);
    await expect(s.page.locator('section[aria-label="Autoregressive"] .skipped').textContent()).resolves.toContain(
      'cannot fill a gap',
    );
    await s.context.close();
  });

  it('exports a trace and replays it without a model', async () => {
    const s = await open();
    await waitReady(s.page);
    await s.page.click('button[type=submit]');
    await waitDone(s.page);
    const exported = await s.page.evaluate(() => (globalThis as any).demo.exportTraces());
    const fresh = await open(undefined, async (context) => {
      await context.route('**/models/manifest.json', (route) => route.fulfill({ status: 404, body: 'gone' }));
    });
    await waitReady(fresh.page);
    expect(await status(fresh.page)).toBe('error');
    await fresh.page.setInputFiles('input[type=file]', {
      name: 'trace.json',
      mimeType: 'application/json',
      buffer: Buffer.from(exported),
    });
    await fresh.page.getByRole('status').filter({ hasText: 'Replaying a saved trace' }).waitFor();
    const a = await s.page.locator('section[aria-label="Diffusion"] [role=group]').textContent();
    const b = await fresh.page.locator('section[aria-label="Diffusion"] [role=group]').textContent();
    expect(b).toBe(a);
    await s.context.close();
    await fresh.context.close();
  });
});

describe('a careless visitor, the keyboard, a phone and the timeline', () => {
  it('refuses to open a trace during a run, and Export writes the prompt of the run, not of the box', async () => {
    const s = await open();
    await waitReady(s.page);
    await s.page.fill('#prompt', 'Once upon a time, a cat');
    await s.page.click('button[type=submit]');
    await waitDone(s.page);
    const exported = await s.page.evaluate(() => (globalThis as any).demo.exportTraces());
    // a long run, and a trace file opened while it runs
    await s.page.evaluate(() => {
      const d = (globalThis as any).demo;
      d.settings.diffusion.fillContext = d.settings.ar.fillContext = false;
      Object.assign(d.settings.diffusion, { genLength: 100, steps: 100, blockLength: 100, stopAtEndOfText: false });
      d.settings.ar.maxNewTokens = 100;
    });
    await s.page.fill('#prompt', 'The second run');
    await s.page.click('button[type=submit]');
    // this run's steps, not the first run's (its traces stay until the click has started the second)
    await s.page.waitForFunction(() => {
      const d = (globalThis as any).demo;
      return d.page.status === 'generating' && (d.run.traces.diffusion?.steps.length ?? 0) >= 2;
    });
    await s.page.setInputFiles('input[type=file]', {
      name: 'trace.json',
      mimeType: 'application/json',
      buffer: Buffer.from(exported),
    });
    await s.page.getByRole('alert').filter({ hasText: 'a run is in progress' }).waitFor();
    await waitDone(s.page);
    const after = await s.page.evaluate(() => {
      const d = (globalThis as any).demo;
      return { steps: d.run.traces.diffusion.steps.length, notice: d.page.notice };
    });
    expect(after.steps).toBe(100); // the run's own steps only, nothing of the file mixed in
    expect(after.notice ?? '').not.toContain('Replaying');
    // the box changes after the run; Export keeps the run's prompt
    await s.page.fill('#prompt', 'something typed later');
    const second = JSON.parse(await s.page.evaluate(() => (globalThis as any).demo.exportTraces()));
    expect(second.prompt).toBe('The second run');
    expect(JSON.parse(exported).prompt).toBe('Once upon a time, a cat');
    await s.context.close();
  });

  it('Cancel stops the device benchmark', async () => {
    const s = await open();
    await waitReady(s.page);
    await s.page.getByText('Benchmark this device').click();
    await s.page.getByRole('button', { name: 'Run the benchmark' }).click();
    await s.page.getByRole('status').filter({ hasText: 'generating' }).waitFor({ timeout: 60_000 });
    await s.page.getByRole('button', { name: 'Cancel the benchmark' }).click();
    await s.page.getByRole('status').filter({ hasText: 'Benchmark cancelled.' }).waitFor({ timeout: 30_000 });
    expect(await status(s.page)).toBe('ready');
    expect(await s.page.locator('[data-testid=bench-frontier]').count()).toBe(0);
    await s.context.close();
  });

  it('the subtitle describes the run shown, not settings changed since', async () => {
    const s = await open();
    await waitReady(s.page);
    await s.page.click('button[type=submit]');
    await waitDone(s.page);
    const subtitle = () => s.page.locator('section[aria-label="Diffusion"] .subtitle').textContent();
    await expect(subtitle()).resolves.toContain('one block,');
    await s.page.getByLabel('block length').fill('8');
    await expect(subtitle()).resolves.toContain('one block,');
    await s.context.close();
  });

  it("keys on a focused control are the control's: Space on the settings summary toggles it, never playback", async () => {
    const s = await open();
    await waitReady(s.page);
    await s.page.click('button[type=submit]');
    await waitDone(s.page);
    const summary = s.page.locator('summary', { hasText: 'Sampler settings' });
    const openBefore = await summary.evaluate((el) => (el.parentElement as HTMLDetailsElement).open);
    await summary.focus();
    await s.page.keyboard.press('Space');
    expect(await summary.evaluate((el) => (el.parentElement as HTMLDetailsElement).open)).toBe(!openBefore);
    expect(await s.page.evaluate(() => (globalThis as any).demo.playback.playing)).toBe(false);
    // keyboard order: the prompt, then Generate, then playback
    await s.page.focus('#prompt');
    await s.page.keyboard.press('Tab');
    expect(await s.page.evaluate(() => document.activeElement?.textContent)).toBe('Generate');
    await s.page.keyboard.press('Tab');
    expect(await s.page.evaluate(() => !!document.activeElement?.closest('[aria-label=playback]'))).toBe(true);
    await s.context.close();
  });

  it('draws the whole run as a timeline: hover says what was decided, a click shows that step, it saves as PNG', async () => {
    const s = await open();
    await waitReady(s.page);
    await s.page.click('button[type=submit]');
    await waitDone(s.page);
    await s.page.waitForFunction(() => (globalThis as any).demo.run.traces.ar?.done);
    const timeline = s.page.getByTestId('diffusion-timeline');
    const box = (await timeline.boundingBox())!;
    // the first generated position, at the bottom row: decided by then
    await s.page.mouse.move(box.x + 1, box.y + box.height - 2);
    const info = s.page.locator('section[aria-label="Diffusion"] .timeline .info');
    await expect(info.textContent()).resolves.toMatch(/position \d+, step \d+: .* decided at step \d+ \(confidence/);
    // a click halfway down shows a step halfway through the run
    await s.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const shown = await s.page.evaluate(() => {
      const d = (globalThis as any).demo;
      return { step: d.playback.shownStep.diffusion, total: d.run.traces.diffusion.steps.length };
    });
    expect(shown.step).toBeGreaterThan(0.3 * shown.total);
    expect(shown.step).toBeLessThan(0.7 * shown.total);
    expect(await s.page.getByTestId('autoregressive-timeline').count()).toBe(1);
    const [download] = await Promise.all([
      s.page.waitForEvent('download'),
      s.page.locator('section[aria-label="Diffusion"]').getByRole('button', { name: 'Save picture (PNG)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('diffusion-timeline.png');
    const png = readFileSync((await download.path())!);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    await s.page.screenshot({ path: `${SHOTS}/desktop.png`, fullPage: false });
    await s.context.close();
  });

  it('on a 390 px phone: no sideways scrolling, settings closed, the canvas first', async () => {
    const context = await env.browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    await page.goto(env.server.url + '?pair=fixture');
    await waitReady(page);
    await page.click('button[type=submit]');
    await waitDone(page);
    const layout = await page.evaluate(() => {
      const top = (sel: string) => document.querySelector(sel)!.getBoundingClientRect().top;
      return {
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        settingsOpen: (document.querySelector('details.settings') as HTMLDetailsElement).open,
        canvasTop: top('section[aria-label="Diffusion"]'),
        settingsTop: top('details.settings'),
      };
    });
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.clientWidth);
    expect(layout.settingsOpen).toBe(false);
    expect(layout.canvasTop).toBeLessThan(layout.settingsTop);
    await page.screenshot({ path: `${SHOTS}/phone.png`, fullPage: false });
    await context.close();
  });
});

describe('benchmark this device', () => {
  it('measures every decoding strategy on this page and draws the frontier', async () => {
    const s = await open();
    await waitReady(s.page);
    await s.page.getByText('Benchmark this device').click();
    await s.page.getByRole('button', { name: 'Run the benchmark' }).click();
    const rows = s.page.locator('[data-testid=bench-frontier] tbody tr');
    await rows.nth(7).waitFor({ timeout: 90_000 });
    expect(await rows.count()).toBe(8);
    const text = await s.page.locator('[data-testid=bench-frontier]').textContent();
    expect(text).toContain('AR, KV cache');
    expect(text).toContain('diffusion, threshold 0.9');
    expect(await s.page.locator('svg[aria-label="quality-speed frontier"] circle').count()).toBe(8);
    const caches = await s.page.locator('[data-testid=bench-caches] tbody tr').allTextContents();
    // the diffusion model's five cache modes, the block model's exact cache (folded, a pass per finished block),
    // no cache and threshold decoding, the AR model
    expect(caches).toHaveLength(10);
    expect(caches.join('\n')).toMatch(
      /outline \(page\), cache off[\s\S]*cache prefix[\s\S]*cache dual[\s\S]*cache sparse[\s\S]*cache local[\s\S]*block diffusion, blocks of 4, exact cache \(page\)[\s\S]*no cache[\s\S]*threshold 0.9[\s\S]*AR with its KV cache/,
    );
    await s.page.screenshot({ path: `${SHOTS}/benchmark-panel.png`, fullPage: true });
    await s.context.close();
  });
});

describe('the build', () => {
  it('ships one onnxruntime-web (the app and transformers.js share it), a build per backend, wasm from the app', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const count = (text: string, s: string) => text.split(s).length - 1;
    const version = '1.31.0-dev.20260914-8d85527a0';
    // the one package's two builds (model.worker.ts loads the plain one for WASM, the WebGPU one for WebGPU)
    const builds = ['ort.webgpu.bundle.min.mjs', 'ort.bundle.min.mjs'].map((f) =>
      count(readFileSync(`node_modules/onnxruntime-web/dist/${f}`, 'utf8'), version),
    );
    const assets = readdirSync('dist/assets');
    const js = assets.filter((f) => f.endsWith('.js')).map((f) => readFileSync(`dist/assets/${f}`, 'utf8'));
    expect(js.reduce((n, t) => n + count(t, version), 0)).toBe(builds[0] + builds[1]);
    expect(assets.some((f) => /^ort-wasm-simd-threaded-.*\.wasm$/.test(f))).toBe(true);
    expect(assets.some((f) => /^ort-wasm-simd-threaded\.asyncify-.*\.wasm$/.test(f))).toBe(true);
  });
});
