// The converter against the reference implementations (issue 26): small random checkpoints that Hugging Face
// transformers itself wrote (test/reference/qwen3, transformers 5's config layout), converted by `npm run export:hf`
// (scripts/make-hf-random.sh puts them in HF_RANDOM_DIR/reference), must reproduce what transformers' Qwen3 and the
// dLLM library's A2D models computed on them — logits and every layer's cached keys and values — and the project's
// sampler must reproduce dLLM's own MDLMSampler and BD3LMSampler token for token and step for step. The goldens
// come from models/py/reference_goldens.py (scripts/reference-goldens.sh regenerates them); CI needs neither library.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/core/engine.ts';
import { isWindowedDenoiser, type DenoiserCache, type KvCache } from '../../src/core/models/types.ts';
import { generateDiffusion } from '../../src/core/sampler/diffusion.ts';
import { nodeReadFile } from '../../src/cli/node-files.ts';
import { ROOT, maxAbsDiff, ort, readJson } from '../helpers/fixture.ts';
import { concat, dllmOptions, type SamplerCase } from '../helpers/dllm.ts';

if (!process.env.HF_RANDOM_DIR) {
  throw new Error('HF_RANDOM_DIR is not set: run `bash scripts/make-hf-random.sh DIR` and pass DIR (npm test does)');
}
const CONVERTED = join(resolve(process.env.HF_RANDOM_DIR), 'reference') + '/';
const REFERENCE = join(ROOT, 'test', 'reference', 'qwen3');

interface F32 {
  shape: number[];
  f32: string;
}
interface Layer {
  key: F32;
  value: F32;
}
interface Golden {
  transformers: string;
  files: Record<'ar' | 'mdlm' | 'bd3lm', string>;
  ar: { input_ids: number[][]; logits: F32; prefix: number; rest_logits: F32; presents: Layer[] };
  mdlm: { input_ids: number[][]; logits: F32; presents: Layer[]; sampler: SamplerCase[] };
  bd3lm: {
    prompt: number[];
    block_offset: number;
    block: number[];
    logits: F32;
    prefix_presents: Layer[];
    sampler: SamplerCase[];
  };
}

const golden = readJson<Golden>(join(REFERENCE, 'golden.json'));

function floats(a: F32): Float32Array {
  const bytes = Buffer.from(a.f32, 'base64');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(4 * i);
  expect(out.length).toBe(a.shape.reduce((x, y) => x * y, 1));
  return out;
}

/** The last row (of `vocab` numbers) of a flat logits array. */
const lastRow = (logits: Float32Array, vocab: number) => logits.subarray(logits.length - vocab);

/** A cache's keys and values per `past_key_values.N.key|value` name, whichever class of the runtime holds them. */
function presentsOf(cache: KvCache | DenoiserCache | null): Record<string, Float32Array> {
  const held = cache as unknown as { tensors?: Record<string, ort.Tensor>; data?: Record<string, Float32Array> };
  if (held?.tensors)
    return Object.fromEntries(Object.entries(held.tensors).map(([k, t]) => [k, t.data as Float32Array]));
  if (held?.data) return held.data;
  throw new Error('not a cache of the ONNX runtime');
}

/** Largest difference of every layer's keys and values against the reference's, and how large they are. */
function presentsDiff(cache: KvCache | DenoiserCache | null, layers: Layer[]): { diff: number; scale: number } {
  const ours = presentsOf(cache);
  expect(Object.keys(ours).length).toBe(2 * layers.length);
  let diff = 0;
  let scale = 0;
  layers.forEach((layer, i) => {
    for (const part of ['key', 'value'] as const) {
      const ref = floats(layer[part]);
      diff = Math.max(diff, maxAbsDiff(ours[`past_key_values.${i}.${part}`], ref));
      scale = Math.max(scale, ...ref.map(Math.abs));
    }
  });
  return { diff, scale };
}

/**
 * Bound on |ours - reference| / max |reference| for float32 graphs against float32 PyTorch: two implementations of
 * the same math (measured ~1e-7 to 1e-6 of the largest value; README).
 */
const RELATIVE = 1e-5;
const relative = (ours: ArrayLike<number>, ref: Float32Array) => maxAbsDiff(ours, ref) / Math.max(...ref.map(Math.abs));

