// A block-diffusion model (BD3-LM): its cached graph has the AR model's cache layout ("block" in
// models/cache-layout.json: presents = past + window), so finished blocks are kept exactly. The whole-sequence graph
// is optional (diffusion.graphs "cached-only": the cached graph with nothing cached runs whole sequences).
import type * as Ort from 'onnxruntime-web';
import type { RunLock } from '../lock.ts';
import type { BlockAlign, BlockDenoiser, KvCache } from '../types.ts';
import type { ModelConfig } from './config.ts';
import { CachedGraphDenoiser, offsetFeed, wholeSequencePass } from './denoiser.ts';
import {
  OrtKvCache,
  int64,
  keepPositions,
  positionIds,
  rowsOf,
  shiftRows,
  windowIds,
  type OrtModule,
  type Presents,
} from './graph.ts';

export class OrtBlockDenoiser extends CachedGraphDenoiser implements BlockDenoiser {
  readonly blockSize: number;
  readonly blockAlign: BlockAlign;
  constructor(
    ort: OrtModule,
    session: Ort.InferenceSession | null,
    config: ModelConfig,
    name: string,
    lock: RunLock | undefined,
    cachedSession: Ort.InferenceSession,
  ) {
    super(ort, session, config, name, lock, cachedSession);
    this.blockSize = config.block_size;
    this.blockAlign = config.block_align;
  }

  async forward(sequences: Int32Array[], blockOffset = 0): Promise<Float32Array[]> {
    if (this.whole) return wholeSequencePass(this.whole, sequences, this.vocabSize, blockOffset);
    const { rows } = await this.forwardBlock(sequences, sequences[0].length, null, 0, blockOffset);
    return this.shiftedLogits ? shiftRows(rows, this.vocabSize) : rows; // as the whole-sequence graph shifts them
  }

  /**
   * The window [cache.length, to) against the exact cache (the AR layout: presents = past + window); the first
   * `keep` window positions enter the cache.
   */
  async forwardBlock(sequences: Int32Array[], to: number, cache: KvCache | null, keep: number, blockOffset = 0) {
    const { config, cached: graph } = this;
    const { ort } = graph;
    const held = cache as OrtKvCache | null;
    const b = sequences.length;
    const start = held?.length ?? 0;
    const w = to - start;
    if (w < 1 || to > sequences[0].length || keep < 0 || keep > w) {
      throw new RangeError(`block window [${start}, ${to}) keeping ${keep} of ${sequences[0].length} positions`);
    }
    const [heads, dim] = [config.num_key_value_heads, config.head_dim];
    const feeds = {
      input_ids: int64(ort, windowIds(sequences, start, to), [b, w]),
      position_ids: int64(ort, positionIds(b, start, w), [b, w]),
      attention_mask: int64(ort, new Array<number>(b * (start + w)).fill(1), [b, start + w]),
      ...offsetFeed(graph, blockOffset),
    };
    const past = held?.tensors ?? graph.emptyPast(b, heads, dim);
    // a pass that keeps nothing fetches no presents
    const { logits, out } = await graph.run(feeds, past, [b, w, this.vocabSize], keep > 0);
    const rows = rowsOf(logits, b, w, this.vocabSize);
    if (keep === 0) return { rows, cache };
    const presents = graph.presents(out);
    if (keep < w) {
      // (b, h, start + w, d) -> (b, h, start + keep, d): the finished positions only
      for (const [name, t] of Object.entries(presents)) {
        const full = (await t.getData()) as Float32Array;
        t.dispose();
        const kept = keepPositions(full, b * heads, start + w, start + keep, dim);
        presents[name] = new ort.Tensor('float32', kept, [b, heads, start + keep, dim]);
      }
    }
    held?.dispose();
    return { rows, cache: new OrtKvCache(presents as Presents, start + keep) };
  }
}
