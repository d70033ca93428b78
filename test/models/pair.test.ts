// The exported pair (the committed fixture, or PAIR_DIR): ONNX graphs match PyTorch, the AR KV cache is
// exact, and the Hugging Face files describe the real architecture and load in @huggingface/transformers.
import { AutoTokenizer, env } from '@huggingface/transformers';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OrtWindowedDenoiser } from '../../src/core/models/onnx/windowed-denoiser.ts';
import {
  PAIR_DIR,
  denoiserIn,
  int64,
  maxAbsDiff,
  ort,
  readJson,
  type GoldenLogits,
  session,
} from '../helpers/fixture.ts';

const PARITY_TOLERANCE = 1e-3;

type Golden = GoldenLogits;

const arConfig = () => readJson(join(PAIR_DIR, 'ar', 'config.json'));
const diffusionConfig = () => readJson(join(PAIR_DIR, 'diffusion', 'config.json'));

/** Feeds for the AR graph with an empty or given cache; positions continue after the cache. */
function arFeeds(sess: ort.InferenceSession, ids: number[], past?: Record<string, ort.Tensor>) {
  const cfg = arConfig();
  const pastLen = past ? (past['past_key_values.0.key'].dims[2] as number) : 0;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids, [1, ids.length]),
    attention_mask: int64(new Array(pastLen + ids.length).fill(1), [1, pastLen + ids.length]),
    position_ids: int64(
      ids.map((_, i) => pastLen + i),
      [1, ids.length],
    ),
  };
  for (const name of sess.inputNames.filter((n) => n.startsWith('past_key_values.'))) {
    feeds[name] =
      past?.[name] ?? new ort.Tensor('float32', new Float32Array(0), [1, cfg.num_key_value_heads, 0, cfg.head_dim]);
  }
  return feeds;
}

describe(`model pair in ${basename(PAIR_DIR)}`, () => {
  it('has the Hugging Face layout with one shared tokenizer', () => {
    // the AR model's one graph; the denoiser's one graph is its cached graph (it runs whole sequences too)
    for (const [kind, graph] of [
      ['ar', 'onnx/model.onnx'],
      ['diffusion', 'onnx/model_cached.onnx'],
    ]) {
      for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', graph, 'README.md']) {
        expect(existsSync(join(PAIR_DIR, kind, file)), `${kind}/${file}`).toBe(true);
      }
    }
    expect(existsSync(join(PAIR_DIR, 'ar', 'generation_config.json'))).toBe(true);
    expect(readFileSync(join(PAIR_DIR, 'ar', 'tokenizer.json'))).toEqual(
      readFileSync(join(PAIR_DIR, 'diffusion', 'tokenizer.json')),
    );
  });

  it('config.json describes the real architecture', async () => {
    const ar = arConfig();
    const diff = diffusionConfig();
    expect(ar.model_type).toBe('llama');
    expect(ar.is_causal).toBe(true);
    expect(diff.model_type).toBe('llada');
    expect(diff.is_causal).toBe(false);
    for (const key of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'head_dim']) {
      expect(diff[key], key).toBe(ar[key]);
    }
    const sess = await session('ar');
    const pastInputs = sess.inputNames.filter((n) => n.startsWith('past_key_values.'));
    expect(pastInputs.length).toBe(2 * ar.num_hidden_layers);
    expect(sess.outputNames).toContain('present.0.key');
    const tok = readJson(join(PAIR_DIR, 'ar', 'tokenizer.json'));
    expect(Object.keys(tok.model.vocab).length).toBe(ar.vocab_size);
  });

  it('diffusion logits from onnxruntime-web match PyTorch', async () => {
    const golden = readJson<Golden>(join(PAIR_DIR, 'golden', 'diffusion-logits.json'));
    // the model as the engine loads it: a cached-only folder's cached graph over the whole sequence, its rows
    // shifted by the runtime for a shifted-logits model, as the whole-sequence graph computes them
    const model = await denoiserIn(
      join(PAIR_DIR, 'diffusion'),
      (whole, config, cached) => new OrtWindowedDenoiser(ort, whole, config, 'diffusion', undefined, cached),
    );
    const rows = await model.forward(golden.input_ids.map((r) => Int32Array.from(r)));
    expect(rows.length * rows[0].length).toBe(golden.dims.reduce((a, b) => a * b));
    const flat = new Float32Array(golden.logits.length);
    rows.forEach((r, i) => flat.set(r, i * r.length));
    expect(maxAbsDiff(flat, golden.logits)).toBeLessThan(PARITY_TOLERANCE);
  });

  it('AR logits from onnxruntime-web match PyTorch', async () => {
    const golden = readJson<Golden>(join(PAIR_DIR, 'golden', 'ar-logits.json'));
    const sess = await session('ar');
    const [, s, v] = golden.dims;
    for (let row = 0; row < golden.input_ids.length; row++) {
      const out = await sess.run(arFeeds(sess, golden.input_ids[row]));
      const expected = golden.logits.slice(row * s * v, (row + 1) * s * v);
      expect(maxAbsDiff(out.logits.data as Float32Array, expected)).toBeLessThan(PARITY_TOLERANCE);
    }
  });

  it('AR with a KV cache gives the logits of the uncached pass', async () => {
    const golden = readJson<Golden>(join(PAIR_DIR, 'golden', 'ar-logits.json'));
    const ids = golden.input_ids[0];
    const v = golden.dims[2];
    const sess = await session('ar');
    const full = (await sess.run(arFeeds(sess, ids))).logits.data as Float32Array;
    // prefill 10 tokens, then one token per pass
    const prefill = 10;
    let out = await sess.run(arFeeds(sess, ids.slice(0, prefill)));
    expect(maxAbsDiff(out.logits.data as Float32Array, full.subarray(0, prefill * v))).toBeLessThan(1e-4);
    for (let i = prefill; i < ids.length; i++) {
      const past: Record<string, ort.Tensor> = {};
      for (const name of Object.keys(out).filter((n) => n.startsWith('present.'))) {
        past[name.replace('present.', 'past_key_values.')] = out[name];
      }
      out = await sess.run(arFeeds(sess, [ids[i]], past));
      expect(out['present.0.key'].dims[2]).toBe(i + 1);
      expect(maxAbsDiff(out.logits.data as Float32Array, full.subarray(i * v, (i + 1) * v))).toBeLessThan(1e-4);
    }
  });

  it('both folders load with AutoTokenizer', async () => {
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    env.localModelPath = dirname(PAIR_DIR) + '/';
    for (const kind of ['ar', 'diffusion']) {
      const tok = await AutoTokenizer.from_pretrained(`${basename(PAIR_DIR)}/${kind}`);
      const text = 'Once upon a time, a cat sat. 🐈';
      expect(tok.decode(tok.encode(text))).toBe(text);
      expect(tok.mask_token_id).toBe(1);
    }
  });
});