describe(`converted checkpoints written by transformers ${golden.transformers} against transformers and dLLM`, () => {
  let engine: Engine;
  const figures: Record<string, number> = {};
  beforeAll(async () => {
    engine = await Engine.load({ ort, root: CONVERTED, readFile: nodeReadFile(CONVERTED), backend: 'wasm' });
  });
  afterAll(() => {
    engine?.release();
    console.log(`max |ours - reference| / max |reference|: ${JSON.stringify(figures)}`);
  });

  it('the checkpoints are transformers 5 layout (rope_parameters, dtype) and convert as published ones do', () => {
    for (const kind of ['ar', 'mdlm', 'bd3lm']) {
      const config = readJson(join(REFERENCE, kind, 'config.json'));
      expect(config.rope_parameters).toEqual({ rope_theta: 1000000, rope_type: 'default' });
      expect(config.rope_scaling).toBeUndefined();
      expect(config.dtype).toBe('bfloat16');
    }
    expect(engine.info.converted).toBe(true);
    expect(engine.block!.blockAlign).toBe('prompt-end');
  });

  it("AR: transformers' Qwen3ForCausalLM — full pass, the KV path's logits and keys/values", async () => {
    const g = golden.ar;
    const vocab = g.logits.shape[2];
    const full = await Promise.all(g.input_ids.map((r) => engine.ar.allLogits(r)));
    figures.arLogits = relative(concat(full), floats(g.logits));
    const ids = g.input_ids[0];
    const first = await engine.ar.forward(ids.slice(0, g.prefix), null, true);
    const rest = await engine.ar.forward(ids.slice(g.prefix), first.cache, true);
    // the KV path returns the last position's logits: the reference's last row
    figures.arKvLogits = relative(rest.logits, lastRow(floats(g.rest_logits), vocab));
    const { diff, scale } = presentsDiff(rest.cache, g.presents);
    figures.arPresents = diff / scale;
    rest.cache?.dispose();
    expect(figures.arLogits).toBeLessThan(RELATIVE);
    expect(figures.arKvLogits).toBeLessThan(RELATIVE);
    expect(figures.arPresents).toBeLessThan(RELATIVE);
  });

  it("MDLM: dLLM's A2DQwen3LMHeadModel — a bidirectional pass over masks, logits and keys/values", async () => {
    const g = golden.mdlm;
    const rows = g.input_ids.map((r) => Int32Array.from(r));
    figures.mdlmLogits = relative(concat(await engine.diffusion.forward(rows)), floats(g.logits));
    const windowed = engine.diffusion;
    if (!isWindowedDenoiser(windowed)) throw new Error('the converted MDLM has no cached graph');
    const { logits, cache } = await windowed.forwardAndCache(rows);
    figures.mdlmCachedLogits = relative(concat(logits.rows), floats(g.logits));
    const { diff, scale } = presentsDiff(cache, g.presents);
    figures.mdlmPresents = diff / scale;
    cache.dispose();
    expect(figures.mdlmLogits).toBeLessThan(RELATIVE);
    expect(figures.mdlmCachedLogits).toBeLessThan(RELATIVE);
    expect(figures.mdlmPresents).toBeLessThan(RELATIVE);
  });

  it("BD3LM: dLLM's block mask and positions over a left-padded prompt — the prefix cache and a block against it", async () => {
    const g = golden.bd3lm;
    const block = engine.block!;
    const prompt = Int32Array.from(g.prompt);
    expect(g.block_offset).toBe((block.blockSize - (prompt.length % block.blockSize)) % block.blockSize);
    const prefix = await block.forwardBlock([prompt], prompt.length, null, prompt.length, g.block_offset);
    const { diff, scale } = presentsDiff(prefix.cache, g.prefix_presents);
    figures.bd3lmPrefixPresents = diff / scale;
    const canvas = Int32Array.from([...g.prompt, ...g.block]);
    const out = await block.forwardBlock([canvas], canvas.length, prefix.cache, 0, g.block_offset);
    figures.bd3lmBlockLogits = relative(out.rows[0], floats(g.logits));
    out.cache?.dispose();
    expect(figures.bd3lmPrefixPresents).toBeLessThan(RELATIVE);
    expect(figures.bd3lmBlockLogits).toBeLessThan(RELATIVE);
  });

  it("MDLM: the sampler reproduces dLLM's MDLMSampler token for token and step for step", async () => {
    const cases = golden.mdlm.sampler;
    expect(cases.length).toBe(3);
    for (const c of cases) {
      const t = await generateDiffusion(engine.diffusion, c.prompt, dllmOptions(c, false));
      expect(t.final).toEqual(c.sequence);
      expect(t.steps.map((s) => s.commits.map((x) => x.pos))).toEqual(c.trace);
    }
  });

  it("BD3LM: the sampler (exact cache, and without it) reproduces dLLM's BD3LMSampler", async () => {
    const cases = golden.bd3lm.sampler;
    expect(cases.length).toBe(2);
    for (const c of cases) {
      for (const cache of ['prefix', 'off'] as const) {
        const t = await generateDiffusion(engine.block!, c.prompt, { ...dllmOptions(c, true), cache });
        // dLLM stops after the block where end-of-text appears: its sequence is a prefix of ours, its steps ours
        expect(t.final.slice(0, c.sequence.length)).toEqual(c.sequence);
        expect(t.steps.slice(0, c.trace.length).map((s) => s.commits.map((x) => x.pos))).toEqual(c.trace);
      }
    }
  });

  it('the committed checkpoints are the ones the goldens were computed on', () => {
    // a regenerated checkpoint without regenerated goldens (or the reverse) fails here rather than as a parity error
    for (const kind of ['ar', 'mdlm', 'bd3lm'] as const) {
      const bytes = readFileSync(join(REFERENCE, kind, 'model.safetensors'));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(golden.files[kind]);
      expect(readJson(join(REFERENCE, kind, 'config.json')).transformers_version).toBe(golden.transformers);
    }
  });
});
