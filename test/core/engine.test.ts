// The inference core on the real fixture pair, through onnxruntime-web (WASM) in Node.
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { mkdtempSync, cpSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAr } from '../../src/core/sampler/ar.ts';
import { generateDiffusion } from '../../src/core/sampler/diffusion.ts';
import { Engine } from '../../src/core/engine.ts';
import { nodeReadFile } from '../../src/cli/node-files.ts';
import { canvasAt } from '../../src/core/trace/trace.ts';
import { ROOT, corpusPath, ort, readJson } from '../helpers/fixture.ts';
import { readFileSync, readdirSync, statSync } from 'node:fs';

const MODELS = join(ROOT, 'models', 'pairs') + '/';
let engine: Engine;

beforeAll(async () => {
  engine = await Engine.load({
    ort,
    root: MODELS,
    readFile: nodeReadFile(MODELS),
    pair: 'fixture',
    backend: 'wasm',
  });
});
afterAll(() => engine?.release());

describe('fixture pair through onnxruntime-web', () => {
  it('reports the backend it uses and why', () => {
    expect(engine.info.backend).toEqual({ backend: 'wasm', reason: 'WASM was requested' });
    expect(engine.info.contextLength).toBe(128);
    expect(engine.info.genLength).toBe(64); // the fixture's manifest entry gives no length of its own
  });

  it('the AR sampler with a KV cache produces what it produces without one', async () => {
    const ids = engine.tokenizer.encode('Once upon a time, there was a');
    for (const options of [{ temperature: 0 }, { temperature: 0.8, topK: 20, seed: 3 }]) {
      const cached = await generateAr(engine.ar, ids, { maxNewTokens: 40, ...options, useCache: true });
      const uncached = await generateAr(engine.ar, ids, { maxNewTokens: 40, ...options, useCache: false });
      expect(cached.final).toEqual(uncached.final);
      expect(cached.stats.forwardPasses).toBe(uncached.stats.forwardPasses);
    }
  });

  it('our greedy AR loop gives the tokens of transformers.js generate() on the same ONNX model', async () => {
    const prompt = 'One day, Lily went to the park';
    const ids = engine.tokenizer.encode(prompt);
    const ours = await generateAr(engine.ar, ids, { maxNewTokens: 24, temperature: 0 });
    // transformers.js runs the same model.onnx through its own session and generation loop, from the folder
    env.allowRemoteModels = false;
    env.localModelPath = MODELS;
    const tokenizer = await AutoTokenizer.from_pretrained('fixture/ar');
    const model = await AutoModelForCausalLM.from_pretrained('fixture/ar', { dtype: 'fp32', device: 'cpu' });
    const inputs = tokenizer(prompt);
    const out = (await model.generate({ ...inputs, max_new_tokens: 24, do_sample: false } as never)) as {
      tolist(): bigint[][];
    };
    const theirs = out.tolist()[0].map(Number);
    const stop = theirs.indexOf(engine.tokenizer.endOfTextId, ids.length);
    expect(ours.final).toEqual(stop < 0 ? theirs : theirs.slice(0, stop + 1));
    await model.dispose();
  });

  it('threshold decoding uses fewer forward passes than one token per step', async () => {
    const ids = engine.tokenizer.encode('Once upon a time');
    const oneByOne = await generateDiffusion(engine.diffusion, ids, { genLength: 48, stopAtEndOfText: false });
    const fast = await generateDiffusion(engine.diffusion, ids, {
      genLength: 48,
      threshold: 0.5,
      stopAtEndOfText: false,
    });
    expect(oneByOne.stats.forwardPasses).toBe(48);
    expect(fast.stats.forwardPasses).toBeLessThan(48);
    console.log(`threshold 0.5: ${fast.stats.forwardPasses} passes for 48 tokens (1 per step: 48)`);
  });

  it('greedy outputs of both models are real words, not one repeated token', async () => {
    const words = new Set(
      readFileSync(corpusPath('tinystories.txt'), 'utf8')
        .toLowerCase()
        .match(/[a-z]+/g),
    );
    for (const prompt of ['Once upon a time', 'One day, a little girl', 'Tom had a big red ball.']) {
      const ids = engine.tokenizer.encode(prompt);
      const tokenText = engine.tokenizer.tokenText;
      const d = await generateDiffusion(
        engine.diffusion,
        ids,
        { genLength: 32, steps: 32, blockLength: 8, temperature: 0 },
        { tokenText },
      );
      const a = await generateAr(engine.ar, ids, { maxNewTokens: 32, temperature: 0 }, { tokenText });
      for (const t of [d, a]) {
        const generated = t.answerText.toLowerCase().match(/[a-z]+/g) ?? [];
        expect(generated.length, t.answerText).toBeGreaterThanOrEqual(4);
        const known = generated.filter((w) => words.has(w)).length / generated.length;
        expect(known, t.answerText).toBeGreaterThanOrEqual(0.8);
        expect(new Set(t.answer).size, t.answerText).toBeGreaterThanOrEqual(4);
      }
    }
  });

  it('engine.generate runs all three models on one prompt and streams steps of each', async () => {
    const seen = { diffusion: 0, block: 0, ar: 0 };
    const started: string[] = [];
    const r = await engine.generate(
      { prompt: 'Once upon a time', mode: 'all', diffusion: { genLength: 16 }, ar: { maxNewTokens: 16 } },
      { onStep: (kind) => seen[kind]++, onStart: (kind) => started.push(kind) },
    );
    expect(started).toEqual(['diffusion', 'block', 'ar']);
    expect(seen.diffusion).toBe(r.traces.diffusion!.steps.length);
    expect(seen.block).toBe(r.traces.block!.steps.length);
    expect(seen.ar).toBe(r.traces.ar!.steps.length);
    // the block model runs the diffusion settings in its own blocks
    expect((r.traces.block!.options as { blockLength: number }).blockLength).toBe(engine.info.blockSize);
    expect(canvasAt(r.traces.block!, r.traces.block!.steps.length)).toEqual(r.traces.block!.final);
    expect(canvasAt(r.traces.diffusion!, r.traces.diffusion!.steps.length)).toEqual(r.traces.diffusion!.final);
    expect(r.traces.diffusion!.answerText).toBe(engine.tokenizer.decode(r.traces.diffusion!.answer));
  });

  it('infills [MASK:n] spans and says why AR cannot', async () => {
    const r = await engine.generate({ prompt: 'Once upon a [MASK:3] there was a cat.', mode: 'both' });
    expect(r.traces.ar).toBeUndefined();
    expect(r.skipped.ar).toMatch(/cannot fill a gap/);
    const t = r.traces.diffusion!;
    const masks = t.initial.map((id, i) => (id === t.maskId ? i : -1)).filter((i) => i >= 0);
    expect(masks).toHaveLength(3);
    expect(t.initial.filter((id, i) => !masks.includes(i))).toEqual(t.final.filter((_, i) => !masks.includes(i)));
    expect(t.final).not.toContain(t.maskId);
  });

  it('an infill prompt generates only its spans, whatever length, steps and blocks the page sends', async () => {
    const page = { genLength: 64, steps: 64, blockLength: 4, minLength: 8 };
    const r = await engine.generate({
      prompt: 'Once upon a [MASK:3] there was a cat.',
      mode: 'diffusion',
      diffusion: page,
    });
    const t = r.traces.diffusion!;
    expect(t.final).toHaveLength(t.initial.length);
    expect(t.initial.filter((id) => id === t.maskId)).toHaveLength(3);
    expect(t.steps).toHaveLength(3); // one token per step
    expect(t.final).not.toContain(t.maskId);
  });

  it('rejects an oversized prompt with what to do', async () => {
    const prompt = 'the cat sat on the mat. '.repeat(40);
    await expect(engine.generate({ prompt, mode: 'diffusion', diffusion: { genLength: 32 } })).rejects.toThrow(
      /shorten the prompt to at most 96 tokens/,
    );
  });
});

