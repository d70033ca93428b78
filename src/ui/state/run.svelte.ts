// The run shown: each model's trace as it streams in from the worker (or as opened from a file), why a model did
// not run, the device benchmark, and export/import of traces.
import type { GenerateRequest, GenerateResult } from '../../core/engine.ts';
import type { DeviceBenchResult } from '../../core/measure/device-bench.ts';
import { MODEL_KINDS, perKind, type ModelKind, type PerKind } from '../../core/modes.ts';
import { parseTraceFile, type ReplayTrace } from '../../core/trace/replay.ts';
import type { Trace, TraceStart, TraceStep } from '../../core/trace/trace.ts';
import type { DraftEdit, TypedEdit } from '../../core/drafts/edits.ts';
import type { DemoBackend, GenerateEvents } from '../../worker/protocol.ts';
import type { PageStatus } from './status.svelte.ts';

/** A trace as it streams in; `done` holds the finished trace (stats, termination) once it arrives. */
export interface LiveTrace extends ReplayTrace {
  plannedSteps: number;
  done: Trace | null;
}

export type LiveTraces = Record<ModelKind, LiveTrace | null>;

/** What a run needs from the rest of the page. */
export interface RunHooks {
  /** Models are loaded (an error then leaves the page ready, not broken). */
  hasModels(): boolean;
  /** A run starts: the cursor goes to its start. */
  restart(): void;
  /** Steps arrived. */
  stepsAdded(): void;
  /** A trace file was opened: its end is shown. */
  opened(): void;
  /** A run was paused: its draft opens. */
  paused(kind: 'diffusion' | 'block'): void;
}

export class RunState {
  traces = $state.raw<LiveTraces>(perKind(() => null));
  /** Why a model of the mode did not run (infill prompts). */
  skipped = $state.raw<PerKind<string>>({});
  /** What to know of a model's run (a resumed AR run: what it kept, what it cannot revise). */
  notes = $state.raw<PerKind<string>>({});
  /** The kind whose run was paused (a cancelled diffusion or block run): its draft opens for editing. */
  paused = $state<'diffusion' | 'block' | null>(null);
  private pauseRequested = false;
  /** The prompt of the run shown (or of the trace opened): what Export writes, whatever the box holds now. */
  runPrompt = $state<string | null>(null);

  /** "Benchmark this device": progress line while running, then the result. */
  benchProgress = $state<string | null>(null);
  benchResult = $state.raw<DeviceBenchResult | null>(null);
  /** The device benchmark is running (the page is busy with it, not with a generation). */
  benchRunning = $state(false);

  constructor(
    private readonly backend: DemoBackend,
    private readonly page: PageStatus,
    private readonly hooks: RunHooks,
  ) {}

  async generate(request: GenerateRequest) {
    const { page } = this;
    page.status = 'generating';
    this.runPrompt = request.prompt;
    page.error = null;
    this.skipped = {};
    this.traces = perKind(() => null);
    await this.stream('diffusion', (events) => this.backend.generate(request, events));
  }

  /**
   * Goes on from the visitor's draft (issue 28): `model`'s run taken back to `atStep` with the edits, then the AR
   * run shown beside it with the same edits. An edit that cannot apply is refused before anything changes.
   */
  async resume(model: 'diffusion' | 'block', atStep: number, edits: (DraftEdit | TypedEdit)[]): Promise<boolean> {
    const trace = this.traces[model]?.done;
    if (!trace || this.page.status !== 'ready') return false;
    this.page.error = null;
    const ar = this.traces.ar?.done ?? undefined;
    return this.stream(model, (events) => this.backend.resume({ model, trace, atStep, edits, ar }, events), true);
  }

  /** Streams a run's traces in (a generation or a resumed draft) and finishes it; false when it failed. */
  private async stream(
    first: ModelKind,
    run: (events: GenerateEvents) => Promise<GenerateResult>,
    keepSkipped = false,
  ): Promise<boolean> {
    const { page } = this;
    page.status = 'generating';
    this.notes = {};
    this.paused = null;
    this.pauseRequested = false;
    this.hooks.restart();
    let current: ModelKind = first;
    try {
      const result = await run({
        onStart: (model: ModelKind, s: TraceStart) => {
          current = model;
          this.traces = { ...this.traces, [model]: { ...s, steps: [], done: null } };
        },
        onStep: (model: ModelKind, step: TraceStep) => this.queueStep(model, step),
      });
      this.finish(keepSkipped ? { ...result, skipped: this.skipped } : result);
      return true;
    } catch (err) {
      page.fail(err, this.hooks.hasModels(), current);
      return false;
    }
  }

