// npm run bench:browser -- [--pair NAME] [--out bench-results]
// A first visit on a cold cache over an emulated 50 Mbit/s link (Chromium's network emulation: time to the models
// loaded and to the first token, bytes downloaded), then the page's own "Benchmark this device" in Debian's
// Chromium via playwright-core: WASM with 1 and 2 threads, and WebGPU (SwiftShader's software adapter here; a real
// GPU on a user's machine). Needs a build (npm run build). Writes bench-results/browser.json and browser.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../../models/ts/args.ts';
import { figure } from '../core/measure/bench-core.ts';
import type { DeviceBenchResult } from '../core/measure/device-bench.ts';
import { launch, startPreview } from '../../test/e2e/browser.ts';
import { MODEL_KINDS, type ModelKind } from '../core/modes.ts';
import { pageSettings } from '../core/page-settings.ts';
import type { Trace } from '../core/trace/trace.ts';
import { nodeEngine } from '../cli/node-files.ts';

const args = parseArgs(
  process.argv.slice(2),
  { pair: '', out: 'bench-results', only: '', mbits: 50, rounds: 5 },
  'usage: npm run bench:browser -- [--pair NAME] [--out DIR] [--only wasm|webgpu|cold|story] [--mbits 50] [--rounds 5]',
);

/** The story both runs write: the page's default prompt would do, but a fixed one keeps figures comparable. */
const STORY_PROMPT = 'The little dog found a red ball in the garden.';

/** One model's run of the story: forward passes, wall time (the worker's, in the page) and time in the model. */
interface StoryRun {
  passes: number;
  wallMs: number;
  modelMs: number;
}

/**
 * The same story at the page's settings in the page (WASM, 1 thread) and in Node (the same graphs and runtime),
 * `rounds` times each, page and Node in turn with both kept loaded: the first round is a visitor's first run (the
 * runtime's code not yet optimised), the later ones show the steady state; one run alone varies by up to 30% on
 * a 2-core machine, so the figures compared are medians.
 */
interface PageVsNode {
  prompt: string;
  rounds: number;
  page: Partial<Record<ModelKind, StoryRun[]>>;
  node: Partial<Record<ModelKind, StoryRun[]>>;
  sameTokens: boolean;
}

const runOf = (t: Trace): StoryRun => ({
  passes: t.stats.forwardPasses,
  wallMs: t.stats.wallMs,
  modelMs: t.stats.modelMs,
});

async function pageVsNode(url: string, rounds: number): Promise<PageVsNode> {
  const browser = await launch();
  const engine = await nodeEngine('models/pairs', args.pair);
  const page: PageVsNode['page'] = {};
  const node: PageVsNode['node'] = {};
  let sameTokens = true;
  try {
    const tab = await browser.newPage();
    await tab.goto(`${url}&prompt=${encodeURIComponent(STORY_PROMPT)}`);
    await tab.waitForFunction(() => (globalThis as any).demo?.page.status === 'ready', null, { timeout: 120_000 });
    for (let round = 0; round < rounds; round++) {
      await tab.evaluate(() => ((globalThis as any).lastDone = (globalThis as any).demo.run.traces.ar?.done));
      await tab.click('button[type=submit]');
      await tab.waitForFunction(
        () => {
          const done = (globalThis as any).demo.run.traces.ar?.done;
          return done && done !== (globalThis as any).lastDone;
        },
        null,
        { timeout: 600_000 },
      );
      const r = await engine.generate({ prompt: STORY_PROMPT, mode: 'all', ...pageSettings(engine.info) });
      for (const kind of MODEL_KINDS) {
        const t = (await tab.evaluate(
          (k) => (globalThis as any).demo.run.traces[k]?.done ?? null,
          kind,
        )) as Trace | null;
        const n = r.traces[kind];
        if (!t || !n) continue;
        (page[kind] ??= []).push(runOf(t));
        (node[kind] ??= []).push(runOf(n));
        sameTokens &&= JSON.stringify(t.final) === JSON.stringify(n.final);
      }
    }
  } finally {
    await browser.close();
    await engine.release();
  }
  return { prompt: STORY_PROMPT, rounds, page, node, sameTokens };
}

/** Wall ms per pass of a run. */
const perPass = (r: StoryRun) => r.wallMs / r.passes;
const modelPerPass = (r: StoryRun) => r.modelMs / r.passes;
const median = (xs: number[]) => figure(xs).median;

/** A first visit: what it downloads and how long until the models are ready and the first token is shown. */
interface ColdStart {
  mbits: number;
  /** Bytes the page downloaded (encoded, as on the wire) by the first token. */
  bytes: number;
  readyMs: number;
  firstTokenMs: number;
}

