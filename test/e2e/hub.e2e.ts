// Models from elsewhere: a local stand-in for the Hugging Face hub (a static server with hub-style paths,
// /{owner}/{name}/resolve/main/{file}, and the CORS header the hub sends) serves the random Qwen3 / dLLM A2D family as
// `npm run export:hf` converts it (scripts/make-hf-random.sh; HF_RANDOM_DIR). The page loads it by id after
// showing what it will download, keeps it in the browser's cache, loads it again with the server stopped, races
// the three models on a chat message, forgets it on request, refuses a family that needs WebGPU on WASM (and one
// computed in float16 on an adapter without shader-f16), and gives the same temperature-0 tokens on WebGPU as on WASM.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize, resolve, sep } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateAll, launch, startPreview } from './browser.ts';

if (!process.env.HF_RANDOM_DIR) {
  throw new Error('HF_RANDOM_DIR is not set: run `bash scripts/make-hf-random.sh DIR` and pass DIR (npm test does)');
}
const HUB_DIR = resolve(process.env.HF_RANDOM_DIR, 'hub');
const ID = 'test-org/random-qwen3-q4';

/** The stand-in hub on `port`: ids test-org/random-qwen3-<dtype> are hub/<dtype>; test-org/needs-webgpu is q4
 * with `requires: "webgpu"` in its manifest. Counts the files it serves. */
