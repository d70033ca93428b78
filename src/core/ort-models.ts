// Denoiser and CausalLM over onnxruntime-web sessions. The ORT module is passed in, so the same code runs
// in the worker (`onnxruntime-web/webgpu`) and in Node (`onnxruntime-web`, WASM).
import type * as Ort from 'onnxruntime-web';
import { LogitsShapeError, ModelLoadError, ModelRunError } from './errors.ts';
import { deviceLock, type RunLock } from './lock.ts';
import type { CausalLM, Denoiser, KvCache } from './models.ts';

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
  return {
    ...(c as unknown as ModelConfig),
    is_causal: c.is_causal !== false,
    shifted_logits: diffusion?.shift_logits_in_graph === true,
  };
}

export async function createSession(
  ort: OrtModule,
  bytes: Uint8Array,
  file: string,
  backend: Backend,
): Promise<Ort.InferenceSession> {
  try {
    // onnxruntime-node (used by the benchmark to match transformers.js in Node) calls its CPU provider 'cpu'.
    const native = 'node' in (ort.env.versions ?? {});
    return await ort.InferenceSession.create(bytes, {
      executionProviders: [native ? 'cpu' : backend],
      graphOptimizationLevel: 'all',
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

export class OrtDenoiser implements Denoiser {
  readonly vocabSize: number;
  readonly maskId: number;
  readonly endOfTextId: number;
  readonly contextLength: number;
  readonly shiftedLogits: boolean;

  constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    config: ModelConfig,
    readonly name: string,
    private readonly lock: RunLock = deviceLock,
  ) {
    this.vocabSize = config.vocab_size;
    this.maskId = config.mask_token_id;
    this.endOfTextId = config.eos_token_id;
    this.contextLength = config.max_position_embeddings;
    this.shiftedLogits = config.shifted_logits;
  }

  async forward(sequences: Int32Array[]): Promise<Float32Array[]> {
    const b = sequences.length;
    const s = sequences[0].length;
    const flat = new Int32Array(b * s);
    sequences.forEach((seq, i) => flat.set(seq, i * s));
    const input = int64(this.ort, flat, [b, s]);
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.lock.run(() => this.session.run({ input_ids: input }));
    } catch (err) {
      throw new ModelRunError(this.name, err);
    } finally {
      input.dispose();
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

  release(): Promise<void> {
    return this.session.release();
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
