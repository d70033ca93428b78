// The page at Qwen3-0.6B's real size (issue 26): a converted family (scripts/make-hf-real.sh) served by a local
// stand-in for the Hugging Face hub, loaded by the built page in Debian's Chromium as a visitor loads one (?model=
// id, the plan, "Download … and load"), then one short chat run of each model at the converted settings with fewer
// new tokens. Families this size are marked as needing WebGPU, so it runs on WebGPU: here SwiftShader, Chromium's
// software adapter (no GPU on this machine), which says what the page does at this size, not how fast a GPU is.
// Prints the download, the time to load, Chromium's resident memory, and each model's passes and ms per pass.
//   npx vite build && npx tsx src/bench/real-size-page.ts --family DIR/q4 [--gen 8] [--out FILE.md]
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize, resolve, sep } from 'node:path';
import { parseArgs } from '../../models/ts/args.ts';
import { launch, startPreview } from '../../test/e2e/browser.ts';
import { MODEL_KINDS } from '../core/modes.ts';

const args = parseArgs(
  process.argv.slice(2),
  { family: '', gen: 8, out: '', timeout: 3600 },
  'usage: npx tsx src/bench/real-size-page.ts --family DIR [--gen 8] [--out FILE.md] [--timeout 3600]',
);
if (!args.family) throw new Error('give --family DIR (scripts/make-hf-real.sh writes DIR/q4, DIR/q8)');
const DIR = resolve(args.family);
const ID = 'real-size/family';
const timeout = Number(args.timeout) * 1000;

/** Resident memory of every Chromium process (the browser, the GPU process holding the adapter's buffers, the tab). */
function chromiumMB(): number {
  const out = execFileSync('ps', ['-C', 'chromium', '-o', 'rss='], { encoding: 'utf8' }).trim();
  return out ? out.split('\n').reduce((n, l) => n + Number(l), 0) / 1024 : 0;
}

let served = 0;
/** The page's last state the watcher saw (a timeout then says where the load was). */
let lastSeen = '';
const hub = createServer((req, res) => {
  const cors = { 'Access-Control-Allow-Origin': '*' };
  const m = /^\/real-size\/family\/resolve\/main\/(.+)$/.exec(decodeURIComponent((req.url ?? '').split('?')[0]));
  const file = m ? join(DIR, normalize('/' + m[1])) : '';
  if (!m || !file.startsWith(DIR + sep) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, cors).end('Entry not found');
    return;
  }
  served += statSync(file).size;
  res.writeHead(200, { ...cors, 'Content-Length': statSync(file).size, 'Content-Type': 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
await new Promise<void>((ok) => hub.listen(0, '127.0.0.1', ok));
const hubUrl = `http://127.0.0.1:${(hub.address() as { port: number }).port}`;
const preview = await startPreview();
const browser = await launch({ webgpu: true });
const lines: string[] = [];
try {
  const page = await browser.newPage();
  const before = chromiumMB();
  await page.goto(`${preview.url}?hub=${encodeURIComponent(hubUrl)}&model=${ID}`);
  await page.getByTestId('load-planned').waitFor({ timeout: 120_000 });
  const t0 = Date.now();
  // what the page says while it loads, every 30 s (a load this size takes minutes)
  const watch = setInterval(() => {
    void page
      .evaluate(() => {
        const d = (globalThis as any).demo;
        return JSON.stringify({
          status: d.page.status,
          phase: d.page.phase,
          notice: d.page.notice,
          error: d.page.error,
        });
      })
      .then((s) =>
        console.error(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${s}, ${(served / 1e6).toFixed(0)} MB served`),
      )
      .catch(() => {});
  }, 30_000);
  await page.getByTestId('load-planned').click();
  await page.waitForFunction(
    (id) => {
      const d = (globalThis as any).demo;
      return (d.models.source?.label === id && d.page.status === 'ready') || d.page.error !== null;
    },
    ID,
    { timeout },
  );
  clearInterval(watch);
  const error = await page.evaluate(() => (globalThis as any).demo.page.error);
  if (error) throw new Error(`the family did not load: ${error.name}: ${error.message}`);
  const loadS = (Date.now() - t0) / 1000;
  const loaded = chromiumMB();
  const notice = await page.evaluate(() => (globalThis as any).demo.page.notice);
  const backend = await page.evaluate(() => (globalThis as any).demo.models.loaded.info.backend.backend);
  // the converted settings, with fewer new tokens: MDLM recomputes the whole canvas at every step
  await page.evaluate((gen) => {
    const settings = (globalThis as any).demo.settings;
    settings.setGenLength(gen);
    settings.diffusion.blockLength = Math.min(settings.diffusion.blockLength, gen);
  }, Number(args.gen));
  await page.fill('#prompt', 'Tell me a story.');
  const t1 = Date.now();
  await page.click('button[type=submit]');
  await page.waitForFunction(
    () => (globalThis as any).demo.run.traces.ar?.done || (globalThis as any).demo.page.status === 'error',
    null,
    { timeout },
  );
  const runS = (Date.now() - t1) / 1000;
  const runError = await page.evaluate(() => (globalThis as any).demo.page.error);
  if (runError) throw new Error(`the run failed: ${runError.name}: ${runError.message}`);
  const after = chromiumMB();
  const stats = await page.evaluate(
    (kinds) =>
      kinds.map((k) => {
        const t = (globalThis as any).demo.run.traces[k]?.done;
        return t
          ? { kind: k, passes: t.stats.forwardPasses, wallMs: t.stats.wallMs, msPerPass: t.stats.msPerPass }
          : null;
      }),
    [...MODEL_KINDS],
  );
  const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8'));
  const pair = Object.values<any>(manifest.pairs)[0];
  const files = Object.values<number>(pair.files).reduce((a, b) => a + b, 0);
  lines.push(
    `## The page at real size: ${DIR} (${pair.dtype}) by id from a local stand-in hub, Chromium, ${backend}`,
    '',
    ...(notice ? [`The page said: "${notice}"`, ''] : []),
    `Downloaded ${(served / 1e6).toFixed(0)} MB (the manifest lists ${(files / 1e6).toFixed(0)} MB); "Download … and ` +
      `load" to ready: ${loadS.toFixed(0)} s; Chromium's processes resident: ${before.toFixed(0)} MB before, ` +
      `${loaded.toFixed(0)} MB loaded, ${after.toFixed(0)} MB after a chat run of ${args.gen} new tokens (${runS.toFixed(0)} s).`,
    '',
    '| model | passes | wall s | ms per pass |',
    '|---|---|---|---|',
    ...stats
      .filter((s): s is NonNullable<typeof s> => s !== null)
      .map((s) => `| ${s.kind} | ${s.passes} | ${(s.wallMs / 1000).toFixed(1)} | ${s.msPerPass.toFixed(0)} |`),
    '',
  );
} catch (err) {
  lines.push(
    `## The page at real size: ${DIR}`,
    '',
    `did not complete: ${(err as Error).message.split('\n')[0]}${lastSeen ? ` (last seen ${lastSeen})` : ''}`,
    '',
  );
} finally {
  await browser.close();
  preview.stop();
  hub.close();
}
console.log(lines.join('\n'));
if (args.out) writeFileSync(args.out, lines.join('\n'));