describe('the default pair as the page ships it (issue 27)', () => {
  it('stores 8-bit weights, folded to float32 when loaded, in at most 20 MB of model files', async () => {
    const shipped = await Engine.load({
      ort,
      root: MODELS,
      readFile: nodeReadFile(MODELS),
      pair: 'tinystories',
      backend: 'wasm',
    });
    try {
      expect(shipped.info.weights).toBe('q8, folded to float32 at load');
      const trace = await generateDiffusion(shipped.diffusion, shipped.tokenizer.encode('Tom had a dog.'), {
        genLength: 16,
        steps: 16,
        blockLength: 16,
        temperature: 0,
      });
      expect(new Set(trace.final.slice(-16)).size).toBeGreaterThan(3);
    } finally {
      await shipped.release();
    }
    let bytes = 0;
    for (const kind of ['ar', 'diffusion', 'block']) {
      const folder = join(MODELS, 'tinystories', kind);
      for (const f of readdirSync(folder, { recursive: true }) as string[]) {
        if (/\.(onnx|json)$/.test(f)) bytes += statSync(join(folder, f)).size;
      }
    }
    expect(bytes).toBeLessThanOrEqual(20e6);
  });
});

describe('broken model files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pairs-'));
    cpSync(join(MODELS), dir, { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a corrupt ONNX file fails with the file name', async () => {
    writeFileSync(join(dir, 'fixture/diffusion/onnx/model_cached.onnx'), 'not an onnx model');
    await expect(
      Engine.load({ ort, root: dir + '/', readFile: nodeReadFile(dir + '/'), pair: 'fixture', backend: 'wasm' }),
    ).rejects.toThrow(/could not load the model file .*fixture\/diffusion\/onnx\/model_cached\.onnx: .*re-export/);
  });

  it('a missing file fails with the file name', async () => {
    rmSync(join(dir, 'fixture/ar/onnx/model.onnx'));
    cpSync(
      join(MODELS, 'fixture/diffusion/onnx/model_cached.onnx'),
      join(dir, 'fixture/diffusion/onnx/model_cached.onnx'),
    );
    await expect(
      Engine.load({ ort, root: dir + '/', readFile: nodeReadFile(dir + '/'), pair: 'fixture', backend: 'wasm' }),
    ).rejects.toThrow(/could not load the model file .*fixture\/ar\/onnx\/model\.onnx: .*ENOENT/);
  });

  it('a config with absurd sizes is refused, naming the field, before any graph is read', async () => {
    const real = readFileSync(join(MODELS, 'fixture/diffusion/config.json'), 'utf8');
    for (const [field, value, message] of [
      ['vocab_size', 1e9, /"vocab_size" is 1000000000: expected an integer in 1\.\.1,048,576/],
      ['num_hidden_layers', 10_000, /"num_hidden_layers" is 10000: expected an integer in 1\.\.256/],
      ['mask_token_id', -1, /"mask_token_id" is -1: not a token of the vocabulary/],
    ] as const) {
      const read: string[] = [];
      const readFile = async (path: string) => {
        read.push(path);
        if (path === 'fixture/diffusion/config.json') {
          return new TextEncoder().encode(JSON.stringify({ ...JSON.parse(real), [field]: value }));
        }
        return nodeReadFile(MODELS)(path);
      };
      await expect(Engine.load({ ort, root: MODELS, readFile, pair: 'fixture', backend: 'wasm' })).rejects.toThrow(
        message,
      );
      expect(read.filter((p) => p.endsWith('.onnx'))).toEqual([]);
    }
  });

  it('an unknown pair name lists the pairs there are', async () => {
    await expect(
      Engine.load({ ort, root: MODELS, readFile: nodeReadFile(MODELS), pair: 'nope', backend: 'wasm' }),
    ).rejects.toThrow(/no pair "nope"; pairs: (\w+, )*fixture\b/);
    for (const inherited of ['constructor', 'toString', '__proto__']) {
      await expect(
        Engine.load({ ort, root: MODELS, readFile: nodeReadFile(MODELS), pair: inherited, backend: 'wasm' }),
      ).rejects.toThrow(`no pair "${inherited}"; pairs:`);
    }
  });
});

