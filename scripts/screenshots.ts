// The README's screenshots and the page's social preview image, from the built page (`npm run build` first) on
// the default pair at the page's own settings: a desktop view and a 390 px phone view, each with a run finished
// and the cursor part-way so canvas and timeline both show the denoising; public/social.png is the desktop
// view at 1200 x 630. `npm run screenshots` (tsx scripts/screenshots.ts).
import type { Page } from 'playwright-core';
import { generateAll, launch, startPreview } from '../test/e2e/browser.ts';

const PROMPT = 'When the bell rang, Sara and her brother';

async function finishedRun(page: Page, url: string) {
  await page.goto(`${url}?prompt=${encodeURIComponent(PROMPT)}`);
  await page.waitForFunction(() => (globalThis as any).demo?.page.status === 'ready', null, { timeout: 120_000 });
  await generateAll(page, 600_000);
  // part-way through: masks still open on the canvas, the timeline's cursor line mid-picture
  await page.evaluate(() => {
    const d = (globalThis as any).demo;
    d.playback.seekStep('diffusion', Math.round(0.55 * d.run.traces.diffusion.steps.length));
  });
  await page.waitForTimeout(300);
}

const server = await startPreview();
const browser = await launch();
try {
  const desktop = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  await finishedRun(desktop, server.url);
  await desktop.screenshot({ path: 'docs/screenshot-desktop.png' });
  await desktop.setViewportSize({ width: 1200, height: 630 });
  await desktop.screenshot({ path: 'public/social.png' });
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await finishedRun(phone, server.url);
  await phone.screenshot({ path: 'docs/screenshot-phone.png' });
  console.log('written: docs/screenshot-desktop.png, docs/screenshot-phone.png, public/social.png');
} finally {
  await browser.close();
  server.stop();
}
