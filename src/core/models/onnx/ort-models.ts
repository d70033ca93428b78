// Denoiser and CausalLM over onnxruntime-web sessions. The ORT module is passed in, so the same code runs
// in the worker (`onnxruntime-web/webgpu`) and in Node (`onnxruntime-web`, WASM).
import type * as Ort from 'onnxruntime-web';
import { LogitsShapeError, ModelLoadError, ModelRunError } from './errors.ts';
import { deviceLock, type RunLock } from './lock.ts';
import type { BlockAlign, CausalLM, Denoiser, DenoiserCache, KvCache, WindowLogits } from './models.ts';

export type OrtModule = typeof Ort;
export type Backend = 'webgpu' | 'wasm';

export interface BackendChoice {
  backend: Backend;
  /** Why this backend: shown to the user. */
  reason: string;
}

/** WebGPU when an adapter is really there, else WASM; says why. */
export async function chooseBackend(prefer: 'auto' | Backend = 'auto'): Promise<BackendChoice> {
  if (prefer === 'wasm') return { backend: 'wasm', reason: 'WASM was requested' };
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return { backend: 'wasm', reason: 'WebGPU is not available here (no navigator.gpu), using WASM' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter)
      return { backend: 'wasm', reason: 'WebGPU found no adapter (requestAdapter returned null), using WASM' };
    return { backend: 'webgpu', reason: 'WebGPU adapter found' };
  } catch (err) {
    return { backend: 'wasm', reason: `WebGPU adapter request failed (${(err as Error).message}), using WASM` };
  }
}

/** The parts of a Hugging Face config.json the runtime needs. */
export interface ModelConfig {
  vocab_size: number;
  max_position_embeddings: number;
  num_hidden_layers: number;
  num_key_value_heads: number;
  head_dim: number;
  eos_token_id: number;
  mask_token_id: number;
  is_causal: boolean;
  /** From `diffusion.shift_logits_in_graph`: row i predicts position i from the state at i - 1. */
  shifted_logits: boolean;
  /** From `diffusion.cache.graph`: the denoiser's graph over a window against cached keys/values, if any. */
  cached_graph: string | null;
  /** From `diffusion.block_size`: a block-diffusion (BD3-LM) model's block; 0 for any other model. */
  block_size: number;
  /** From `diffusion.block_align`: where a block model's blocks begin ('zero' when absent). */
  block_align: BlockAlign;
  /**
   * From `diffusion.graphs` "cached-only": the folder has no onnx/model.onnx; the cached graph runs whole sequences
   * too (an empty cache), so the model is downloaded and held once (export_hf.py).
   */
  cached_only: boolean;
  /** From `weights.dtype` (export_hf.py): how the graph stores its weights; 'fp32' when absent. */
  weights_dtype: string;
}

