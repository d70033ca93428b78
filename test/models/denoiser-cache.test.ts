// The denoiser's cached graph (Fast-dLLM's prefix and dual caches) on the committed fixture, or PAIR_DIR: with
// nothing changed since the cache was filled, a window's logits are the full pass's, whichever positions are
// read from the cache, and a shifted-logits model predicts a window's first position from the state before it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OrtWindowedDenoiser } from '../../src/core/models/onnx/windowed-denoiser.ts';
import type { WindowLogits } from '../../src/core/models/types.ts';
import { PAIR_DIR, denoiserIn, ort, readJson } from '../helpers/fixture.ts';

const TOLERANCE = 1e-4;

/** The pair's denoiser as the engine loads it (a cached-only folder: the cached graph runs the full passes too). */
async function denoiser(): Promise<OrtWindowedDenoiser> {
  return denoiserIn(join(PAIR_DIR, 'diffusion'), (whole, config, cached) => {
    expect(config.cached_graph, 'config.json lists the cached graph').toBe('onnx/model_cached.onnx');
    return new OrtWindowedDenoiser(ort, whole, config, 'diffusion', undefined, cached);
  });
}

/** Largest difference between the window's predictions for [from, to) and the full pass's. */
function windowDiff(window: WindowLogits, full: Float32Array[], from: number, to: number, vocab: number): number {
  let m = 0;
  for (let i = 0; i < full.length; i++) {
    for (let p = from; p < to; p++) {
      for (let v = 0; v < vocab; v++) {
        const a = window.rows[i][(p - window.from) * vocab + v];
        const b = full[i][p * vocab + v];
        m = Math.max(m, Math.abs(a - b));
      }
    }
  }
  return m;
}

describe(`cached denoiser graph of the pair in ${PAIR_DIR}`, () => {
  // the parity inputs of the golden file: validation text, and the same with every third position masked
  const golden = readJson<{ input_ids: number[][] }>(join(PAIR_DIR, 'golden', 'diffusion-logits.json'));
  const sequences = golden.input_ids.map((row) => Int32Array.from(row));
  const L = sequences[0].length;

  it('a full pass through the cached graph gives the plain graph logits and every position cached', async () => {
    const model = await denoiser();
    const full = await model.forward(sequences);
    const { logits, cache } = await model.forwardAndCache!(sequences);
    expect(cache.length).toBe(L);
    expect(logits.computed).toBe(L);
    expect(logits.from).toBe(model.shiftedLogits ? 1 : 0); // a shifted model has no prediction at position 0
    expect(windowDiff(logits, full, logits.from, L, model.vocabSize)).toBeLessThan(TOLERANCE);
    cache.dispose();
  });

  it('a window over a fresh cache gives the full pass logits: dual (both sides cached) and prefix (to the end)', async () => {
    const model = await denoiser();
    const full = await model.forward(sequences);
    const windows: [number, number][] = [
      [4, 8], // dual: positions before and after the window come from the cache
      [9, 10], // one position
      [L - 4, L], // the last block: reaches the end, so only the prefix is read
      [12, L], // prefix cache: the current block and everything after it recomputed
    ];
    for (const [from, to] of windows) {
      const { cache } = await model.forwardAndCache!(sequences);
      const window = await model.forwardWindow!(sequences, from, to, cache);
      expect(window.from, `[${from}, ${to})`).toBe(from);
      // the shifted model reads `from` from the state at from - 1, so it computes one position more
      expect(window.computed).toBe(to - from + (model.shiftedLogits ? 1 : 0));
      expect(windowDiff(window, full, from, to, model.vocabSize), `[${from}, ${to})`).toBeLessThan(TOLERANCE);
      cache.dispose();
    }
  });

  it('the window reads its own tokens now: the cached entries of its positions are never attended to', async () => {
    const model = await denoiser();
    const full = await model.forward(sequences);
    const { cache } = await model.forwardAndCache!(sequences);
    // garbage in the cache at the window's positions (and the one before it, which a shifted model recomputes)
    const { num_key_value_heads: heads, head_dim: dim } = readJson(join(PAIR_DIR, 'diffusion', 'config.json'));
    const start = model.shiftedLogits ? 3 : 4;
    const data = (cache as unknown as { data: Record<string, Float32Array> }).data;
    for (const kv of Object.values(data)) {
      expect(kv.length).toBe(sequences.length * heads * L * dim); // (batch, heads, length, head_dim)
      for (let r = 0; r < sequences.length * heads; r++) kv.fill(1e3, (r * L + start) * dim, (r * L + 8) * dim);
    }
    const window = await model.forwardWindow!(sequences, 4, 8, cache);
    expect(windowDiff(window, full, 4, 8, model.vocabSize)).toBeLessThan(TOLERANCE);
    cache.dispose();
  });
});

