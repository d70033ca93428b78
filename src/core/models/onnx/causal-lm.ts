// The autoregressive model over its graph in the transformers.js KV layout: one token a pass with a cache.
import type * as Ort from 'onnxruntime-web';
import type { RunLock } from '../lock.ts';
import type { CausalLM, KvCache } from '../types.ts';
import type { ModelConfig } from './config.ts';
import { OnnxGraph, OrtKvCache, int64, type OrtModule } from './graph.ts';

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
    const past = useCache ? (cache as OrtKvCache | null) : null;
    const pastLen = past?.length ?? 0;
    const n = ids.length;
    const feeds = {
      input_ids: int64(ort, ids, [1, n]),
      attention_mask: int64(ort, new Array(pastLen + n).fill(1), [1, pastLen + n]),
      position_ids: int64(
        ort,
        ids.map((_, i) => pastLen + i),
        [1, n],
      ),
    };
    const pastFeeds = past?.tensors ?? graph.emptyPast(1, this.config.num_key_value_heads, this.config.head_dim);
    const { logits, out } = await graph.run(feeds, pastFeeds, [1, n, this.vocabSize], useCache);
    past?.dispose();
    // views of the copy, not second copies
    const last = allPositions ? logits : logits.subarray((n - 1) * this.vocabSize, n * this.vocabSize);
    if (!useCache) return { logits: last, cache: null };
    return { logits: last, cache: new OrtKvCache(graph.presents(out), pastLen + n) };
  }

  release(): Promise<void> {
    return this.graph.release();
  }
}
