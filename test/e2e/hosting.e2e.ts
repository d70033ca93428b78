// The built page as others host it: from a plain static host that sends no COOP/COEP headers (it must still
// work, on one thread, and say why), with its public/ assets.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, startStaticHost } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const waitReady = (page: Page) =>
  page.waitForFunction(() => ['ready', 'error'].includes((globalThis as any).demo?.status), null, { timeout: 60_000 });
/** Starts a run from the page's state and resolves when both models are done. */
const runOnce = (page: Page) =>
  page.evaluate(async () => {
    const d = (globalThis as any).demo;
    await d.generate();
    return { status: d.status, error: d.error, diffusion: !!d.traces.diffusion?.done, ar: !!d.traces.ar?.done };
  });

describe('a static host without cross-origin isolation headers', () => {
  let host: { url: string; stop: () => void };
  beforeAll(async () => {
    host = await startStaticHost('dist');
  });
  afterAll(() => host?.stop());

  it('serves the page and its public/ assets, which generate on one thread and say why', async () => {
    for (const [path, type] of [
      ['icon.svg', 'image/svg+xml'],
      ['social.png', 'image/png'],
      ['_headers', 'application/octet-stream'],
    ]) {
      const res = await fetch(host.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
    }
    expect(await (await fetch(host.url + '_headers')).text()).toContain('Cross-Origin-Embedder-Policy: require-corp');
    const page = await browser.newPage();
    await page.goto(host.url + '?pair=fixture&prompt=Once+upon+a+time');
    await waitReady(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    await expect(page.getByTestId('one-thread').textContent()).resolves.toContain('one thread');
    const result = await runOnce(page);
    expect(result).toMatchObject({ status: 'ready', error: null, diffusion: true, ar: true });
    expect(await page.locator('link[rel=icon]').getAttribute('href')).toBe('/icon.svg');
    await page.close();
  });
});
