// The one message protocol between the page and the model worker: a union of requests, each with an id;
// replies carry the id of the request they answer, and errors are structured { name, message }.
import type { DeviceBenchResult } from '../core/measure/device-bench.ts';
import type { EngineInfo, GenerateRequest, GenerateResult, LoadProgress, ModelKind } from '../core/engine.ts';
import type { ErrorInfo } from '../core/errors.ts';
import type { Manifest } from '../core/models/manifest.ts';
import type { LoadPlan } from '../core/models/model-source.ts';
import type { Backend } from '../core/models/onnx/graph.ts';
import type { DraftEdit, TypedEdit } from '../core/drafts/edits.ts';
import type { Trace, TraceStart, TraceStep } from '../core/trace/trace.ts';

export interface LoadRequest {
  pair?: string;
  /**
   * Models from elsewhere: the root of a model tree (resolveSource) whose files are downloaded into the browser's
   * cache, or read from it. The embedded models when absent.
   */
  source?: { root: string; label: string };
  backend?: 'auto' | Backend;
  /** WASM threads (needs cross-origin isolation); only the first load of a worker can set it. */
  threads?: number;
}

export interface Loaded {
  info: EngineInfo;
  manifest: Manifest;
  /** Display text of every token id, so the page renders any id (ghosts too) without a tokenizer. */
  vocabText: string[];
  maskId: number;
  endOfTextId: number;
  /** What the visitor should know of the load (models from elsewhere that the browser could not keep). */
  notice?: string;
}

export type LoadPhase = 'download' | 'warm-up' | 'ready';

export type { ModelKind };

/**
 * A draft to go on from (issue 28): a diffusion or block-diffusion run taken back to `atStep` with the visitor's
 * edits; `ar`, the AR run shown beside it, is given the same edits (it keeps the text before the first one).
 */
export interface ResumeRequest {
  model: 'diffusion' | 'block';
  trace: Trace;
  atStep: number;
  edits: (DraftEdit | TypedEdit)[];
  ar?: Trace;
}

export type Request =
  | { id: number; kind: 'load'; load: LoadRequest }
  | { id: number; kind: 'generate'; request: GenerateRequest }
  | { id: number; kind: 'resume'; request: ResumeRequest }
  | { id: number; kind: 'samples'; request: GenerateRequest; count: number }
  | { id: number; kind: 'cancel' }
  | { id: number; kind: 'bench' }
  | { id: number; kind: 'plan'; source: { root: string; label: string }; backend?: 'auto' | Backend }
  | { id: number; kind: 'forget' };

export type Reply =
  | { id: number; kind: 'progress'; progress: LoadProgress }
  | { id: number; kind: 'phase'; phase: LoadPhase }
  | { id: number; kind: 'loaded'; loaded: Loaded }
  | { id: number; kind: 'start'; model: ModelKind; start: TraceStart }
  | { id: number; kind: 'step'; model: ModelKind; step: TraceStep }
  | { id: number; kind: 'done'; result: GenerateResult }
  | { id: number; kind: 'sample'; index: number; result: GenerateResult }
  | { id: number; kind: 'samples-done'; count: number }
  | { id: number; kind: 'bench-progress'; what: string }
  | { id: number; kind: 'bench-done'; result: DeviceBenchResult }
  | { id: number; kind: 'plan-done'; plan: LoadPlan }
  | { id: number; kind: 'forgotten'; freed: { files: number; bytes: number } }
  | { id: number; kind: 'error'; error: ErrorInfo };

/** Callbacks for what streams in while a request runs. */
export interface LoadEvents {
  onProgress?: (p: LoadProgress) => void;
  onPhase?: (phase: LoadPhase) => void;
}

export interface GenerateEvents {
  onStart?: (model: ModelKind, start: TraceStart) => void;
  onStep?: (model: ModelKind, step: TraceStep) => void;
}

/** What the page talks to: the worker proxy implements it, and so does the host inside the worker. */
export interface DemoBackend {
  load(request: LoadRequest, events?: LoadEvents): Promise<Loaded>;
  generate(request: GenerateRequest, events?: GenerateEvents): Promise<GenerateResult>;
  /** Goes on from a draft (the edited run, then the AR run with the same edits), streamed as a generation is. */
  resume(request: ResumeRequest, events?: GenerateEvents): Promise<GenerateResult>;
  /** "8 samples": the request `count` times, seed after seed; each sample as it ends. Cancel keeps those done. */
  samples(
    request: GenerateRequest,
    count: number,
    onSample?: (index: number, r: GenerateResult) => void,
  ): Promise<number>;
  /** Cancels the running generation; it resolves with traces that say 'cancelled'. */
  cancel(): void;
  /** A short benchmark of this device (see core/device-bench.ts). */
  bench(onProgress?: (what: string) => void): Promise<DeviceBenchResult>;
  /** What loading models from `source` would download (sizes, what is cached) and whether they can run here. */
  plan(source: { root: string; label: string }, backend?: 'auto' | Backend): Promise<LoadPlan>;
  /** Deletes every downloaded model file from the browser's cache. */
  forget(): Promise<{ files: number; bytes: number }>;
}