describe('a denoiser whose config.json says its logits are shifted', () => {
  let dir: string;
  let shifted: Engine;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pairs-'));
    cpSync(join(MODELS), dir, { recursive: true });
    const config = join(dir, 'fixture/diffusion/config.json');
    const json = readJson<Record<string, unknown>>(config);
    const diffusion = json.diffusion as Record<string, unknown>;
    writeFileSync(config, JSON.stringify({ ...json, diffusion: { ...diffusion, shift_logits_in_graph: true } }));
    shifted = await Engine.load({
      ort,
      root: dir + '/',
      readFile: nodeReadFile(dir + '/'),
      pair: 'fixture',
      backend: 'wasm',
    });
  });
  afterAll(async () => {
    await shifted?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to infill the first position, which it cannot predict, and fills later ones', async () => {
    expect(engine.diffusion.shiftedLogits).toBe(false);
    expect(shifted.diffusion.shiftedLogits).toBe(true);
    await expect(shifted.generate({ prompt: '[MASK:2] upon a time', mode: 'diffusion' })).rejects.toThrow(
      /the prompt starts with \[MASK\].*put at least one word before the first \[MASK\]/,
    );
    const r = await shifted.generate({ prompt: 'Once [MASK:2] a time', mode: 'diffusion' });
    expect(r.traces.diffusion!.final).not.toContain(r.traces.diffusion!.maskId);
  });
});
