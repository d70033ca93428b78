// One definition of "the page's settings" (src/core/page-settings.ts): the page, the command line and the eval
// all resolve to it, so the eval measures what the page does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, type EngineInfo } from '../../src/core/engine.ts';
import { nodeReadFile } from '../../src/cli/node-files.ts';
import { blockModelOptions, fitToContext, resolveDiffusionOptions } from '../../src/core/sampler/options.ts';
import {
  BLOCKS_OF_32,
  PAGE_CACHE,
  PAGE_FILL_CONTEXT,
  PAGE_OUTLINE,
  pageSettings,
} from '../../src/core/page-settings.ts';
import { GATED_ROWS } from '../../src/cli/eval-quality.ts';
import { AppState } from '../../src/ui/app-state.svelte.ts';
import { PRESETS } from '../../src/ui/presets.ts';
import type { DemoBackend } from '../../src/worker/protocol.ts';
import { ROOT, ort } from '../helpers/fixture.ts';

const MODELS = join(ROOT, 'models', 'pairs', '/');

async function fixtureInfo(): Promise<EngineInfo> {
  const engine = await Engine.load({
    ort,
    root: MODELS,
    readFile: nodeReadFile(MODELS),
    pair: 'fixture',
    backend: 'wasm',
  });
  await engine.release();
  return engine.info;
}

/** The page's state after loading a pair, with a backend that only answers `load`. */
async function pageAfterLoad(info: EngineInfo, search = ''): Promise<AppState> {
  const backend = {
    load: async () => ({ info, manifest: { default: info.pair, pairs: {} }, vocabText: [], maskId: 1, endOfTextId: 0 }),
  } as unknown as DemoBackend;
  const app = new AppState(backend);
  if (search) app.readQuery(search);
  await app.models.load();
  return app;
}

const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x));

