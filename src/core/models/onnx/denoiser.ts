// A denoiser whose folder has a whole-sequence graph only (onnx/model.onnx): a full pass at every step.
import type * as Ort from 'onnxruntime-web';
import type { RunLock } from '../lock.ts';
import type { Denoiser } from '../types.ts';
import type { ModelConfig } from './config.ts';
import { OnnxGraph, int64, rowsOf, type OrtModule } from './graph.ts';

/** What every denoiser kind reads from its config: the base of the kinds' classes. */
export abstract class OnnxDenoiserBase implements Denoiser {
  readonly vocabSize: number;
  readonly maskId: number;
  readonly endOfTextId: number;
  readonly contextLength: number;
  readonly shiftedLogits: boolean;

  constructor(
    config: ModelConfig,
    readonly name: string,
  ) {
    this.vocabSize = config.vocab_size;
    this.maskId = config.mask_token_id;
    this.endOfTextId = config.eos_token_id;
    this.contextLength = config.max_position_embeddings;
    this.shiftedLogits = config.shifted_logits === true;
  }

  abstract forward(sequences: Int32Array[], blockOffset?: number): Promise<Float32Array[]>;
  abstract release(): Promise<void>;
}

/**
 * Runs a whole-sequence graph: input_ids (and block_offset when the graph takes one) -> logits (b, s, vocab).
 * Shared by every denoiser kind whose folder has that graph.
 */
export async function wholeSequencePass(
  graph: OnnxGraph,
  sequences: Int32Array[],
  vocabSize: number,
  blockOffset: number,
): Promise<Float32Array[]> {
  const b = sequences.length;
  const s = sequences[0].length;
  const flat = new Int32Array(b * s);
  sequences.forEach((seq, i) => flat.set(seq, i * s));
  const { logits } = await graph.run(
    { input_ids: int64(graph.ort, flat, [b, s]), ...offsetFeed(graph, blockOffset) },
    {},
    [b, s, vocabSize],
  );
  return rowsOf(logits, b, s, vocabSize);
}

/** Block models aligned at the prompt's end take the run's offset as a graph input (export_onnx.py). */
export function offsetFeed(graph: OnnxGraph, offset: number): Record<string, Ort.Tensor> {
  if (!graph.hasInput('block_offset')) {
    if (offset !== 0) throw new RangeError(`${graph.name} has no block_offset input; got offset ${offset}`);
    return {};
  }
  return { block_offset: int64(graph.ort, [offset], [1]) };
}

export class OrtDenoiser extends OnnxDenoiserBase {
  private readonly graph: OnnxGraph;

  constructor(ort: OrtModule, session: Ort.InferenceSession, config: ModelConfig, name: string, lock?: RunLock) {
    super(config, name);
    this.graph = new OnnxGraph(ort, session, name, lock);
  }

  forward(sequences: Int32Array[], blockOffset = 0): Promise<Float32Array[]> {
    return wholeSequencePass(this.graph, sequences, this.vocabSize, blockOffset);
  }

  release(): Promise<void> {
    return this.graph.release();
  }
}

/**
 * A denoiser kind with a cached graph (windowed and block denoisers): the cached graph, and the whole-sequence graph
 * unless the folder is cached-only (diffusion.graphs "cached-only": the cached graph with nothing cached runs whole
 * sequences).
 */
export abstract class CachedGraphDenoiser extends OnnxDenoiserBase {
  protected readonly whole: OnnxGraph | null;
  protected readonly cached: OnnxGraph;

  constructor(
    ort: OrtModule,
    /** The whole-sequence graph; null for a cached-only model. */
    session: Ort.InferenceSession | null,
    protected readonly config: ModelConfig,
    name: string,
    lock: RunLock | undefined,
    cachedSession: Ort.InferenceSession,
  ) {
    super(config, name);
    this.whole = session ? new OnnxGraph(ort, session, name, lock) : null;
    this.cached = new OnnxGraph(ort, cachedSession, `${name} (cached graph)`, lock, config.num_hidden_layers);
  }

  async release(): Promise<void> {
    await this.whole?.release();
    await this.cached.release();
  }
}
