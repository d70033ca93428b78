// The exported block-diffusion model (the committed fixture's, or PAIR_DIR's): its graph matches PyTorch and its
// cache is exact (a window against the cache gives PyTorch's uncached pass's rows). Its sampler is checked on committed
// models in sampler-golden.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/core/models/onnx/config.ts';
import { OrtBlockDenoiser } from '../../src/core/models/onnx/block-denoiser.ts';
import { PAIR_DIR, denoiserIn, int64, maxAbsDiff, ort, readJson, type GoldenLogits } from '../helpers/fixture.ts';

const DIR = join(PAIR_DIR, 'block');
const has = existsSync(join(DIR, 'config.json'));

type Golden = GoldenLogits;

const sessionOf = (graph: string) => ort.InferenceSession.create(readFileSync(join(DIR, graph)));

describe.runIf(has)(`block-diffusion model in ${PAIR_DIR}`, () => {
  const config = () => readJson(join(DIR, 'config.json'));

  it('config.json states the block size and the AR cache layout; the tokenizer is the pair’s', () => {
    const c = config();
    expect(c.model_type).toBe('bd3lm');
    expect(c.is_causal).toBe(false);
    expect(Number.isInteger(c.diffusion.block_size) && c.diffusion.block_size > 0).toBe(true);
    expect(c.diffusion.cache).toEqual({
      graph: 'onnx/model_cached.onnx',
      keys: 'after-rope',
      logits: 'unshifted',
      present: 'past-and-window',
      attention: 'block-causal',
    });
    expect(parseModelConfig(c, 'config.json').block_size).toBe(c.diffusion.block_size);
    expect(readFileSync(join(DIR, 'tokenizer.json'))).toEqual(readFileSync(join(PAIR_DIR, 'ar', 'tokenizer.json')));
    expect(existsSync(join(DIR, 'README.md'))).toBe(true);
  });

  it('logits from onnxruntime-web match PyTorch (1e-3)', async () => {
    const golden = readJson<Golden>(join(PAIR_DIR, 'golden', 'block-logits.json'));
    // as the engine loads it: a cached-only folder's cached graph over the whole sequence, shifted by the runtime
    const model = await denoiserIn(
      DIR,
      (whole, config, cached) => new OrtBlockDenoiser(ort, whole, config, 'block', undefined, cached),
    );
    const rows = await model.forward(golden.input_ids.map((r) => Int32Array.from(r)));
    const flat = new Float32Array(golden.logits.length);
    rows.forEach((r, i) => flat.set(r, i * r.length));
    expect(rows.length * rows[0].length).toBe(golden.dims.reduce((a, b) => a * b));
    expect(maxAbsDiff(flat, golden.logits)).toBeLessThan(1e-3);
  });

  it('block by block against the cache gives PyTorch’s uncached pass (1e-3)', async () => {
    const golden = readJson<Golden>(join(PAIR_DIR, 'golden', 'block-logits.json'));
    const c = config();
    const B: number = c.diffusion.block_size;
    const V = golden.dims[2];
    const ids = golden.input_ids[1]; // the row with masks in it
    // PyTorch's whole-sequence pass of that row (the golden file's second row)
    const full = Float32Array.from(golden.logits.slice(ids.length * V, 2 * ids.length * V));
    const cached = await sessionOf('onnx/model_cached.onnx');
    const pastNames = cached.inputNames.filter((n) => n.startsWith('past_key_values.'));
    let past: Record<string, ort.Tensor> = {};
    for (const n of pastNames)
      past[n] = new ort.Tensor('float32', new Float32Array(0), [1, c.num_key_value_heads, 0, c.head_dim]);
    let worst = 0;
    for (let start = 0; start < ids.length; start += B) {
      const end = Math.min(start + B, ids.length);
      const out = await cached.run({
        input_ids: int64(ids.slice(start, end), [1, end - start]),
        attention_mask: int64(new Array(end).fill(1), [1, end]),
        position_ids: int64(
          ids.slice(start, end).map((_, j) => start + j),
          [1, end - start],
        ),
        ...past,
      });
      expect(out['present.0.key'].dims[2]).toBe(end); // past + window, as the AR model's
      const rows = out.logits.data as Float32Array;
      // the graph's rows are unshifted (row j: the state at start + j); the full graph's row p + 1 is the state at p
      const shift = c.diffusion.shift_logits_in_graph ? 1 : 0;
      for (let j = 0; j < end - start && start + j + shift < ids.length; j++) {
        const p = start + j + shift;
        worst = Math.max(worst, maxAbsDiff(rows.subarray(j * V, (j + 1) * V), full.subarray(p * V, (p + 1) * V)));
      }
      past = {};
      for (const n of pastNames) past[n] = out[n.replace('past_key_values.', 'present.')];
    }
    expect(worst).toBeLessThan(1e-3);
  });

  it('a block pass that keeps nothing fetches the logits alone, the same rows; one that keeps fetches the cache', async () => {
    const golden = readJson<Golden>(join(PAIR_DIR, 'golden', 'block-logits.json'));
    const ids = Int32Array.from(golden.input_ids[1]);
    const B: number = config().diffusion.block_size;
    const model = await denoiserIn(
      DIR,
      (whole, config, cached) => new OrtBlockDenoiser(ort, whole, config, 'block', undefined, cached),
    );
    // what each run of the cached graph asked for
    const session = (model as unknown as { cached: { session: ort.InferenceSession } }).cached.session;
    const asked: (string[] | 'all')[] = [];
    const run = session.run.bind(session);
    session.run = ((feeds: ort.InferenceSession.FeedsType, fetches?: string[]) => {
      asked.push(Array.isArray(fetches) ? fetches : 'all');
      return fetches ? run(feeds, fetches) : run(feeds);
    }) as typeof session.run;
    const { cache } = await model.forwardBlock([ids], B, null, B); // the first block enters the cache
    const inside = await model.forwardBlock([ids], 2 * B, cache, 0); // a step inside the second block
    const kept = await model.forwardBlock([ids], 2 * B, cache, B); // the second block enters the cache too
    expect(asked).toEqual(['all', ['logits'], 'all']);
    expect(maxAbsDiff(inside.rows[0], kept.rows[0])).toBe(0);
    expect(kept.cache).not.toBeNull();
    kept.cache!.dispose();
  });
});

it('a pair folder with a block model has its golden logits', () => {
  if (has) expect(existsSync(join(PAIR_DIR, 'golden', 'block-logits.json'))).toBe(true);
  else expect(existsSync(join(PAIR_DIR, 'ar', 'config.json'))).toBe(true);
});
