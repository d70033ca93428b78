// A denoiser with a cached graph (config.json diffusion.cache, the "window" layout of models/cache-layout.json):
// Fast-dLLM's prefix and dual caches run on it. The whole-sequence graph is optional: with none (diffusion.graphs
// "cached-only") the cached graph with nothing cached runs whole sequences.
import type * as Ort from 'onnxruntime-web';
import type { DenoiserCache, WindowLogits, WindowedDenoiser } from '../types.ts';
import { CachedGraphDenoiser, wholeSequencePass } from './denoiser.ts';
import { int64, keepPositions, positionIds, rowsOf, shiftRows, windowIds } from './graph.ts';

/** Every position's keys and values (batch, heads, length, head_dim) per layer, after RoPE, out of the runtime. */
class OrtDenoiserCache implements DenoiserCache {
  constructor(
    readonly data: Record<string, Float32Array>,
    readonly batch: number,
    readonly length: number,
  ) {}
  dispose() {
    for (const key of Object.keys(this.data)) delete this.data[key];
  }
}

export class OrtWindowedDenoiser extends CachedGraphDenoiser implements WindowedDenoiser {
  async forward(sequences: Int32Array[]): Promise<Float32Array[]> {
    if (this.whole) return wholeSequencePass(this.whole, sequences, this.vocabSize, 0);
    // the cached graph with nothing cached: the same model over the whole sequence, its raw states shifted here
    // for a shifted-logits model as the whole-sequence graph shifts them
    const { logits } = await this.runWindow(sequences, 0, sequences[0].length, null, 0, false);
    return this.shiftedLogits ? shiftRows(logits, this.vocabSize) : logits;
  }

  /** The whole sequence through the cached graph with nothing cached: every position's logits and keys/values. */
  async forwardAndCache(sequences: Int32Array[]): Promise<{ logits: WindowLogits; cache: DenoiserCache }> {
    const length = sequences[0].length;
    const { logits, presents } = await this.runWindow(sequences, 0, length, null, 0, true);
    const shift = this.shiftedLogits ? 1 : 0;
    const cache = new OrtDenoiserCache(presents, sequences.length, length);
    // raw row j is the state at position j; with shifted logits it predicts j + 1 (position 0 has no prediction)
    return { logits: { rows: logits, from: shift, to: length, computed: length }, cache };
  }

  async forwardWindow(sequences: Int32Array[], from: number, to: number, cache: DenoiserCache): Promise<WindowLogits> {
    const length = sequences[0].length;
    const held = cache as OrtDenoiserCache;
    const start = this.shiftedLogits ? from - 1 : from; // a shifted model predicts `from` from the state before it
    if (start < 0 || to > length || from >= to) throw new RangeError(`window [${from}, ${to}) of ${length} positions`);
    if (held.length !== length || held.batch !== sequences.length) {
      throw new RangeError(`a cache of ${held.batch} x ${held.length} positions for ${sequences.length} x ${length}`);
    }
    const { logits } = await this.runWindow(sequences, start, to, held, to === length ? start : length, false);
    return { rows: logits, from: start + (this.shiftedLogits ? 1 : 0), to, computed: to - start };
  }

