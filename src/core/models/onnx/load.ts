// Where a model folder becomes a model, embedded and converted alike: its config.json picks a row of ONNX_KINDS,
// whose graphs are opened and handed to that kind's class. A new kind adds a class and a row here.
import type * as Ort from 'onnxruntime-web';
import type { RunLock } from '../lock.ts';
import { OrtBlockDenoiser } from './block-denoiser.ts';
import { OrtCausalLM } from './causal-lm.ts';
import type { ModelConfig } from './config.ts';
import { OrtDenoiser } from './denoiser.ts';
import type { OrtModule } from './graph.ts';
import { OrtWindowedDenoiser } from './windowed-denoiser.ts';

export type OnnxModel = OrtDenoiser | OrtWindowedDenoiser | OrtBlockDenoiser | OrtCausalLM;

/** The whole-sequence graph every folder has unless it is cached-only. */
export const WHOLE_GRAPH = 'onnx/model.onnx';

interface OnnxKind {
  readonly name: string;
  matches(config: ModelConfig): boolean;
  /** The graphs the kind runs, in the order its class takes them (null: a graph this folder does not have). */
  graphs(config: ModelConfig): (string | null)[];
  create(
    ort: OrtModule,
    sessions: (Ort.InferenceSession | null)[],
    config: ModelConfig,
    name: string,
    lock?: RunLock,
  ): OnnxModel;
}

const wholeUnlessCachedOnly = (c: ModelConfig) => [c.cached_only ? null : WHOLE_GRAPH, c.cached_graph];

/** Most specific first: the first row whose test the config passes builds the model. */
export const ONNX_KINDS: readonly OnnxKind[] = [
  {
    name: 'causal LM',
    matches: (c) => c.is_causal,
    graphs: () => [WHOLE_GRAPH],
    create: (ort, [session], c, name, lock) => new OrtCausalLM(ort, session!, c, name, lock),
  },
  {
    name: 'block denoiser',
    matches: (c) => c.block_size > 0 && c.cached_graph !== null,
    graphs: wholeUnlessCachedOnly,
    create: (ort, [whole, cached], c, name, lock) => new OrtBlockDenoiser(ort, whole, c, name, lock, cached!),
  },
  {
    name: 'windowed denoiser',
    matches: (c) => c.cached_graph !== null,
    graphs: wholeUnlessCachedOnly,
    create: (ort, [whole, cached], c, name, lock) => new OrtWindowedDenoiser(ort, whole, c, name, lock, cached!),
  },
  {
    name: 'denoiser',
    matches: () => true,
    graphs: () => [WHOLE_GRAPH],
    create: (ort, [session], c, name, lock) => new OrtDenoiser(ort, session!, c, name, lock),
  },
];

/** Opens the graphs a folder's kind runs (`open` reads and creates a session) and builds its model. */
export async function loadOnnxModel(
  ort: OrtModule,
  config: ModelConfig,
  name: string,
  open: (graph: string) => Promise<Ort.InferenceSession>,
  lock?: RunLock,
): Promise<OnnxModel> {
  const kind = ONNX_KINDS.find((k) => k.matches(config))!;
  const sessions: (Ort.InferenceSession | null)[] = [];
  for (const graph of kind.graphs(config)) sessions.push(graph === null ? null : await open(graph));
  return kind.create(ort, sessions, config, name, lock);
}
