// The one place that speaks onnxruntime-web: choosing a backend, creating a session, and OnnxGraph, the helper
// every model class runs its graph through (feeds, the device lock, the logits' shape, the cache's presents).
// The ORT module is passed in, so the same code runs in the worker (`onnxruntime-web/webgpu`) and in Node
// (`onnxruntime-web`, WASM).
import type * as Ort from 'onnxruntime-web';
import { LogitsShapeError, ModelLoadError, ModelRunError } from '../../errors.ts';
import { deviceLock, type RunLock } from '../lock.ts';

export type OrtModule = typeof Ort;
export type Backend = 'webgpu' | 'wasm';

export interface BackendChoice {
  backend: Backend;
  /** Why this backend: shown to the user. */
  reason: string;
  /** WebGPU: whether the adapter offers `shader-f16` (float16 arithmetic in shaders, what fp16-computed graphs need). */
  shaderF16?: boolean;
}

/** WebGPU when an adapter is really there, else WASM; says why. */
export async function chooseBackend(prefer: 'auto' | Backend = 'auto'): Promise<BackendChoice> {
  if (prefer === 'wasm') return { backend: 'wasm', reason: 'WASM was requested' };
  const gpu = (
    globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<{ features?: ReadonlySet<string> } | null> } } }
  ).navigator?.gpu;
  if (!gpu) return { backend: 'wasm', reason: 'WebGPU is not available here (no navigator.gpu), using WASM' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter)
      return { backend: 'wasm', reason: 'WebGPU found no adapter (requestAdapter returned null), using WASM' };
    return {
      backend: 'webgpu',
      reason: 'WebGPU adapter found',
      shaderF16: adapter.features?.has('shader-f16') ?? false,
    };
  } catch (err) {
    return { backend: 'wasm', reason: `WebGPU adapter request failed (${(err as Error).message}), using WASM` };
  }
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

export function int64(ort: OrtModule, values: ArrayLike<number>, dims: number[]): Ort.Tensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
  return new ort.Tensor('int64', data, dims);
}

/** Positions [start, start + n) of each sequence, one after another: (b, n) row-major. */
export function windowIds(sequences: Int32Array[], start: number, end: number): Int32Array {
  const w = end - start;
  const ids = new Int32Array(sequences.length * w);
  sequences.forEach((seq, i) => ids.set(seq.subarray(start, end), i * w));
  return ids;
}

/** Position ids start .. start + w - 1 for each of b sequences. */
export function positionIds(b: number, start: number, w: number): number[] {
  return Array.from({ length: b * w }, (_, i) => start + (i % w));
}

/**
 * The first `keep` positions of a (b, heads, length, dim) tensor's data: (b, heads, keep, dim). The prefix of a
 * cache, or the finished positions of a block model's presents.
 */
export function keepPositions(data: Float32Array, rows: number, length: number, keep: number, dim: number) {
  const out = new Float32Array(rows * keep * dim);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * length * dim, (r * length + keep) * dim), r * keep * dim);
  return out;
}

/** Keys and values per layer as a causal graph's (and a cached graph's) `past_key_values.*` inputs hold them. */
export type Presents = Record<string, Ort.Tensor>;

/**
 * One ONNX graph of a model: its past_key_values inputs (checked against the layers), a locked run that disposes
 * its feeds, the logits checked for shape and copied out, the presents renamed to the past they become.
 */
export class OnnxGraph {
  readonly pastNames: string[];

  constructor(
    readonly ort: OrtModule,
    readonly session: Ort.InferenceSession,
    readonly name: string,
    private readonly lock: RunLock = deviceLock,
    /** Layers whose keys and values the graph takes and returns; 0 for a graph without a cache. */
    layers = 0,
  ) {
    this.pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
    if (layers && this.pastNames.length !== 2 * layers) {
      throw new ModelLoadError(
        name,
        new Error(`expected ${2 * layers} past_key_values inputs, found ${this.pastNames.length}`),
      );
    }
  }

  hasInput(name: string): boolean {
    return this.session.inputNames.includes(name);
  }

  /** An empty past (b, heads, 0, dim) for every past input. */
  emptyPast(b: number, heads: number, dim: number): Presents {
    const past: Presents = {};
    for (const name of this.pastNames)
      past[name] = new this.ort.Tensor('float32', new Float32Array(0), [b, heads, 0, dim]);
    return past;
  }

  /**
   * Runs the graph under the device lock; `owned` feeds (the ids, positions, masks it built) are disposed after,
   * a cache's tensors are not. The logits are checked against `logitsDims`, copied out and disposed; the other
   * outputs stay the caller's to dispose. `fetchPresents: false` asks for the logits alone: the runtime then never
   * copies the presents out of its memory (in Chromium that copy cost a block model's small pass 0.6-1.2 ms, a third
   * of it; docs/bench/page-vs-node).
   */
  async run(
    owned: Record<string, Ort.Tensor>,
    borrowed: Record<string, Ort.Tensor>,
    logitsDims: number[],
    fetchPresents = true,
  ): Promise<{ logits: Float32Array; out: Ort.InferenceSession.OnnxValueMapType }> {
    let out: Ort.InferenceSession.OnnxValueMapType;
    const feeds = { ...owned, ...borrowed };
    try {
      out = await this.lock.run(() => (fetchPresents ? this.session.run(feeds) : this.session.run(feeds, ['logits'])));
    } catch (err) {
      throw new ModelRunError(this.name, err);
    } finally {
      for (const t of Object.values(owned)) t.dispose();
    }
    if (out.logits.dims.join() !== logitsDims.join()) {
      throw new LogitsShapeError(`[${logitsDims.join(', ')}]`, `[${out.logits.dims.join(', ')}]`);
    }
    // a copy out of the runtime's memory: callers hand out views of it, not second copies
    const logits = (await out.logits.getData()) as Float32Array;
    out.logits.dispose();
    return { logits, out };
  }

  /** The outputs `present.*` under the names of the past inputs they feed next time. */
  presents(out: Ort.InferenceSession.OnnxValueMapType): Presents {
    const presents: Presents = {};
    for (const name of this.pastNames) {
      const present = out[name.replace('past_key_values.', 'present.')];
      if (!present) throw new Error(`${this.name}: ${name}'s present was not fetched (run with fetchPresents)`);
      presents[name] = present;
    }
    return presents;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** Row i of a (b, w, vocab) logits buffer: views, not copies. */
export function rowsOf(logits: Float32Array, b: number, w: number, vocab: number): Float32Array[] {
  const row = w * vocab;
  return Array.from({ length: b }, (_, i) => logits.subarray(i * row, (i + 1) * row));
}

/**
 * A shifted-logits denoiser's rows from its raw states (row p the state at p, which predicts p + 1): position p's
 * prediction is the state at p - 1, and position 0 keeps its own (never used: a text starts with a prompt token), as
 * the whole-sequence graph computes them (model.py's shift).
 */
export function shiftRows(rows: Float32Array[], vocab: number): Float32Array[] {
  return rows.map((r) => {
    const out = new Float32Array(r.length);
    out.set(r.subarray(0, vocab), 0);
    out.set(r.subarray(0, r.length - vocab), vocab);
    return out;
  });
}

export class OrtKvCache {
  constructor(
    readonly tensors: Presents,
    readonly length: number,
  ) {}
  dispose() {
    for (const t of Object.values(this.tensors)) t.dispose();
  }
}
