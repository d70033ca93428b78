// The WebGPU path (Chromium's software SwiftShader adapter, --enable-unsafe-webgpu) gives the same
// temperature-0 tokens as the WASM path, for all three models; each backend runs its own onnxruntime-web build (the
// plain WASM build on WASM, the WebGPU build only on WebGPU: model.worker.ts).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateAll, launch, startPreview } from './browser.ts';

let server: { url: string; stop: () => void };
const browsers: Browser[] = [];

beforeAll(async () => {
  server = await startPreview();
});
afterAll(async () => {
  for (const b of browsers) await b.close();
  server?.stop();
});

async function run(webgpu: boolean) {
  const browser = await launch({ webgpu });
  browsers.push(browser);
  const page = await browser.newPage();
  // which runtime build the page fetches: the worker's requests are the page's network too
  const runtimes: string[] = [];
  page.on('request', (r) => {
    const file = new URL(r.url()).pathname.split('/').pop()!;
    if (/^ort-wasm.*\.wasm$/.test(file)) runtimes.push(file.replace(/-[\w-]{8}\.wasm$/, '.wasm'));
  });
  const greedy = encodeURIComponent(JSON.stringify({ temperature: 0 }));
  await page.goto(
    `${server.url}?pair=fixture&prompt=One+day%2C+a+little+boy+named+Tom&mode=all&diffusion=${greedy}&ar=${greedy}`,
  );
  await page.waitForFunction(() => ['ready', 'error'].includes((globalThis as any).demo?.page.status), null, {
    timeout: 90_000,
  });
  await generateAll(page);
  const traces = await page.evaluate(() => {
    const d = (globalThis as any).demo;
    return {
      backend: d.models.loaded.info.backend.backend as string,
      diffusion: d.run.traces.diffusion.done.final as number[],
      block: d.run.traces.block.done.final as number[],
      ar: d.run.traces.ar.done.final as number[],
    };
  });
  return { ...traces, runtimes };
}

it('WebGPU gives the same temperature-0 tokens as WASM', async () => {
  const wasm = await run(false);
  const gpu = await run(true);
  expect(wasm.backend).toBe('wasm');
  expect(gpu.backend).toBe('webgpu');
  // the plain build on WASM (its WASM path is the fast one), the WebGPU build's only on WebGPU
  expect(wasm.runtimes).toEqual(['ort-wasm-simd-threaded.wasm']);
  expect(gpu.runtimes).toEqual(['ort-wasm-simd-threaded.asyncify.wasm']);
  expect(gpu.ar).toEqual(wasm.ar);
  expect(gpu.diffusion).toEqual(wasm.diffusion);
  expect(gpu.block).toEqual(wasm.block);
}, 300_000); // SwiftShader runs WebGPU on the CPU: slow, and slower still when other work shares the cores