/**
 * A fresh browser (empty HTTP and Cache Storage), the link throttled to `mbits` down (20 ms latency), WASM: the time
 * from navigation to the models loaded, then from navigation to the first token shown after Generate.
 */
async function coldStart(url: string, mbits: number): Promise<ColdStart> {
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: (mbits * 1e6) / 8,
      uploadThroughput: (mbits * 1e6) / 8,
    });
    let bytes = 0;
    // the worker's fetches (the models) are the page's requests too, and the emulated link slows them as well
    page.on(
      'requestfinished',
      (r) => void r.sizes().then((s) => (bytes += s.responseBodySize + s.responseHeadersSize)),
    );
    const started = Date.now();
    await page.goto(url);
    await page.waitForFunction(() => ['ready', 'error'].includes((globalThis as any).demo?.page.status), null, {
      timeout: 600_000,
    });
    const error = await page.evaluate(() => (globalThis as any).demo.page.error);
    if (error) throw new Error(`${error.name}: ${error.message}`);
    const readyMs = Date.now() - started;
    await page.click('button[type=submit]');
    await page.waitForFunction(() => ((globalThis as any).demo.run.traces.diffusion?.steps.length ?? 0) >= 1, null, {
      timeout: 120_000,
    });
    return { mbits, bytes, readyMs, firstTokenMs: Date.now() - started };
  } finally {
    await browser.close();
  }
}