describe("the page's settings", () => {
  it('are the outline: the pair length in one block, one token per step, the length first, the local cache where the model has one', () => {
    const withCache = pageSettings({ genLength: 224, cachedGraph: true });
    expect(withCache.diffusion).toMatchObject({
      genLength: 224,
      steps: 224,
      blockLength: 224,
      cache: PAGE_CACHE,
      fillContext: PAGE_FILL_CONTEXT,
      ...PAGE_OUTLINE,
    });
    expect(PAGE_CACHE).toBe('local');
    expect(PAGE_OUTLINE).toEqual({ decideLength: true, endOfTextAhead: null, noRepeatNgram: 4, frequencyPenalty: 0.2 });
    expect(withCache.ar).toMatchObject({
      maxNewTokens: 224,
      temperature: withCache.diffusion.temperature,
      fillContext: PAGE_FILL_CONTEXT,
    });
    expect(pageSettings({ genLength: 224, cachedGraph: false }).diffusion.cache).toBe('off');
    // a length of the user's keeps the page's rule for steps and blocks
    expect(
      pageSettings({ genLength: 224, cachedGraph: true }, { diffusion: { genLength: 30 } }).diffusion,
    ).toMatchObject({ genLength: 30, steps: 30, blockLength: 30, fillContext: false });
  });

  it("are dLLM's own for a published model: MDLM without a cache, the BD3LM with its exact one", async () => {
    const converted = pageSettings({ genLength: 128, cachedGraph: true, converted: true });
    expect(converted.diffusion).toMatchObject({
      cache: 'off',
      temperature: 0,
      schedule: 'dllm',
      blockLength: 32,
      decideLength: false,
      noRepeatNgram: 0,
      frequencyPenalty: 0,
    });
    expect(blockModelOptions(converted.diffusion, 32).cache).toBe('prefix');
    // the page after loading one; a cache chosen in the link stays
    const info = { ...(await fixtureInfo()), converted: true, genLength: 128 };
    expect((await pageAfterLoad(info)).settings.diffusion.cache).toBe('off');
    const linked = await pageAfterLoad(info, '?prompt=x&diffusion=' + encodeURIComponent('{"cache":"dual"}'));
    expect(linked.settings.diffusion.cache).toBe('dual');
  });

  it('are what the page holds after loading a pair, unless the link chose otherwise', async () => {
    const info = await fixtureInfo();
    const app = await pageAfterLoad(info);
    expect(plain(app.settings.diffusion)).toEqual(pageSettings(info).diffusion);
    expect(plain(app.settings.ar)).toEqual(pageSettings(info).ar);
    const linked = await pageAfterLoad(
      info,
      '?prompt=x&diffusion=' + encodeURIComponent('{"cache":"off","genLength":32}'),
    );
    expect(plain(linked.settings.diffusion)).toEqual(
      pageSettings(info, { diffusion: { cache: 'off', genLength: 32 } }).diffusion,
    );
    // a length typed is a length wanted: both canvases stop following the prompt, until the box is ticked again
    app.settings.setGenLength(100);
    expect([app.settings.diffusion.fillContext, app.settings.ar.fillContext, app.settings.diffusion.genLength]).toEqual(
      [false, false, 100],
    );
    app.settings.setFillContext(true);
    expect([app.settings.diffusion.fillContext, app.settings.ar.fillContext]).toEqual([true, true]);
    // and the link the page writes names the pair, so a reload or a shared link opens the same models
    expect(new URLSearchParams(linked.shareQuery()).get('pair')).toBe(info.pair);
  });

  it('are what the command line runs when given no options', async () => {
    const info = await fixtureInfo();
    const out = execFileSync(
      'npx',
      ['tsx', 'src/cli/generate.ts', '--pair', 'fixture', '--prompt', 'Once upon a time', '--json'],
      { cwd: ROOT, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const result = JSON.parse(out.toString());
    // the page's settings, the canvas fitted to this prompt as every run fits it (to the context end)
    const page = pageSettings(info);
    const room =
      info.contextLength - result.diffusion.initial.filter((id: number) => id !== result.diffusion.maskId).length;
    expect(result.diffusion.options).toEqual(resolveDiffusionOptions(fitToContext(page.diffusion, room)));
    expect(result.diffusion.options).toMatchObject({ genLength: room, blockLength: room }); // one block, all the room
    expect(result.diffusion.steps.filter((s: { fullPass: boolean }) => !s.fullPass).length).toBeGreaterThan(0);
    expect(result.ar.options).toEqual({ ...page.ar, maxNewTokens: room });
  }, 60_000);

  it("the eval's gated rows are the page's default (the outline preset) and its out-of-order preset", () => {
    expect(Object.keys(GATED_ROWS)).toHaveLength(2);
    expect(Object.values(GATED_ROWS)[0]).toEqual({}); // the page's settings themselves
    const outline = PRESETS.find((p) => p.name.startsWith('Page default'))!;
    expect(outline.blocks).toBe('one');
    expect(outline.diffusion).toMatchObject(PAGE_OUTLINE);
    const preset = PRESETS.find((p) => p.name.startsWith('Out of order'))!;
    expect(preset.diffusion).toMatchObject(BLOCKS_OF_32);
    expect(GATED_ROWS['diffusion, blocks of 32 (out of order)']).toBe(BLOCKS_OF_32);
    // the outline's defences in blocks of 32
    expect(BLOCKS_OF_32).toEqual({
      blockLength: 32,
      endOfTextAhead: null,
      decideLength: true,
      noRepeatNgram: 4,
      frequencyPenalty: 0.2,
    });
  });

  it('are what the eval measures, on both prompt sets', async () => {
    const info = await fixtureInfo();
    const file = join(mkdtempSync(join(tmpdir(), 'eval-')), 'quality.json');
    execFileSync(
      'npx',
      [
        'tsx',
        'src/cli/eval-quality.ts',
        '--pair',
        'fixture',
        '--prompts',
        '1',
        '--cut',
        '1',
        '--hand-written',
        '1',
        '--out',
        file,
      ],
      { cwd: ROOT, stdio: 'ignore' },
    );
    const q = JSON.parse(readFileSync(file, 'utf8'));
    expect(q.pageSettings).toEqual(pageSettings(info));
    expect(q.sets.map((s: { name: string; openings: string[] }) => [s.name, s.openings.length])).toEqual([
      ['validation openings', 1],
      ['visitor openings', 2],
    ]);
    for (const set of q.sets) {
      expect(set.rows[0].options).toEqual(pageSettings(info).ar);
      expect(set.rows[1].options).toEqual(pageSettings(info).diffusion);
      const blocksOf32 = GATED_ROWS['diffusion, blocks of 32 (out of order)'];
      expect(set.rows[2].options).toEqual(pageSettings(info, { diffusion: blocksOf32 }).diffusion);
      // the block model: the page's diffusion settings in its own blocks, and with threshold decoding
      expect(set.rows[3].options).toEqual(blockModelOptions(pageSettings(info).diffusion, info.blockSize!));
      expect(set.rows[4].options).toEqual(
        blockModelOptions(pageSettings(info, { diffusion: { threshold: 0.9 } }).diffusion, info.blockSize!),
      );
      // every model at temperature 0, the page's settings otherwise
      const greedy = pageSettings(info, { diffusion: { temperature: 0 } });
      expect(set.rows[5].options).toEqual({ ...pageSettings(info).ar, temperature: 0 });
      expect(set.rows[6].options).toEqual(greedy.diffusion);
      expect(set.rows[7].options).toEqual(blockModelOptions(greedy.diffusion, info.blockSize!));
      expect(set.rows.map((r: { model: string }) => r.model)).toEqual([
        'ar',
        'diffusion',
        'diffusion',
        'block',
        'block',
        'ar',
        'diffusion',
        'block',
      ]);
    }
    // two sets: two gated diffusion rows with five gates each (the page's with its draft spread too), two block
    // rows with three each, and at temperature 0 the diffusion and block rows' doom loops against the AR model's
    expect(q.gates.length).toBe(2 * (2 * 5 + 1 + 2 * 3 + 2));
  }, 120_000);
});