export function parseModelConfig(json: unknown, file: string): ModelConfig {
  const c = json as Record<string, unknown>;
  const need = [
    'vocab_size',
    'max_position_embeddings',
    'num_hidden_layers',
    'num_key_value_heads',
    'head_dim',
    'eos_token_id',
    'mask_token_id',
  ];
  for (const key of need) {
    if (typeof c?.[key] !== 'number') throw new ModelLoadError(file, new Error(`config.json has no numeric "${key}"`));
  }
  const diffusion = c.diffusion as Record<string, unknown> | undefined;
  const cache = diffusion?.cache as Record<string, unknown> | undefined;
  if (cache !== undefined) {
    // the only layouts the runtime speaks (export_onnx.py cache_config): a block model's is the AR model's
    const want =
      diffusion?.block_size !== undefined
        ? { keys: 'after-rope', logits: 'unshifted', present: 'past-and-window', attention: 'block-causal' }
        : { keys: 'after-rope', logits: 'unshifted', present: 'window-only' };
    for (const [key, value] of Object.entries(want)) {
      if (cache[key] !== value) {
        throw new ModelLoadError(
          file,
          new Error(`diffusion.cache.${key} must be "${value}", got ${JSON.stringify(cache[key])}`),
        );
      }
    }
    if (typeof cache.graph !== 'string')
      throw new ModelLoadError(file, new Error('diffusion.cache.graph is not a path'));
  }
  const block = diffusion?.block_size;
  if (block !== undefined && !(Number.isInteger(block) && (block as number) > 0)) {
    throw new ModelLoadError(
      file,
      new Error(`diffusion.block_size must be a positive integer, got ${JSON.stringify(block)}`),
    );
  }
  const align = diffusion?.block_align ?? 'zero';
  if (align !== 'zero' && align !== 'prompt-end') {
    throw new ModelLoadError(
      file,
      new Error(`diffusion.block_align must be "zero" or "prompt-end", got ${JSON.stringify(align)}`),
    );
  }
  const cachedOnly = diffusion?.graphs === 'cached-only';
  if (cachedOnly && (typeof cache?.graph !== 'string' || diffusion?.shift_logits_in_graph === true)) {
    throw new ModelLoadError(file, new Error('diffusion.graphs "cached-only" needs an unshifted cached graph'));
  }
  const weights = c.weights as Record<string, unknown> | undefined;
  return {
    ...(c as unknown as ModelConfig),
    block_size: (block as number | undefined) ?? 0,
    block_align: align,
    cached_only: cachedOnly,
    weights_dtype: typeof weights?.dtype === 'string' ? weights.dtype : 'fp32',
    is_causal: c.is_causal !== false,
    shifted_logits: diffusion?.shift_logits_in_graph === true,
    cached_graph: typeof cache?.graph === 'string' ? cache.graph : null,
  };
}

/** A graph's weights kept in a file beside it (graphs over 2 GB): its name as the graph refers to it, and bytes. */
export interface ExternalData {
  path: string;
  data: Uint8Array;
}

export async function createSession(
  ort: OrtModule,
  bytes: Uint8Array,
  file: string,
  backend: Backend,
  externalData: ExternalData[] = [],
  compressedWeights = false,
): Promise<Ort.InferenceSession> {
  try {
    // onnxruntime-node (used by the benchmark to match transformers.js in Node) calls its CPU provider 'cpu'.
    const native = 'node' in (ort.env.versions ?? {});
    return await ort.InferenceSession.create(bytes, {
      executionProviders: [native ? 'cpu' : backend],
      graphOptimizationLevel: 'all',
      ...(externalData.length ? { externalData } : {}),
      // Weights stored as fp16/q8/q4 (export_hf.py) are rebuilt as float32 by nodes of the graph. Folded at load,
      // they would all be held as float32 and more (measured, a 32M-parameter q4 model: 1.8 GB resident instead of
      // 0.45 GB): kept as nodes, each is rebuilt when used, at some speed (README).
      ...(compressedWeights ? { extra: { optimization: { disable_specified_optimizers: 'ConstantFolding' } } } : {}),
    });
  } catch (err) {
    throw new ModelLoadError(file, err);
  }
}

function int64(ort: OrtModule, values: ArrayLike<number>, dims: number[]): Ort.Tensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
  return new ort.Tensor('int64', data, dims);
}

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

export class OrtDenoiser implements Denoiser {
  readonly vocabSize: number;
  readonly maskId: number;
  readonly endOfTextId: number;
  readonly contextLength: number;
  readonly shiftedLogits: boolean;
  readonly forwardAndCache?: Denoiser['forwardAndCache'];
  readonly forwardWindow?: Denoiser['forwardWindow'];
  readonly blockSize?: number;
  readonly blockAlign?: BlockAlign;
  readonly forwardBlock?: Denoiser['forwardBlock'];
  private readonly pastNames: string[] = [];

