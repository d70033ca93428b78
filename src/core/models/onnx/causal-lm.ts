// The autoregressive model over its graph in the transformers.js KV layout: one token a pass with a cache.
import type * as Ort from 'onnxruntime-web';
import type { RunLock } from '../lock.ts';
import type { CausalLM, KvCache } from '../types.ts';
import type { ModelConfig } from './config.ts';
import { OnnxGraph, OrtKvCache, int64, type OrtModule, type Presents } from './graph.ts';

/**
 * How many tokens an AR pass's window holds before it takes its keys/values into the cache. A pass that does not
 * take them asks for the logits alone; the next pass runs the tokens since the cache again (causal attention: the
 * same logits). Fetching the cache's presents at every token cost a pass 0.5-0.7 ms in Chromium (the runtime
 * copies them out into new buffers), a third of it; a window of up to 8 tokens costs this model next to nothing.
 */
export const AR_CACHE_EVERY = 8;

/** The AR model's cache: keys/values of the first `length` positions, and the tokens after them not yet in it. */
export class ArKvCache extends OrtKvCache {
  constructor(
    tensors: Presents,
    length: number,
    readonly pending: readonly number[],
  ) {
    super(tensors, length);
  }
}

/** log p(ids[i] | ids[< i]) for i = from .. end, from full-sequence logits (for scoring, e.g. gen-PPL). */
export function tokenLogProbs(logits: Float32Array, ids: readonly number[], vocabSize: number, from: number): number[] {
  const out: number[] = [];
  for (let i = Math.max(1, from); i < ids.length; i++) {
    const off = (i - 1) * vocabSize;
    let max = -Infinity;
    for (let v = 0; v < vocabSize; v++) max = Math.max(max, logits[off + v]);
    let sum = 0;
    for (let v = 0; v < vocabSize; v++) sum += Math.exp(logits[off + v] - max);
    out.push(logits[off + ids[i]] - max - Math.log(sum));
  }
  return out;
}

export class OrtCausalLM implements CausalLM {
  readonly vocabSize: number;
  readonly endOfTextId: number;
  readonly contextLength: number;
  private readonly graph: OnnxGraph;

  constructor(
    ort: OrtModule,
    session: Ort.InferenceSession,
    private readonly config: ModelConfig,
    readonly name: string,
    lock?: RunLock,
  ) {
    this.vocabSize = config.vocab_size;
    this.endOfTextId = config.eos_token_id;
    this.contextLength = config.max_position_embeddings;
    this.graph = new OnnxGraph(ort, session, name, lock, config.num_hidden_layers);
  }

  /** Logits of every position of `ids` (seq * vocab), no cache: for scoring text. */
  async allLogits(ids: number[]): Promise<Float32Array> {
    const { logits, cache } = await this.run(ids, null, false, true);
    cache?.dispose();
    return logits;
  }

  async forward(ids: number[], cache: KvCache | null, useCache: boolean) {
    return this.run(ids, cache, useCache, false);
  }

  private async run(ids: number[], cache: KvCache | null, useCache: boolean, allPositions: boolean) {
    const { graph } = this;
    const { ort } = graph;
    const held = useCache ? (cache as ArKvCache | null) : null;
    const pastLen = held?.length ?? 0;
    // the tokens after the cached positions: those of earlier passes not yet taken in, then these
    const window = held ? [...held.pending, ...ids] : ids;
    const n = window.length;
    if (pastLen + n > this.contextLength) {
      throw new RangeError(`${pastLen + n} positions for a context of ${this.contextLength}`);
    }
    // a pass fetches its keys/values only when the window is long enough to be worth taking into the cache
    const take = useCache && (held === null || n >= AR_CACHE_EVERY);
    const feeds = {
      input_ids: int64(ort, window, [1, n]),
      attention_mask: int64(ort, new Array(pastLen + n).fill(1), [1, pastLen + n]),
      position_ids: int64(
        ort,
        window.map((_, i) => pastLen + i),
        [1, n],
      ),
    };
    const pastFeeds = held?.tensors ?? graph.emptyPast(1, this.config.num_key_value_heads, this.config.head_dim);
    const { logits, out } = await graph.run(feeds, pastFeeds, [1, n, this.vocabSize], take);
    // views of the copy, not second copies
    const last = allPositions ? logits : logits.subarray((n - 1) * this.vocabSize, n * this.vocabSize);
    if (!useCache) return { logits: last, cache: null };
    if (!take) return { logits: last, cache: new ArKvCache(held!.tensors, pastLen, window) };
    held?.dispose();
    return { logits: last, cache: new ArKvCache(graph.presents(out), pastLen + n, []) };
  }

  release(): Promise<void> {
    return this.graph.release();
  }
}
