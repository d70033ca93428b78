// Shared helpers for the end-to-end tests: Debian's Chromium through playwright-core, a Vite preview server of
// the built page on a free localhost port, and a plain static host of it (no special headers).
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export function launch(options: { webgpu?: boolean; args?: string[] } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(options.args ?? [])].concat(
      options.webgpu
        ? [
            ...FLAGS,
            '--enable-unsafe-webgpu',
            '--enable-features=Vulkan',
            '--use-angle=swiftshader',
            '--use-webgpu-adapter=swiftshader',
          ]
        : FLAGS,
    ),
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** `vite preview` of dist/ (built beforehand); resolves once it answers. */
export async function startPreview(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'npx',
    ['vite', 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'],
    {
      stdio: 'ignore',
      detached: true,
    },
  );
  const url = `http://localhost:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return { url, stop: () => process.kill(-child.pid!, 'SIGTERM') };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  process.kill(-child.pid!, 'SIGTERM');
  throw new Error(`vite preview did not answer on ${url}`);
}

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The built page (dist/) from a plain static file server, as a host that ignores public/_headers serves it:
 * no COOP/COEP, so no cross-origin isolation and one WASM thread. A missing file is a 404.
 */
export async function startStaticHost(dir = 'dist'): Promise<{ url: string; stop: () => void }> {
  const root = resolve(dir);
  const server = createHttpServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const file = join(root, normalize(path === '/' ? '/index.html' : path));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': STATIC_TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  const port = await freePort();
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  return { url: `http://localhost:${port}/`, stop: () => server.close() };
}

/** Presses Generate on a loaded page and resolves once every model's run is done. */
export async function generateAll(page: Page, timeout = 120_000): Promise<void> {
  await page.click('form.prompt button[type=submit]');
  await page.waitForFunction(
    () => {
      const d = (globalThis as any).demo;
      // the AR model runs last; the block model too when the pair has one
      const block = !d.models.loaded?.info.blockSize || d.settings.mode === 'both' || d.run.traces.block?.done;
      return d.page.status === 'ready' && d.run.traces.diffusion?.done && d.run.traces.ar?.done && block;
    },
    null,
    { timeout },
  );
}

/**
 * The built page served and Chromium started once for a test file (closed after it), and the folder its
 * screenshots go to: `const env = pageAndBrowser(); ... env.browser, env.server.url`.
 */
export function pageAndBrowser(options: { webgpu?: boolean } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  const env = {} as { server: { url: string; stop: () => void }; browser: Browser };
  beforeAll(async () => {
    env.server = await startPreview();
    env.browser = await launch(options);
  });
  afterAll(async () => {
    await env.browser?.close();
    env.server?.stop();
  });
  return env;
}

/** Where the e2e tests write their screenshots. */
export const SHOTS = 'test-results';
