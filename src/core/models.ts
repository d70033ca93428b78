// What the samplers need from a model; implemented over onnxruntime-web (ort-models.ts) and by the
// scripted fakes the tests use.

/** Bidirectional masked-diffusion denoiser: predicts every position at once. */
export interface Denoiser {
  readonly name: string;
  readonly vocabSize: number;
  readonly maskId: number;
  readonly endOfTextId: number;
  readonly contextLength: number;
  /**
   * True when each position is predicted from the hidden state before it (Dream's shifted logits), so the
   * first position has no prediction and cannot be generated. Absent means false.
   */
  readonly shiftedLogits?: boolean;
  /** Logits (seq * vocab, row-major, float32) for each of a batch of equally long sequences. */
  forward(sequences: Int32Array[]): Promise<Float32Array[]>;
}

/** A key/value cache held by a causal model; opaque to the sampler. */
export interface KvCache {
  readonly length: number;
  dispose(): void;
}

/** Autoregressive model: logits of the last position after `ids`, continuing a cache. */
export interface CausalLM {
  readonly name: string;
  readonly vocabSize: number;
  readonly endOfTextId: number;
  readonly contextLength: number;
  /**
   * With `cache` (null at the start) the model sees only `ids` after the cached positions and returns the
   * grown cache; with useCache false it recomputes the whole sequence `ids` and returns no cache.
   */
  forward(
    ids: number[],
    cache: KvCache | null,
    useCache: boolean,
  ): Promise<{ logits: Float32Array; cache: KvCache | null }>;
}

/** Text of one token, for display; may be a partial UTF-8 character. */
export type TokenText = (id: number) => string;