describe(`the sparse cache's pass over scattered positions (forwardPositions), pair in ${PAIR_DIR}`, () => {
  const golden = readJson<{ input_ids: number[][] }>(join(PAIR_DIR, 'golden', 'diffusion-logits.json'));
  const sequences = golden.input_ids.map((row) => Int32Array.from(row));
  const L = sequences[0].length;
  const states = [2, 5, 6, 11, L - 3]; // scattered, two of them neighbours

  /** Largest difference between the pass's rows and the full pass's at the positions it says it predicts. */
  function scatteredDiff(pass: WindowLogits, full: Float32Array[], vocab: number): number {
    let m = 0;
    for (let i = 0; i < full.length; i++) {
      pass.positions!.forEach((p, j) => {
        for (let v = 0; v < vocab; v++) {
          m = Math.max(m, Math.abs(pass.rows[i][j * vocab + v] - full[i][p * vocab + v]));
        }
      });
    }
    return m;
  }

  it('with nothing changed since the cache was filled, its predictions are the full pass logits, and the cache stays', async () => {
    const model = await denoiser();
    const full = await model.forward(sequences);
    const { cache } = await model.forwardAndCache(sequences);
    const data = (cache as unknown as { data: Record<string, Float32Array> }).data;
    const before = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.slice()]));
    const pass = await model.forwardPositions(sequences, states, cache);
    // the state at p predicts p itself, or p + 1 with shifted logits
    expect(pass.positions).toEqual(states.map((p) => p + (model.shiftedLogits ? 1 : 0)));
    expect(pass.computed).toBe(states.length);
    expect(scatteredDiff(pass, full, model.vocabSize)).toBeLessThan(TOLERANCE);
    let moved = 0;
    for (const [k, v] of Object.entries(data))
      for (let i = 0; i < v.length; i++) moved = Math.max(moved, Math.abs(v[i] - before[k][i]));
    expect(moved, 'the keys/values written back are the ones the full pass cached').toBeLessThan(TOLERANCE);
    cache.dispose();
  });

  it('reads its own positions now, never their cache entries, and writes what it computed into the cache', async () => {
    const model = await denoiser();
    const full = await model.forward(sequences);
    const { cache } = await model.forwardAndCache(sequences);
    const { num_key_value_heads: heads, head_dim: dim } = readJson(join(PAIR_DIR, 'diffusion', 'config.json'));
    const data = (cache as unknown as { data: Record<string, Float32Array> }).data;
    for (const kv of Object.values(data)) {
      for (let r = 0; r < sequences.length * heads; r++)
        for (const p of states) kv.fill(1e3, (r * L + p) * dim, (r * L + p + 1) * dim);
    }
    expect(scatteredDiff(await model.forwardPositions(sequences, states, cache), full, model.vocabSize)).toBeLessThan(
      TOLERANCE,
    );
    // the garbage is gone: a window elsewhere now reads the rewritten entries and gives the full pass again
    const window = await model.forwardWindow(sequences, 7, 10, cache);
    expect(windowDiff(window, full, 7, 10, model.vocabSize)).toBeLessThan(TOLERANCE);
    cache.dispose();
  });

  it('refuses positions that do not ascend or fall outside the sequence', async () => {
    const model = await denoiser();
    const { cache } = await model.forwardAndCache(sequences);
    for (const bad of [[], [3, 3], [5, 2], [-1], [L]]) {
      await expect(model.forwardPositions(sequences, bad, cache), JSON.stringify(bad)).rejects.toThrow(/ascend/);
    }
    cache.dispose();
  });
});
