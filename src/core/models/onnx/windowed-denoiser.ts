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
    const { logits } = await this.runWindow(sequences, 0, sequences[0].length, null, 0);
    return this.shiftedLogits ? shiftRows(logits, this.vocabSize) : logits;
  }

  /** The whole sequence through the cached graph with nothing cached: every position's logits and keys/values. */
  async forwardAndCache(sequences: Int32Array[]): Promise<{ logits: WindowLogits; cache: DenoiserCache }> {
    const length = sequences[0].length;
    const { logits, presents } = await this.runWindow(sequences, 0, length, null, 0);
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
    const { logits } = await this.runWindow(sequences, start, to, held, to === length ? start : length);
    return { rows: logits, from: start + (this.shiftedLogits ? 1 : 0), to, computed: to - start };
  }

  /**
   * Runs positions [start, end) of each sequence against `cache`: its first `pastLength` positions are passed
   * (the prefix cache when that is `start`; the whole cache otherwise, the window's stale entries masked out).
   */
  private async runWindow(
    sequences: Int32Array[],
    start: number,
    end: number,
    cache: OrtDenoiserCache | null,
    pastLength: number,
  ): Promise<{ logits: Float32Array[]; presents: Record<string, Float32Array> }> {
    const { config, cached: graph } = this;
    const { ort } = graph;
    const b = sequences.length;
    const w = end - start;
    const heads = config.num_key_value_heads;
    const dim = config.head_dim;
    const mask = new Array<number>(b * (pastLength + w)).fill(1);
    if (pastLength > start) {
      for (let i = 0; i < b; i++) for (let p = start; p < end; p++) mask[i * (pastLength + w) + p] = 0;
    }
    const past: Record<string, Ort.Tensor> = {};
    for (const name of graph.pastNames) {
      const full = cache?.data[name];
      let data: Float32Array = new Float32Array(0);
      if (full && pastLength === cache!.length) data = full;
      else if (full && pastLength > 0) data = keepPositions(full, b * heads, cache!.length, pastLength, dim);
      past[name] = new ort.Tensor('float32', data, [b, heads, pastLength, dim]);
    }
    const feeds = {
      input_ids: int64(ort, windowIds(sequences, start, end), [b, w]),
      position_ids: int64(ort, positionIds(b, start, w), [b, w]),
      attention_mask: int64(ort, mask, [b, pastLength + w]),
    };
    const { logits, out } = await graph.run(feeds, past, [b, w, this.vocabSize]);
    const presents: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(graph.presents(out))) {
      if (cache === null) presents[name] = (await t.getData()) as Float32Array;
      t.dispose();
    }
    return { logits: rowsOf(logits, b, w, this.vocabSize), presents };
  }
}