  // Steps can arrive faster than frames; they are applied at most once per animation frame so the main
  // thread renders each frame once, however fast the worker runs.
  private pendingSteps: { model: ModelKind; step: TraceStep }[] = [];
  private flushScheduled = false;

  private queueStep(model: ModelKind, step: TraceStep) {
    this.pendingSteps.push({ model, step });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    requestAnimationFrame(() => this.flushSteps());
  }

  private flushSteps() {
    this.flushScheduled = false;
    if (!this.pendingSteps.length) return;
    const next = { ...this.traces };
    for (const model of MODEL_KINDS) {
      const t = next[model];
      const add = this.pendingSteps.filter((p) => p.model === model).map((p) => p.step);
      if (t && add.length) next[model] = { ...t, steps: [...t.steps, ...add] };
    }
    this.pendingSteps = [];
    this.traces = next;
    this.hooks.stepsAdded();
  }

  private finish(result: GenerateResult) {
    this.flushSteps();
    const done = (t: Trace | undefined, live: LiveTrace | null): LiveTrace | null =>
      t ? { ...(live ?? { ...t, plannedSteps: t.termination.plannedSteps }), steps: t.steps, done: t } : live;
    this.traces = perKind((kind) => done(result.traces[kind], this.traces[kind]));
    this.skipped = result.skipped;
    this.notes = result.notes ?? {};
    const cancelled = MODEL_KINDS.find((kind) => result.traces[kind]?.termination.reason === 'cancelled');
    this.paused = this.pauseRequested && (cancelled === 'diffusion' || cancelled === 'block') ? cancelled : null;
    if (this.paused) this.hooks.paused(this.paused);
    this.page.notice = this.paused
      ? 'Paused: click tokens of the draft to re-mask them or type over them, then Resume.'
      : cancelled
        ? 'Generation cancelled: what was produced so far is kept below.'
        : null;
    this.page.status = 'ready';
    this.hooks.stepsAdded();
  }

  cancel() {
    this.backend.cancel();
  }

  /** Stops the run where it is, to edit its draft (a cancel that opens the draft of the model that was running). */
  pause() {
    this.pauseRequested = true;
    this.backend.cancel();
  }

  async benchmark() {
    const { page } = this;
    if (page.status !== 'ready') return;
    page.status = 'generating';
    this.benchRunning = true;
    page.error = null;
    this.benchResult = null;
    try {
      this.benchResult = await this.backend.bench((what) => (this.benchProgress = what));
    } catch (err) {
      if ((err as Error).name === 'BenchCancelledError') page.notice = 'Benchmark cancelled.';
      else page.fail(err, this.hooks.hasModels());
    } finally {
      this.benchProgress = null;
      this.benchRunning = false;
      if (page.status === 'generating') page.status = 'ready';
    }
  }

  /** The run shown as a trace file: its prompt, each model's finished trace, and the tokens' text. */
  exportTraces(prompt: string, pair: string | undefined, vocabText: string[] | undefined): string {
    return JSON.stringify({
      format: 'diffusion-demo-trace/1',
      prompt: this.runPrompt ?? prompt, // the run's, whatever the box holds since
      pair,
      ...perKind((kind) => this.traces[kind]?.done ?? undefined),
      vocabText,
    });
  }

  /**
   * Opens an exported trace for replay without running a model: returns its prompt and tokens' text, or null
   * when it was refused (the error says why; nothing shown is lost).
   */
  importTraces(text: string): { prompt: string; vocabText?: string[] } | null {
    const { page } = this;
    if (page.status === 'generating') {
      // its steps would mix with the run's, which would then replace it: refuse, losing nothing
      page.error = {
        name: 'TraceFileError',
        message: 'could not open the trace file: a run is in progress; cancel it or wait for it to end first',
      };
      return null;
    }
    try {
      const f = parseTraceFile(JSON.parse(text));
      const live = (t: Trace | undefined): LiveTrace | null =>
        t ? { ...t, plannedSteps: t.termination.plannedSteps, done: t } : null;
      this.traces = perKind((kind) => live(f[kind]));
      this.runPrompt = f.prompt;
      this.hooks.opened();
      page.error = null;
      page.notice = 'Replaying a saved trace: no model was run.';
      return { prompt: f.prompt, vocabText: f.vocabText };
    } catch (err) {
      page.error = { name: 'TraceFileError', message: `could not open the trace file: ${(err as Error).message}` };
      return null;
    }
  }
}