const variants = [
  { name: 'WASM, 1 thread', query: 'backend=wasm&threads=1', webgpu: false },
  { name: 'WASM, 2 threads', query: 'backend=wasm&threads=2', webgpu: false },
  { name: 'WebGPU', query: 'backend=webgpu', webgpu: true },
].filter((v) => !args.only || (args.only === 'webgpu') === v.webgpu);
const server = await startPreview();
const results: { variant: string; result?: DeviceBenchResult; error?: string }[] = [];
let cold: ColdStart | { error: string } | null = null;
let story: PageVsNode | { error: string } | null = null;
try {
  if (!args.only || args.only === 'story') {
    const query = `backend=wasm&threads=1${args.pair ? `&pair=${args.pair}` : ''}`;
    story = await pageVsNode(`${server.url}?${query}`, Math.max(2, Number(args.rounds))).catch((err: Error) => ({
      error: err.message,
    }));
    write();
  }
  if (!args.only || args.only === 'cold') {
    const query = `backend=wasm&threads=1${args.pair ? `&pair=${args.pair}` : ''}`;
    cold = await coldStart(`${server.url}?${query}`, Number(args.mbits)).catch((err: Error) => ({
      error: err.message,
    }));
    console.log(`cold start: ${JSON.stringify(cold)}`);
    write();
  }
  for (const v of variants.filter(() => args.only !== 'cold' && args.only !== 'story')) {
    const browser = await launch({ webgpu: v.webgpu });
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}?${v.query}${args.pair ? `&pair=${args.pair}` : ''}`);
      await page.waitForFunction(() => ['ready', 'error'].includes((globalThis as any).demo?.page.status), null, {
        timeout: 120_000,
      });
      const error = await page.evaluate(() => (globalThis as any).demo.page.error);
      if (error) throw new Error(`${error.name}: ${error.message}`);
      await page.evaluate(() => (globalThis as any).demo.run.benchmark());
      const result = (await page.evaluate(() => (globalThis as any).demo.run.benchResult)) as DeviceBenchResult;
      results.push({ variant: v.name, result });
      console.log(`${v.name}: done (${result.backend})`);
    } catch (err) {
      results.push({ variant: v.name, error: (err as Error).message });
      console.log(`${v.name}: ${(err as Error).message}`);
    } finally {
      await browser.close();
    }
    write(); // after each variant, so a slow one (a software GPU adapter) cut short loses nothing before it
  }
} finally {
  server.stop();
}
/** Writes browser.json and browser.md from the results so far; returns the markdown. */
function write(): string {
  const md = ['# Browser benchmark (Chromium, the page\'s "Benchmark this device")', ''];
  if (story) {
    md.push(`## A story at the page's settings: the page (Chromium, WASM, 1 thread) beside Node (the same graphs)`, '');
    if ('error' in story) md.push(`not measured: ${story.error}`, '');
    else {
      md.push(
        `"${story.prompt}", ${story.rounds} rounds (the page's run, then Node's, both kept loaded); the same tokens in`,
        `every run: **${story.sameTokens ? 'yes' : 'no'}**. Wall time is the run's own (in the page, measured in the`,
        `worker: the model, the sampler, the messages to the page, the waits for it). "First run": round 1, a visitor's`,
        `first story (the runtime's code not yet optimised); "later runs": the median of rounds 2-${story.rounds}, with`,
        'their range.',
        '',
        '| model | passes | first run: page / Node ms per pass | ratio | later runs: page ms per pass | Node ms per pass | **page / Node** | model ms per pass (page, Node) | story ms, page / Node (first run; later runs) |',
        '|---|---|---|---|---|---|---|---|---|',
      );
      const range = (xs: number[]) => {
        const { min, max } = figure(xs);
        return `${min.toFixed(2)}-${max.toFixed(2)}`;
      };
      for (const kind of MODEL_KINDS) {
        const [p, n] = [story.page[kind], story.node[kind]];
        if (!p?.length || !n?.length) continue;
        const [pLater, nLater] = [p.slice(1).map(perPass), n.slice(1).map(perPass)];
        const [pm, nm] = [median(pLater), median(nLater)];
        md.push(
          `| ${kind} | ${p[0].passes} / ${n[0].passes} | ${perPass(p[0]).toFixed(2)} / ${perPass(n[0]).toFixed(2)} | ` +
            `${(perPass(p[0]) / perPass(n[0])).toFixed(2)}x | ${pm.toFixed(2)} (${range(pLater)}) | ` +
            `${nm.toFixed(2)} (${range(nLater)}) | **${(pm / nm).toFixed(2)}x** | ` +
            `${median(p.slice(1).map(modelPerPass)).toFixed(2)}, ${median(n.slice(1).map(modelPerPass)).toFixed(2)} | ` +
            `${p[0].wallMs.toFixed(0)} / ${n[0].wallMs.toFixed(0)}; ` +
            `${median(p.slice(1).map((r) => r.wallMs)).toFixed(0)} / ${median(n.slice(1).map((r) => r.wallMs)).toFixed(0)} |`,
        );
      }
      md.push('');
    }
  }
  if (cold) {
    md.push(
      `## A first visit: cold cache, ${Number(args.mbits)} Mbit/s (Chromium's network emulation, WASM, 1 thread)`,
      '',
    );
    if ('error' in cold) md.push(`not measured: ${cold.error}`, '');
    else {
      md.push(
        '| downloaded | navigation to models ready | navigation to the first token |',
        '|---|---|---|',
        `| ${(cold.bytes / 1e6).toFixed(1)} MB | ${(cold.readyMs / 1000).toFixed(1)} s | ${(cold.firstTokenMs / 1000).toFixed(1)} s |`,
        '',
      );
    }
  }
  for (const r of results) {
    md.push(`## ${r.variant}`, '');
    if (!r.result) {
      md.push(`not measured: ${r.error}`, '');
      continue;
    }
    md.push('| tokens in one pass | diffusion ms | AR ms (no cache) |', '|---|---|---|');
    for (const f of r.result.forward)
      md.push(`| ${f.length} | ${f.diffusionMs.median.toFixed(2)} | ${f.arMs.median.toFixed(2)} |`);
    md.push(
      '',
      `| run (${r.result.tokens} tokens) | forward passes | wall ms | tokens/s | gen-PPL | entropy | sampler share |`,
      '|---|---|---|---|---|---|---|',
    );
    for (const g of r.result.frontier) {
      md.push(
        `| ${g.name} | ${g.passes.median} | ${g.wallMs.median.toFixed(0)} | ${g.tokensPerSecond.median.toFixed(1)} | ${g.genPpl.median.toFixed(2)} | ${g.entropy.toFixed(2)} | ${(100 * g.samplerShare.median).toFixed(1)}% |`,
      );
    }
    if (r.result.caches.length) {
      const offOf = (run: (typeof r.result.caches)[number]) =>
        run.model === 'ar' ? undefined : r.result!.caches.find((c) => c.model === run.model && c.cache === 'off');
      const ar = r.result.caches.find((c) => c.model === 'ar');
      md.push(
        '',
        `| a story at the page's settings (${r.result.caches[0].genLength} positions) | forward passes | positions computed | wall ms | vs cache off | vs cached AR | gen-PPL |`,
        '|---|---|---|---|---|---|---|',
      );
      for (const c of r.result.caches) {
        const off = offOf(c);
        md.push(
          `| ${c.name} | ${c.passes.median} | ${c.positions.median} | ${c.wallMs.median.toFixed(0)} | ` +
            `${off ? `${(off.wallMs.median / c.wallMs.median).toFixed(2)}x faster` : '–'} | ` +
            `${ar ? `${(c.wallMs.median / ar.wallMs.median).toFixed(2)}x the time` : '–'} | ${c.genPpl.toFixed(2)} |`,
        );
      }
    }
    md.push('');
  }
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, 'browser.json'), JSON.stringify({ coldStart: cold, story, results }, null, 2));
  writeFileSync(join(args.out, 'browser.md'), md.join('\n'));
  return md.join('\n');
}
console.log(write());
