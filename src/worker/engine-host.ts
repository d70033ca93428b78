// The worker side of DemoBackend: owns the Engine, one generation (or benchmark) at a time, cancellable.
import { runDeviceBench, type DeviceBenchResult } from '../core/device-bench.ts';
import { Engine, type GenerateRequest, type GenerateResult, type ReadFile } from '../core/engine.ts';
import type { OrtModule } from '../core/ort-models.ts';
import type { DemoBackend, GenerateEvents, LoadEvents, LoadRequest, Loaded } from './protocol.ts';

export class EngineHost implements DemoBackend {
  private engine: Engine | null = null;
  private running: AbortController | null = null;

  constructor(
    private readonly ort: OrtModule,
    private readonly root: string,
    private readonly readFile: ReadFile,
  ) {}

  async load(request: LoadRequest, events: LoadEvents = {}): Promise<Loaded> {
    this.running?.abort();
    await this.engine?.release();
    this.engine = null;
    const engine = await Engine.load({
      ort: this.ort,
      root: this.root,
      readFile: this.readFile,
      pair: request.pair,
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

  cancel(): void {
    this.running?.abort();
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
