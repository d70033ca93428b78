// The build's copy of the model folders (scripts/vite-models-plugin.ts): a production build carries the pairs a
// visitor can choose and no test data (golden/, the testOnly fixture pair); the e2e build (DEMO_TEST_PAIRS=1) keeps
// the fixture pair, which the end-to-end tests pin.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modelsPlugin, testOnlyFolders } from '../../scripts/vite-models-plugin.ts';
import type { PairEntry } from '../../src/core/models/manifest.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  delete process.env.DEMO_TEST_PAIRS;
});

/** Runs the plugin's build step into a fresh folder; returns its models/ folder. */
function build(): string {
  const root = mkdtempSync(join(tmpdir(), 'build-'));
  dirs.push(root);
  const plugin = modelsPlugin() as unknown as {
    configResolved(c: { root: string; build: { outDir: string } }): void;
    closeBundle(): void;
  };
  plugin.configResolved({ root, build: { outDir: 'dist' } });
  plugin.closeBundle();
  return join(root, 'dist', 'models');
}

describe('the models in a build', () => {
  it('a production build leaves out the testOnly pair and the goldens, and its manifest does not list it', () => {
    const models = build();
    const manifest = JSON.parse(readFileSync(join(models, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.pairs)).not.toContain('fixture');
    expect(manifest.pairs[manifest.default]).toBeDefined();
    expect(existsSync(join(models, 'fixture'))).toBe(false);
    expect(existsSync(join(models, 'tinystories', 'diffusion', 'config.json'))).toBe(true);
    expect(existsSync(join(models, 'tinystories', 'golden'))).toBe(false);
  });

  it('the e2e build keeps the fixture pair', () => {
    process.env.DEMO_TEST_PAIRS = '1';
    const models = build();
    expect(Object.keys(JSON.parse(readFileSync(join(models, 'manifest.json'), 'utf8')).pairs)).toContain('fixture');
    expect(existsSync(join(models, 'fixture', 'ar', 'config.json'))).toBe(true);
    expect(existsSync(join(models, 'fixture', 'golden'))).toBe(false);
  });

  it('a folder a visible pair also uses is never left out', () => {
    const pair = (top: string, testOnly?: boolean): PairEntry => ({
      title: top,
      description: '',
      diffusion: `${top}/diffusion`,
      ar: `${top}/ar`,
      ...(testOnly ? { testOnly } : {}),
    });
    expect(testOnlyFolders({ a: pair('a'), t: pair('t', true) })).toEqual(['t']);
    expect(testOnlyFolders({ a: pair('a'), t: { ...pair('t', true), ar: 'a/ar' } })).toEqual(['t']);
    expect(testOnlyFolders({ a: { ...pair('a'), ar: 't/ar' }, t: pair('t', true) })).toEqual([]);
  });
});
