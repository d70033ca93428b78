// The built page as others host it and use it for long: from a plain static host that sends no COOP/COEP
// headers (it must still work, on one thread, and say why), with its public/ assets; and its memory over 30
// runs in a row, reported.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, startPreview, startStaticHost } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const waitReady = (page: Page) =>
  page.waitForFunction(() => ['ready', 'error'].includes((globalThis as any).demo?.page.status), null, {
    timeout: 60_000,
  });
/** Starts a run from the page's state and resolves when every model is done. */
const runOnce = (page: Page) =>
  page.evaluate(async () => {
    const d = (globalThis as any).demo;
    await d.generate();
    const done = (kind: string) => !!d.run.traces[kind]?.done;
    return {
      status: d.page.status,
      error: d.page.error,
      diffusion: done('diffusion'),
      block: done('block'),
      ar: done('ar'),
    };
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
    expect(result).toMatchObject({ status: 'ready', error: null, diffusion: true, block: true, ar: true });
    expect(await page.locator('link[rel=icon]').getAttribute('href')).toBe('/icon.svg');
    await page.close();
  });
});

describe('memory over many runs', () => {
  let preview: { url: string; stop: () => void };
  beforeAll(async () => {
    preview = await startPreview();
  });
  afterAll(() => preview?.stop());

  it('30 runs in a row on the fixture pair: memory reported, the page and worker heaps growing under 1 MB a run', async () => {
    const page = await browser.newPage();
    await page.goto(preview.url + '?pair=fixture&prompt=Once+upon+a+time');
    await waitReady(page);
    const cdp = await browser.newBrowserCDPSession();
    const pageCdp = await page.context().newCDPSession(page);
    // the model worker, reached through the page's session (auto-attach, messages wrapped for its session)
    const attached: { sessionId: string; targetInfo: { type: string } }[] = [];
    pageCdp.on('Target.attachedToTarget' as any, (e: any) => attached.push(e));
    await pageCdp.send('Target.setAutoAttach' as any, {
      autoAttach: true,
      waitForDebuggerOnStart: false,
      flatten: false,
    });
    await expect.poll(() => attached.some((a) => a.targetInfo.type === 'worker')).toBe(true);
    const worker = attached.find((a) => a.targetInfo.type === 'worker')!.sessionId;
    let nextId = 0;
    const replies = new Map<number, (result: any) => void>();
    pageCdp.on('Target.receivedMessageFromTarget' as any, (e: any) => {
      const m = JSON.parse(e.message);
      replies.get(m.id)?.(m.result);
    });
    const inWorker = (method: string) =>
      new Promise<any>((resolve) => {
        const id = ++nextId;
        replies.set(id, resolve);
        void pageCdp.send('Target.sendMessageToTarget' as any, {
          sessionId: worker,
          message: JSON.stringify({ id, method, params: {} }),
        });
      });
    // after a garbage collection: the page's and the worker's JavaScript heaps, and everything the renderers hold
    // (their resident set size: the page, the worker, the runtime's wasm memory, Chromium's own caches)
    const measure = async () => {
      await pageCdp.send('HeapProfiler.collectGarbage');
      await inWorker('HeapProfiler.collectGarbage');
      const heap = (await pageCdp.send('Runtime.getHeapUsage')).usedSize;
      const workerHeap = (await inWorker('Runtime.getHeapUsage')).usedSize as number;
      const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo' as any)) as {
        processInfo: { type: string; id: number }[];
      };
      let rss = 0;
      for (const p of processInfo.filter((p) => p.type === 'renderer')) {
        rss += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.id}/status`, 'utf8'))![1]) * 1024;
      }
      return { rss, heap, workerHeap };
    };
    const samples: { run: number; rss: number; heap: number; workerHeap: number }[] = [];
    for (let run = 1; run <= 30; run++) {
      const result = await runOnce(page);
      expect(result, `run ${run}`).toMatchObject({
        status: 'ready',
        error: null,
        diffusion: true,
        block: true,
        ar: true,
      });
      if (run === 1 || run % 5 === 0) samples.push({ run, ...(await measure()) });
    }
    // growth once the first runs have warmed every cache and pool: runs 5 -> 30
    const first = samples.find((x) => x.run === 5)!;
    const last = samples.at(-1)!;
    const perRun = (key: 'rss' | 'heap' | 'workerHeap') => (last[key] - first[key]) / (last.run - first.run);
    const report = {
      samples,
      rssGrowthPerRun: Math.round(perRun('rss')),
      heapGrowthPerRun: Math.round(perRun('heap')),
      workerHeapGrowthPerRun: Math.round(perRun('workerHeap')),
    };
    mkdirSync('test-results', { recursive: true });
    writeFileSync('test-results/memory-30-runs.json', JSON.stringify(report, null, 2));
    console.log(`memory over 30 runs (bytes): ${JSON.stringify(report)}`);
    expect(first.rss).toBeGreaterThan(0);
    expect(first.workerHeap).toBeGreaterThan(0);
    expect(perRun('heap')).toBeLessThan(1 << 20);
    expect(perRun('workerHeap')).toBeLessThan(1 << 20);
    // The renderers' resident memory is reported, not held to 1 MB a run: it swings by up to ~170 MB between
    // samples as Chromium and the allocator return memory (three runs measured -4.9, +1.1 and -2.6 MB a run over runs
    // 5 -> 30, with no steady climb), while both JavaScript heaps grow by kilobytes. A 4 MB tripwire for a leak.
    expect(perRun('rss')).toBeLessThan(4 << 20);
    await page.close();
  }, 600_000);
});