function startHub(port = 0): Promise<{ url: string; port: number; served: string[]; stop: () => Promise<void> }> {
  const served: string[] = [];
  const server: Server = createServer((req, res) => {
    const cors = { 'Access-Control-Allow-Origin': '*' };
    const m = /^\/test-org\/([\w.-]+)\/resolve\/main\/(.+)$/.exec(decodeURIComponent((req.url ?? '').split('?')[0]));
    const folder = m && (m[1] === 'needs-webgpu' ? 'q4' : m[1].replace(/^random-qwen3-/, ''));
    const file = m ? join(HUB_DIR, folder!, normalize('/' + m[2])) : '';
    if (!m || !file.startsWith(join(HUB_DIR, folder!) + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { ...cors, 'Content-Type': 'text/plain' }).end('Entry not found');
      return;
    }
    served.push(m[2]);
    if (m[1] === 'needs-webgpu' && m[2] === 'manifest.json') {
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      for (const pair of Object.values<any>(manifest.pairs)) pair.requires = 'webgpu';
      res.writeHead(200, { ...cors, 'Content-Type': 'application/json' }).end(JSON.stringify(manifest));
      return;
    }
    res.writeHead(200, { ...cors, 'Content-Length': statSync(file).size, 'Content-Type': 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) =>
    server.listen(port, '127.0.0.1', () => {
      const p = (server.address() as { port: number }).port;
      ok({
        url: `http://127.0.0.1:${p}`,
        port: p,
        served,
        stop: () => new Promise<void>((done) => server.close(() => done())),
      });
    }),
  );
}

let preview: { url: string; stop: () => void };
const browsers: Browser[] = [];
beforeAll(async () => {
  preview = await startPreview();
});
afterAll(async () => {
  for (const b of browsers) await b.close();
  preview?.stop();
});

const status = (page: Page) => page.evaluate(() => (globalThis as any).demo.page.status as string);
const waitSettled = (page: Page, timeout = 120_000) =>
  page.waitForFunction(
    () =>
      ['ready', 'error'].includes((globalThis as any).demo?.page.status) && !(globalThis as any).demo.models.planning,
    null,
    { timeout },
  );
const finals = (page: Page) =>
  page.evaluate(() => {
    const d = (globalThis as any).demo;
    return {
      backend: d.models.loaded.info.backend.backend as string,
      diffusion: d.run.traces.diffusion.done.final as number[],
      block: d.run.traces.block.done.final as number[],
      ar: d.run.traces.ar.done.final as number[],
    };
  });

/** Opens the page on the stand-in hub, types the id and checks it: resolves once the plan is on the page. */
async function checkId(page: Page, hubUrl: string) {
  await page.goto(`${preview.url}?hub=${encodeURIComponent(hubUrl)}`);
  await waitSettled(page);
  await page.locator('details.models summary').click();
  await page.fill('#model-source', ID);
  await page.getByRole('button', { name: 'Check' }).click();
  await page.getByTestId('load-plan').waitFor();
}

/** Loads the checked family (it must load cleanly), sends a chat message, returns every model's tokens. */
async function loadAndChat(page: Page) {
  await page.getByTestId('load-planned').click();
  await page.waitForFunction((id) => (globalThis as any).demo.models.source?.label === id, ID, { timeout: 60_000 });
  await waitSettled(page);
  expect(await page.evaluate(() => (globalThis as any).demo.page.error)).toBeNull();
  await page.fill('#prompt', 'Tell me a story about a cat.');
  await generateAll(page, 240_000);
  return finals(page);
}

let wasmTokens: Awaited<ReturnType<typeof finals>>;

it('loads a converted family by id from the stand-in hub, from the cache with the hub stopped, and forgets it', async () => {
  const hub = await startHub();
  const browser = await launch();
  browsers.push(browser);
  const page = await browser.newPage();
  await checkId(page, hub.url);
  // sizes before anything heavy is fetched: only the manifest so far
  expect(hub.served).toEqual(['manifest.json']);
  const plan = await page.evaluate(() => (globalThis as any).demo.models.plan);
  // what the engine reads: 3 configs, 1 tokenizer (2 files), 3 graphs (one per model)
  expect(plan.files.length).toBe(8);
  expect(plan.toDownload).toBe(plan.total);
  expect(await page.getByTestId('to-download').textContent()).toMatch(/MB/);
  const first = await loadAndChat(page);
  wasmTokens = first;
  // the converted models' settings, and a chat box
  const info = await page.evaluate(() => {
    const d = (globalThis as any).demo;
    return {
      chat: d.models.loaded.info.chat,
      temperature: d.settings.diffusion.temperature,
      schedule: d.settings.diffusion.schedule,
    };
  });
  expect(info).toEqual({ chat: true, temperature: 0, schedule: 'dllm' });
  await expect(page.locator('label.chat').textContent()).resolves.toContain('Chat');
  // the prompt went through the chat template: <|im_start|> opens it
  const { promptLength, imStart } = await page.evaluate(() => {
    const d = (globalThis as any).demo;
    return {
      promptLength: d.run.traces.ar.done.promptLength as number,
      imStart: d.models.vocabText.indexOf('<|im_start|>'),
    };
  });
  expect(imStart).toBeGreaterThan(0);
  expect(first.ar.slice(0, promptLength)).toContain(imStart);
  const downloads = hub.served.length;
  expect(downloads).toBe(1 + 8); // the manifest, then each file once

  // reload with the hub gone: the link names the model, the cache has every file, so it loads straight away
  await hub.stop();
  await page.reload();
  await page.waitForFunction((id) => (globalThis as any).demo.models.source?.label === id, ID, { timeout: 60_000 });
  await waitSettled(page);
  expect(await status(page)).toBe('ready');
  expect(await page.getByTestId('models-now').textContent()).toBe(ID);
  await page.fill('#prompt', 'Tell me a story about a cat.');
  await generateAll(page, 240_000);
  expect(await finals(page)).toEqual(first);

  // back to the embedded models: their own settings return
  await page.getByRole('button', { name: 'Use the embedded models' }).click();
  await page.waitForFunction(
    () => (globalThis as any).demo.models.source === null && (globalThis as any).demo.models.loaded,
  );
  await waitSettled(page);
  expect(await page.getByTestId('models-now').textContent()).toBe('embedded in the page');
  expect(
    await page.evaluate(() => {
      const d = (globalThis as any).demo;
      return {
        chat: d.models.loaded.info.chat,
        schedule: d.settings.diffusion.schedule,
        temperature: d.settings.diffusion.temperature,
      };
    }),
  ).toEqual({ chat: false, schedule: 'llada', temperature: 0.9 });

  // forget: the cache is emptied, and the stopped hub cannot be read again
  await page.getByRole('button', { name: 'Forget downloaded models' }).click();
  await page.waitForFunction(() => /Forgot 9 downloaded files/.test((globalThis as any).demo.page.notice ?? ''));
  expect(await page.evaluate(async () => (await caches.keys()).length)).toBe(0);
  await page.fill('#model-source', ID);
  await page.getByRole('button', { name: 'Check' }).click();
  await waitSettled(page);
  expect((await page.evaluate(() => (globalThis as any).demo.page.error?.message)) as string).toMatch(/manifest\.json/);
}, 600_000);

it('refuses, before downloading, a family that needs WebGPU when there is none', async () => {
  const hub = await startHub();
  const browser = await launch();
  browsers.push(browser);
  const page = await browser.newPage();
  await page.goto(`${preview.url}?hub=${encodeURIComponent(hub.url)}&model=test-org/needs-webgpu`);
  await page.getByTestId('load-refusal').waitFor({ timeout: 60_000 });
  expect(await page.getByTestId('load-refusal').textContent()).toMatch(/need WebGPU, and this browser has none/);
  expect(await page.getByTestId('load-planned').count()).toBe(0);
  expect(hub.served).toEqual(['manifest.json']);
  // the embedded models still load and run
  await waitSettled(page);
  expect(await page.getByTestId('models-now').textContent()).toBe('embedded in the page');
  expect(await status(page)).toBe('ready');
  await hub.stop();
}, 300_000);

it('WebGPU gives the converted family the WASM tokens at temperature 0', async () => {
  expect(wasmTokens?.backend).toBe('wasm');
  const hub = await startHub();
  const browser = await launch({ webgpu: true });
  browsers.push(browser);
  // a family whose products are computed in float16 is refused before anything is downloaded: SwiftShader offers
  // no shader-f16 (onnxruntime would stop at the first pass: "Program Gather requires f16 but the device does not
  // support it", seen before the refusal existed)
  const half = await browser.newPage();
  await half.goto(`${preview.url}?hub=${encodeURIComponent(hub.url)}&model=test-org/random-qwen3-fp16-compute`);
  await half.getByTestId('load-refusal').waitFor({ timeout: 60_000 });
  expect(await half.getByTestId('load-refusal').textContent()).toMatch(/compute in float16, .* shader-f16/);
  expect(await half.getByTestId('load-planned').count()).toBe(0);
  expect(hub.served).toEqual(['manifest.json']);
  await half.close();
  const page = await browser.newPage();
  await checkId(page, hub.url);
  const gpu = await loadAndChat(page);
  expect(gpu.backend).toBe('webgpu');
  for (const kind of ['ar', 'diffusion', 'block'] as const) {
    const i = gpu[kind].findIndex((t, j) => t !== wasmTokens[kind][j]);
    console.log(`${kind}: ${gpu[kind].length} tokens, first difference at ${i}`);
  }
  expect(gpu.ar).toEqual(wasmTokens.ar);
  expect(gpu.diffusion).toEqual(wasmTokens.diffusion);
  expect(gpu.block).toEqual(wasmTokens.block);
  await hub.stop();
}, 600_000);
