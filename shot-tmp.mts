import { launch, startPreview } from './test/e2e/browser.ts';
const server = await startPreview();
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${server.url}?prompt=${encodeURIComponent('Once upon a time, there was a little dog named Max.')}`);
  await page.waitForFunction(() => (globalThis as any).demo?.status === 'ready', null, { timeout: 120_000 });
  await page.click('button[type=submit]');
  await page.waitForFunction(() => ((globalThis as any).demo.traces.diffusion?.steps.length ?? 0) >= 30, null, { timeout: 120_000 });
  await page.screenshot({ path: 'docs/screenshot-mid-generation.png', fullPage: false });
  const step = await page.evaluate(() => (globalThis as any).demo.traces.diffusion.steps.length);
  console.log('shot at step', step);
} finally {
  await browser.close();
  server.stop();
}