  /** `windowSession`: the cached graph (config.json diffusion.cache), which enables Fast-dLLM's caches. */
  constructor(
    private readonly ort: OrtModule,
    /** The whole-sequence graph; null for a cached-only model (its cached graph runs whole sequences). */
    private readonly session: Ort.InferenceSession | null,
    private readonly config: ModelConfig,
    readonly name: string,
    private readonly lock: RunLock = deviceLock,
    private readonly windowSession: Ort.InferenceSession | null = null,
  ) {
    if (!session && !windowSession) throw new ModelLoadError(name, new Error('a denoiser needs at least one graph'));
    this.vocabSize = config.vocab_size;
    this.maskId = config.mask_token_id;
    this.endOfTextId = config.eos_token_id;
    this.contextLength = config.max_position_embeddings;
    this.shiftedLogits = config.shifted_logits;
    if (windowSession) {
      this.pastNames = windowSession.inputNames.filter((n) => n.startsWith('past_key_values.'));
      if (this.pastNames.length !== 2 * config.num_hidden_layers) {
        throw new ModelLoadError(
          name,
          new Error(
            `cached graph: expected ${2 * config.num_hidden_layers} past_key_values inputs, found ${this.pastNames.length}`,
          ),
        );
      }
      if (config.block_size) {
        this.forwardBlock = (sequences, to, cache, keep, offset = 0) =>
          this.blockPass(sequences, to, cache as OrtKvCache, keep, offset);
      } else {
        this.forwardAndCache = (sequences) => this.cachingPass(sequences);
        this.forwardWindow = (sequences, from, to, cache) =>
          this.windowPass(sequences, from, to, cache as OrtDenoiserCache);
      }
    }
    if (config.block_size) {
      this.blockSize = config.block_size;
      this.blockAlign = config.block_align;
    }
  }

  /** Block models aligned at the prompt's end take the run's offset as a graph input (export_onnx.py). */
  private offsetFeed(session: Ort.InferenceSession, offset: number): Record<string, Ort.Tensor> {
    if (!session.inputNames.includes('block_offset')) {
      if (offset !== 0) throw new RangeError(`${this.name} has no block_offset input; got offset ${offset}`);
      return {};
    }
    return { block_offset: int64(this.ort, [offset], [1]) };
  }