  /**
   * Scattered positions against the whole cache (the sparse cache, caches.ts): the graph is bidirectional and takes
   * position ids, so a pass's queries need not be contiguous. The cache's entries at those positions are masked out
   * and then replaced by the keys and values the pass computed there.
   */
  async forwardPositions(
    sequences: Int32Array[],
    positions: readonly number[],
    cache: DenoiserCache,
  ): Promise<WindowLogits> {
    const held = cache as OrtDenoiserCache;
    const length = sequences[0].length;
    if (held.length !== length || held.batch !== sequences.length) {
      throw new RangeError(`a cache of ${held.batch} x ${held.length} positions for ${sequences.length} x ${length}`);
    }
    const w = positions.length;
    if (w === 0 || positions.some((p, i) => p < 0 || p >= length || (i > 0 && p <= positions[i - 1]))) {
      throw new RangeError(`positions must ascend within [0, ${length}), got ${positions.length} of them`);
    }
    const { ort } = this.cached;
    const b = sequences.length;
    const mask = new Array<number>(b * (length + w)).fill(1);
    for (let i = 0; i < b; i++) for (const p of positions) mask[i * (length + w) + p] = 0;
    const ids = new Int32Array(b * w);
    sequences.forEach((seq, i) => positions.forEach((p, j) => (ids[i * w + j] = seq[p])));
    const feeds = {
      input_ids: int64(ort, ids, [b, w]),
      position_ids: int64(
        ort,
        Array.from({ length: b * w }, (_, i) => positions[i % w]),
        [b, w],
      ),
      attention_mask: int64(ort, mask, [b, length + w]),
    };
    const { logits, out } = await this.runGraph(feeds, held, length, b, w);
    // the cached graph's presents are the window's own (batch, heads, w, dim): they replace the cache's entries
    const heads = this.config.num_key_value_heads;
    const dim = this.config.head_dim;
    for (const [name, t] of Object.entries(this.cached.presents(out))) {
      const fresh = (await t.getData()) as Float32Array;
      const data = held.data[name];
      for (let r = 0; r < b * heads; r++) {
        positions.forEach((p, j) => {
          const src = (r * w + j) * dim;
          data.set(fresh.subarray(src, src + dim), (r * length + p) * dim);
        });
      }
      t.dispose();
    }
    // with shifted logits the state at p predicts p + 1
    const predicted = positions.map((p) => p + (this.shiftedLogits ? 1 : 0));
    return { rows: logits, from: predicted[0], to: predicted[w - 1] + 1, computed: w, positions: predicted };
  }

  /** The cached graph over a window of `w` positions against `pastLength` positions of `cache` (or none). */
  private async runGraph(
    feeds: Record<string, Ort.Tensor>,
    cache: OrtDenoiserCache | null,
    pastLength: number,
    b: number,
    w: number,
    fetchPresents = true,
  ) {
    const graph = this.cached;
    const { ort } = graph;
    const heads = this.config.num_key_value_heads;
    const dim = this.config.head_dim;
    const past: Record<string, Ort.Tensor> = {};
    for (const name of graph.pastNames) {
      const full = cache?.data[name];
      let data: Float32Array = new Float32Array(0);
      if (full && pastLength === cache!.length) data = full;
      else if (full && pastLength > 0) data = keepPositions(full, b * heads, cache!.length, pastLength, dim);
      past[name] = new ort.Tensor('float32', data, [b, heads, pastLength, dim]);
    }
    const { logits, out } = await graph.run(feeds, past, [b, w, this.vocabSize], fetchPresents);
    return { logits: rowsOf(logits, b, w, this.vocabSize), out };
  }

  /**
   * Runs positions [start, end) of each sequence against `cache`: its first `pastLength` positions are passed
   * (the prefix cache when that is `start`; the whole cache otherwise, the window's stale entries masked out).
   * The window's keys/values come back only when `fetchPresents` (a pass that builds the cache).
   */
  private async runWindow(
    sequences: Int32Array[],
    start: number,
    end: number,
    cache: OrtDenoiserCache | null,
    pastLength: number,
    fetchPresents: boolean,
  ): Promise<{ logits: Float32Array[]; presents: Record<string, Float32Array> }> {
    const { ort } = this.cached;
    const b = sequences.length;
    const w = end - start;
    const mask = new Array<number>(b * (pastLength + w)).fill(1);
    if (pastLength > start) {
      for (let i = 0; i < b; i++) for (let p = start; p < end; p++) mask[i * (pastLength + w) + p] = 0;
    }
    const feeds = {
      input_ids: int64(ort, windowIds(sequences, start, end), [b, w]),
      position_ids: int64(ort, positionIds(b, start, w), [b, w]),
      attention_mask: int64(ort, mask, [b, pastLength + w]),
    };
    const { logits, out } = await this.runGraph(feeds, cache, pastLength, b, w, fetchPresents);
    const presents: Record<string, Float32Array> = {};
    if (!fetchPresents) return { logits, presents };
    for (const [name, t] of Object.entries(this.cached.presents(out))) {
      presents[name] = (await t.getData()) as Float32Array;
      t.dispose();
    }
    return { logits, presents };
  }
}
