// The worker side of DemoBackend: owns the Engine, one generation (or benchmark) at a time, cancellable.
import { runDeviceBench, type DeviceBenchResult } from '../core/measure/device-bench.ts';
import { Engine, type GenerateRequest, type GenerateResult, type ReadFile } from '../core/engine.ts';
import { parseManifest } from '../core/models/manifest.ts';
import { filesToLoad, planLoad, SourceError, type DeviceFacts, type LoadPlan } from '../core/models/model-source.ts';
import { chooseBackend, type Backend, type OrtModule } from '../core/models/onnx/graph.ts';
import { DraftEditError } from '../core/errors.ts';
import type { DemoBackend, GenerateEvents, LoadEvents, LoadRequest, Loaded, ResumeRequest } from './protocol.ts';
import type { Expected } from './model-cache.ts';

/** Where models from elsewhere are read and kept (the worker: Cache Storage; tests: anything). */
export interface RemoteFiles {
  /**
   * A file by URL, checked against what the manifest says of it where that is given (model-cache.ts); `onNotKept`
   * hears why a file read whole could not be kept for the next visit.
   */
  read(
    url: string,
    onProgress?: (loaded: number, total: number) => void,
    expected?: Expected,
    onNotKept?: (why: string) => void,
  ): Promise<Uint8Array>;
  cached(urls: string[]): Promise<Set<string>>;
  forget(): Promise<{ files: number; bytes: number }>;
  /** navigator.deviceMemory, when the browser tells. */
  deviceMemoryGB?: number;
}

export class EngineHost implements DemoBackend {
  private engine: Engine | null = null;
  private running: AbortController | null = null;

  constructor(
    /** The runtime, or the runtime for the backend a load chooses (model.worker.ts: one build per backend). */
    private readonly ort: OrtModule | ((backend: Backend) => Promise<OrtModule>),
    private readonly root: string,
    private readonly readFile: ReadFile,
    private readonly remote: RemoteFiles | null = null,
  ) {}

  private remoteFiles(): RemoteFiles {
    if (!this.remote) throw new SourceError('this runtime cannot load models from elsewhere');
    return this.remote;
  }

  async plan(source: { root: string; label: string }, backend: 'auto' | Backend = 'auto'): Promise<LoadPlan> {
    const remote = this.remoteFiles();
    let manifest;
    try {
      const bytes = await remote.read(`${source.root}manifest.json`);
      manifest = parseManifest(JSON.parse(new TextDecoder().decode(bytes)), `${source.root}manifest.json`);
    } catch (err) {
      throw new SourceError(
        `could not read ${source.label}'s manifest.json (${(err as Error).message}): is it a model tree converted by npm run export:hf?`,
      );
    }
    const pair = manifest.pairs[manifest.default];
    const urls = pair ? Object.keys(filesToLoad(pair)).map((f) => source.root + f) : [];
    const held = await remote.cached(urls);
    const choice = await chooseBackend(backend);
    const device: DeviceFacts = { backend: choice.backend };
    if (choice.shaderF16 !== undefined) device.shaderF16 = choice.shaderF16;
    if (remote.deviceMemoryGB !== undefined) device.deviceMemoryGB = remote.deviceMemoryGB;
    return planLoad(manifest, source, undefined, (f) => held.has(source.root + f), device);
  }

  forget(): Promise<{ files: number; bytes: number }> {
    return this.remoteFiles().forget();
  }

  async load(request: LoadRequest, events: LoadEvents = {}): Promise<Loaded> {
    this.running?.abort();
    await this.engine?.release();
    this.engine = null;
    const source = request.source;
    // every file read from elsewhere must be what the manifest lists (its size, its SHA-256 where given)
    const expected = new Map<string, Expected>();
    if (source) {
      // the plan's checks hold for a load asked for directly (a link) as for one the page showed first
      const plan = await this.plan(source, request.backend ?? 'auto');
      if (plan.refusal) throw new SourceError(plan.refusal);
      for (const f of plan.files) expected.set(f.path, { size: f.bytes, ...(f.sha256 ? { sha256: f.sha256 } : {}) });
    }
    const remote = source ? this.remoteFiles() : null;
    const notKept: string[] = [];
    const engine = await Engine.load({
      ort: this.ort,
      root: source?.root ?? this.root,
      readFile: remote
        ? (path, onProgress) =>
            remote.read(source!.root + path, onProgress, expected.get(path), (why) => notKept.push(why))
        : this.readFile,
      pair: source ? undefined : request.pair,
      backend: request.backend ?? 'auto',
      onProgress: events.onProgress,
      onPhase: events.onPhase,
    });
    this.engine = engine;
    const vocabText = Array.from({ length: engine.info.vocabSize }, (_, id) => engine.tokenizer.tokenText(id));
    return {
      info: engine.info,
      manifest: engine.manifest,
      vocabText,
      maskId: engine.tokenizer.maskId,
      endOfTextId: engine.tokenizer.endOfTextId,
      ...(notKept.length
        ? {
            notice:
              `Loaded for this visit, but ${notKept.length === 1 ? 'one file was' : `${notKept.length} files were`} ` +
              `not kept, so a reload downloads ${notKept.length === 1 ? 'it' : 'them'} again: ${notKept.join('; ')}.`,
          }
        : {}),
    };
  }

  async generate(request: GenerateRequest, events: GenerateEvents = {}): Promise<GenerateResult> {
    if (!this.engine) throw new Error('no model is loaded yet: wait for loading to finish');
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    try {
      return await this.engine.generate(request, { signal: controller.signal, ...events });
    } finally {
      if (this.running === controller) this.running = null;
    }
  }

  async resume(request: ResumeRequest, events: GenerateEvents = {}): Promise<GenerateResult> {
    if (!this.engine) throw new Error('no model is loaded yet: wait for loading to finish');
    const engine = this.engine;
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    const ctx = { signal: controller.signal, ...events };
    const { model, trace, atStep, edits, ar } = request;
    try {
      const result: GenerateResult = { traces: {}, skipped: {}, notes: {} };
      result.traces[model] = (await engine.resume(model, { trace, atStep, edits }, ctx)).trace;
      if (ar && !controller.signal.aborted) {
        // the AR run beside it takes the same edits from its whole text, as far as a left-to-right model can
        try {
          const resumed = await engine.resume('ar', { trace: ar, atStep: ar.steps.length, edits }, ctx);
          result.traces.ar = resumed.trace;
          if (resumed.note) result.notes!.ar = resumed.note;
        } catch (err) {
          if (!(err instanceof DraftEditError)) throw err;
          result.notes!.ar = `the AR model did not take this edit (${err.message}); its text is as it was`;
        }
      }
      return result;
    } finally {
      if (this.running === controller) this.running = null;
    }
  }

  cancel(): void {
    this.running?.abort();
  }

  async samples(
    request: GenerateRequest,
    count: number,
    onSample?: (index: number, result: GenerateResult) => void,
  ): Promise<number> {
    if (!this.engine) throw new Error('no model is loaded yet: wait for loading to finish');
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    try {
      return (await this.engine.samples(request, count, { signal: controller.signal, onSample })).length;
    } finally {
      if (this.running === controller) this.running = null;
    }
  }

  async bench(onProgress?: (what: string) => void): Promise<DeviceBenchResult> {
    if (!this.engine) throw new Error('no model is loaded yet: wait for loading to finish');
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller; // so cancel() stops the benchmark too
    try {
      return await runDeviceBench(this.engine, onProgress, { signal: controller.signal });
    } finally {
      if (this.running === controller) this.running = null;
    }
  }
}