  /**
   * A block model's window [cache.length, to) against its exact cache (the AR layout: presents = past + window);
   * the first `keep` window positions enter the cache.
   */
  private async blockPass(sequences: Int32Array[], to: number, cache: OrtKvCache | null, keep: number, offset: number) {
    const { ort, config } = this;
    const b = sequences.length;
    const start = cache?.length ?? 0;
    const w = to - start;
    if (w < 1 || to > sequences[0].length || keep < 0 || keep > w) {
      throw new RangeError(`block window [${start}, ${to}) keeping ${keep} of ${sequences[0].length} positions`);
    }
    const ids = new Int32Array(b * w);
    sequences.forEach((seq, i) => ids.set(seq.subarray(start, to), i * w));
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: int64(ort, ids, [b, w]),
      position_ids: int64(
        ort,
        Array.from({ length: b * w }, (_, i) => start + (i % w)),
        [b, w],
      ),
      attention_mask: int64(ort, new Array<number>(b * (start + w)).fill(1), [b, start + w]),
      ...this.offsetFeed(this.windowSession!, offset),
    };
    const empty = [b, config.num_key_value_heads, 0, config.head_dim];
    for (const name of this.pastNames)
      feeds[name] = cache?.tensors[name] ?? new ort.Tensor('float32', new Float32Array(0), empty);
    const { out, data } = await this.runCachedGraph(feeds, b, w);
    const row = w * this.vocabSize;
    const rows = sequences.map((_, i) => data.subarray(i * row, (i + 1) * row));
    const presents: Record<string, Ort.Tensor> = {};
    for (const name of this.pastNames) presents[name] = out[name.replace('past_key_values.', 'present.')];
    if (keep === 0) {
      for (const t of Object.values(presents)) t.dispose();
      return { rows, cache };
    }
    if (keep < w) {
      // (b, h, start + w, d) -> (b, h, start + keep, d): the finished positions only
      const [heads, dim] = [config.num_key_value_heads, config.head_dim];
      for (const name of this.pastNames) {
        const full = (await presents[name].getData()) as Float32Array;
        presents[name].dispose();
        const kept = new Float32Array(b * heads * (start + keep) * dim);
        for (let r = 0; r < b * heads; r++) {
          kept.set(
            full.subarray(r * (start + w) * dim, (r * (start + w) + start + keep) * dim),
            r * (start + keep) * dim,
          );
        }
        presents[name] = new ort.Tensor('float32', kept, [b, heads, start + keep, dim]);
      }
    }
    cache?.dispose();
    return { rows, cache: new OrtKvCache(presents, start + keep) };
  }

  /** The whole sequence through the cached graph with nothing cached: every position's logits and keys/values. */
  private async cachingPass(sequences: Int32Array[]) {
    const length = sequences[0].length;
    const { logits, presents } = await this.runWindow(sequences, 0, length, null, 0);
    const shift = this.shiftedLogits ? 1 : 0;
    const cache = new OrtDenoiserCache(presents, sequences.length, length);
    // raw row j is the state at position j; with shifted logits it predicts j + 1 (position 0 has no prediction)
    return { logits: { rows: logits, from: shift, to: length, computed: length }, cache };
  }

  private async windowPass(
    sequences: Int32Array[],
    from: number,
    to: number,
    cache: OrtDenoiserCache,
  ): Promise<WindowLogits> {
    const length = sequences[0].length;
    const start = this.shiftedLogits ? from - 1 : from; // a shifted model predicts `from` from the state before it
    if (start < 0 || to > length || from >= to) throw new RangeError(`window [${from}, ${to}) of ${length} positions`);
    if (cache.length !== length || cache.batch !== sequences.length) {
      throw new RangeError(`a cache of ${cache.batch} x ${cache.length} positions for ${sequences.length} x ${length}`);
    }
    const { logits } = await this.runWindow(sequences, start, to, cache, to === length ? start : length);
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
    const { ort, config } = this;
    const b = sequences.length;
    const w = end - start;
    const heads = config.num_key_value_heads;
    const dim = config.head_dim;
    const ids = new Int32Array(b * w);
    sequences.forEach((seq, i) => ids.set(seq.subarray(start, end), i * w));
    const positions = Array.from({ length: b * w }, (_, i) => start + (i % w));
    const mask = new Array<number>(b * (pastLength + w)).fill(1);
    if (pastLength > start) {
      for (let i = 0; i < b; i++) for (let p = start; p < end; p++) mask[i * (pastLength + w) + p] = 0;
    }
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: int64(ort, ids, [b, w]),
      position_ids: int64(ort, positions, [b, w]),
      attention_mask: int64(ort, mask, [b, pastLength + w]),
    };
    for (const name of this.pastNames) {
      const full = cache?.data[name];
      let data: Float32Array = new Float32Array(0);
      if (full && pastLength === cache!.length) data = full;
      else if (full && pastLength > 0) {
        // the prefix of every (batch, head) row: (b, h, length, d) -> (b, h, pastLength, d)
        data = new Float32Array(b * heads * pastLength * dim);
        for (let r = 0; r < b * heads; r++) {
          data.set(
            full.subarray(r * cache!.length * dim, (r * cache!.length + pastLength) * dim),
            r * pastLength * dim,
          );
        }
      }
      feeds[name] = new ort.Tensor('float32', data, [b, heads, pastLength, dim]);
    }
    const { out, data } = await this.runCachedGraph(feeds, b, w);
    const presents: Record<string, Float32Array> = {};
    for (const name of this.pastNames) {
      const t = out[name.replace('past_key_values.', 'present.')];
      if (cache === null) presents[name] = (await t.getData()) as Float32Array;
      t.dispose();
    }
    const row = w * this.vocabSize;
    return { logits: sequences.map((_, i) => data.subarray(i * row, (i + 1) * row)), presents };
  }

  /** One run of the cached graph: its logits (b x w x vocab, copied out) and the outputs, presents undisposed. */
  private async runCachedGraph(feeds: Record<string, Ort.Tensor>, b: number, w: number) {
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.lock.run(() => this.windowSession!.run(feeds));
    } catch (err) {
      throw new ModelRunError(this.name, err);
    } finally {
      feeds.input_ids.dispose();
      feeds.position_ids.dispose();
      feeds.attention_mask.dispose();
      feeds.block_offset?.dispose();
    }
    if (out.logits.dims.join() !== [b, w, this.vocabSize].join()) {
      throw new LogitsShapeError(`[${b}, ${w}, ${this.vocabSize}]`, `[${out.logits.dims.join(', ')}]`);
    }
    const data = (await out.logits.getData()) as Float32Array;
    out.logits.dispose();
    return { out, data };
  }

  async forward(sequences: Int32Array[], blockOffset = 0): Promise<Float32Array[]> {
    if (!this.session) {
      // the cached graph with nothing cached: the same model over the whole sequence (unshifted: parseModelConfig)
      if (this.blockSize) return (await this.blockPass(sequences, sequences[0].length, null, 0, blockOffset)).rows;
      return (await this.runWindow(sequences, 0, sequences[0].length, null, 0)).logits;
    }
    const session = this.session;
    const b = sequences.length;
    const s = sequences[0].length;
    const flat = new Int32Array(b * s);
    sequences.forEach((seq, i) => flat.set(seq, i * s));
    const feeds = { input_ids: int64(this.ort, flat, [b, s]), ...this.offsetFeed(session, blockOffset) };
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.lock.run(() => session.run(feeds));
    } catch (err) {
      throw new ModelRunError(this.name, err);
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
    }
    const logits = out.logits;
    if (logits.dims.join() !== [b, s, this.vocabSize].join()) {
      throw new LogitsShapeError(`[${b}, ${s}, ${this.vocabSize}]`, `[${logits.dims.join(', ')}]`);
    }
    const data = (await logits.getData()) as Float32Array;
    logits.dispose();
    // `data` is already a copy out of the runtime's memory: hand out views of it, not second copies
    const row = s * this.vocabSize;
    return sequences.map((_, i) => data.subarray(i * row, (i + 1) * row));
  }

  async release(): Promise<void> {
    await this.session?.release();
    await this.windowSession?.release();
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

class OrtKvCache implements KvCache {
  constructor(
    readonly tensors: Record<string, Ort.Tensor>,
    readonly length: number,
  ) {}
  dispose() {
    for (const t of Object.values(this.tensors)) t.dispose();
  }
}

export class OrtCausalLM implements CausalLM {
  readonly vocabSize: number;
  readonly endOfTextId: number;
  readonly contextLength: number;
  private readonly pastNames: string[];

  constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    private readonly config: ModelConfig,
    readonly name: string,
    private readonly lock: RunLock = deviceLock,
  ) {
    this.vocabSize = config.vocab_size;
    this.endOfTextId = config.eos_token_id;
    this.contextLength = config.max_position_embeddings;
    this.pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
    if (this.pastNames.length !== 2 * config.num_hidden_layers) {
      throw new ModelLoadError(
        name,
        new Error(`expected ${2 * config.num_hidden_layers} past_key_values inputs, found ${this.pastNames.length}`),
      );
    }
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
    const { ort } = this;
    const past = useCache ? (cache as OrtKvCache | null) : null;
    const pastLen = past?.length ?? 0;
    const n = ids.length;
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: int64(ort, ids, [1, n]),
      attention_mask: int64(ort, new Array(pastLen + n).fill(1), [1, pastLen + n]),
      position_ids: int64(
        ort,
        ids.map((_, i) => pastLen + i),
        [1, n],
      ),
    };
    const empty = [1, this.config.num_key_value_heads, 0, this.config.head_dim];
    for (const name of this.pastNames)
      feeds[name] = past?.tensors[name] ?? new ort.Tensor('float32', new Float32Array(0), empty);
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.lock.run(() => this.session.run(feeds));
    } catch (err) {
      throw new ModelRunError(this.name, err);
    } finally {
      feeds.input_ids.dispose();
      feeds.attention_mask.dispose();
      feeds.position_ids.dispose();
    }
    past?.dispose();
    const logits = out.logits;
    const data = (await logits.getData()) as Float32Array;
    // `data` is already a copy out of the runtime's memory: hand out views, not second copies
    const last = allPositions ? data : data.subarray((n - 1) * this.vocabSize, n * this.vocabSize);
    logits.dispose();
    const presents: Record<string, Ort.Tensor> = {};
    for (const name of this.pastNames) presents[name] = out[name.replace('past_key_values.', 'present.')];
    if (!useCache) {
      for (const t of Object.values(presents)) t.dispose();
      return { logits: last, cache: null };
    }
    return { logits: last, cache: new OrtKvCache(presents, pastLen + n) };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
