// What the samplers need from a model, one interface per capability: a denoiser, a windowed (cached) denoiser, a
// block denoiser and a causal LM. Implemented over onnxruntime-web (onnx/, one class per kind) and by the scripted
// fakes the tests use (test/helpers/fake-models.ts).

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
  /**
   * Logits (seq * vocab, row-major, float32) for each of a batch of equally long sequences. `blockOffset`: block
   * models aligned at the prompt's end (blockAlign), see blockOffsetFor.
   */
  forward(sequences: Int32Array[], blockOffset?: number): Promise<Float32Array[]>;
}

/**
 * A denoiser with a cached graph, so Fast-dLLM's caches can run (caches.ts): a full pass that also keeps every
 * position's keys and values, and passes over a window that read every other position from them.
 */
export interface WindowedDenoiser extends Denoiser {
  forwardAndCache(sequences: Int32Array[]): Promise<{ logits: WindowLogits; cache: DenoiserCache }>;
  /**
   * Predictions for positions [from, to) from the tokens there now and `cache` for every other position: only
   * the window is computed. When `to` is the sequence's end only the positions before the window are read from
   * the cache (the prefix cache); otherwise those after it too (the dual cache).
   */
  forwardWindow(sequences: Int32Array[], from: number, to: number, cache: DenoiserCache): Promise<WindowLogits>;
  /**
   * The states at `positions` (ascending, any spread) from the tokens there now and `cache` for every other
   * position: only those positions are computed, and their new keys and values replace theirs in `cache` (so a
   * token committed at one step enters the cache at the next). Row i of the result is the prediction its
   * `positions[i]` names: the position itself, or with shifted logits the one after it (its state predicts it).
   */
  forwardPositions(sequences: Int32Array[], positions: readonly number[], cache: DenoiserCache): Promise<WindowLogits>;
}

/**
 * Block diffusion (BD3-LM): attention is block-causal over blocks of `blockSize` positions — bidirectional inside
 * a block, each block seeing only the blocks before it — so a block is decoded against an exact cache of the
 * finished ones (forwardBlock). `forward` runs the same rule over the whole sequence.
 */
export interface BlockDenoiser extends Denoiser {
  readonly blockSize: number;
  /**
   * Where the blocks begin: 'zero' (absent): at multiples of blockSize from position 0, as this project's BD3-LM
   * is trained; 'prompt-end': the first generated position begins a block and the prompt is split into blocks
   * backwards from its end, as dLLM's BD3LM (which pads the prompt on the left to whole blocks).
   */
  readonly blockAlign?: BlockAlign;
  /**
   * Positions [cache.length, to) of each sequence against the cached keys/values of the positions before them
   * (none when `cache` is null). Rows are unshifted: row j is the state at cache.length + j (with shifted logits
   * it predicts the position after it). `keep` of those positions (from the first) enter the cache: the returned
   * cache then replaces the one given, which is disposed; with keep 0 the cache given is returned.
   */
  forwardBlock(
    sequences: Int32Array[],
    to: number,
    cache: KvCache | null,
    keep: number,
    blockOffset?: number,
  ): Promise<{ rows: Float32Array[]; cache: KvCache | null }>;
}

/** A block-diffusion model (it has blocks of its own and decodes them against an exact cache). */
export function isBlockDenoiser(model: Denoiser): model is BlockDenoiser {
  const m = model as Partial<BlockDenoiser>;
  return typeof m.blockSize === 'number' && m.blockSize > 0 && typeof m.forwardBlock === 'function';
}

/** A denoiser whose cached graph runs Fast-dLLM's prefix and dual caches. */
export function isWindowedDenoiser(model: Denoiser): model is WindowedDenoiser {
  const m = model as Partial<WindowedDenoiser>;
  return typeof m.forwardAndCache === 'function' && typeof m.forwardWindow === 'function';
}

export type BlockAlign = 'zero' | 'prompt-end';

/**
 * The offset a block model's rule adds to positions for a prompt of `promptLength` tokens: block(p) = (p + offset)
 * div blockSize. 0 for blocks counted from position 0; for 'prompt-end', the left padding that would make the prompt
 * whole blocks.
 */
export function blockOffsetFor(model: Pick<BlockDenoiser, 'blockSize' | 'blockAlign'>, promptLength: number): number {
  const size = model.blockSize ?? 0;
  if (!size || model.blockAlign !== 'prompt-end') return 0;
  return (size - (promptLength % size)) % size;
}

/** The keys and values of every position of a batch of sequences, from one full pass; opaque to the sampler. */
export interface DenoiserCache {
  readonly length: number;
  dispose(): void;
}

/**
 * Predictions for positions [from, to) of each sequence: position p's logits are row p - from of `rows[i]`
 * (rows may run past `to`). `computed`: positions the model ran per sequence (a shifted-logits model reads a
 * window's first position from the position before it, so it computes one more).
 */
export interface WindowLogits {
  rows: Float32Array[];
  from: number;
  to: number;
  computed: number;
  /** A pass over scattered positions (forwardPositions): row i is positions[i]'s, and no other was computed. */
  positions?: readonly number[];
}

/** The row of position p in a pass's logits, or -1 where the pass did not compute p. */
export function rowIndexOf(pass: WindowLogits): (p: number) => number {
  const { positions, from, to } = pass;
  if (!positions) return (p) => (p >= from && p < to ? p - from : -1);
  const index = new Map(positions.map((p, i) => [p, i]));
  return (p) => index.get(p) ?? -1;
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
