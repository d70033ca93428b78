// All page state in one class of runes. The worker streams steps in; the page keeps traces as raw state
// and derives what to draw at the cursor from them.
import type { CacheMode } from '../core/models/caches.ts';
import type { DeviceBenchResult } from '../core/measure/device-bench.ts';
import type { GenerateResult, LoadProgress, Mode } from '../core/engine.ts';
import {
  AR_DEFAULTS,
  defaultBlockLength,
  DIFFUSION_DEFAULTS,
  resolveArOptions,
  fitToContext,
  resolveDiffusionOptions,
  type ArOptions,
  type DiffusionOptions,
} from '../core/sampler/options.ts';
import { expandInfillMarkers, MAX_SPAN } from '../core/sampler/infill.ts';
import { CONVERTED_SETTINGS, pageSettings } from '../core/page-settings.ts';
import { DEFAULT_HUB, resolveSource, type LoadPlan } from '../core/models/model-source.ts';
import { parseTraceFile, stepAt, stepTimes, type ReplayTrace, type TimeAxis } from '../core/trace/replay.ts';
import type { Trace, TraceStart, TraceStep } from '../core/trace/trace.ts';
import type { DemoBackend, LoadPhase, Loaded, ModelKind } from '../worker/protocol.ts';
import { PRESETS, type Preset } from './presets.ts';
import { fromQuery, toQuery } from './url-state.ts';

/** A trace as it streams in; `done` holds the finished trace (stats, termination) once it arrives. */
export interface LiveTrace extends ReplayTrace {
  plannedSteps: number;
  done: Trace | null;
}

export type Status = 'loading' | 'ready' | 'generating' | 'error';

export const DEFAULT_PROMPT = 'Once upon a time, there was a little girl named Lily.';

export class AppState {
  status = $state<Status>('loading');
  phase = $state<LoadPhase>('download');
  progress = $state<Record<string, LoadProgress>>({});
  loaded = $state.raw<Loaded | null>(null);
  /** Display text of every token id (from the loaded model, or from an imported trace file). */
  vocabText = $state.raw<string[]>([]);
  /** The last error, shown until the next action. */
  error = $state<{ name: string; message: string } | null>(null);
  notice = $state<string | null>(null);

  /** Pair asked for in the URL (the manifest's default when undefined). */
  pair = $state<string | undefined>(undefined);
  /** Models from elsewhere: what the visitor typed (a URL or a Hugging Face id), its plan, and the loaded source. */
  sourceInput = $state('');
  plan = $state.raw<LoadPlan | null>(null);
  planning = $state(false);
  source = $state.raw<{ root: string; label: string } | null>(null);
  /** Where Hugging Face ids are read from (?hub=, for a stand-in hub). */
  hub = DEFAULT_HUB;
  /** The page's own manifest, once its models loaded: the menu's embedded pairs. */
  embedded = $state.raw<Loaded['manifest'] | null>(null);
  /** Chat models: the prompt is sent as the user's message through the model's chat template. */
  chat = $state(true);
  /** The settings a converted model's load put in place (restored to the page's when embedded models load). */
  private convertedApplied = false;
  prompt = $state(DEFAULT_PROMPT);
  /** Every model of the pair by default: diffusion, block diffusion (when the pair has it) and AR. */
  mode = $state<Mode>('all');
  // Every option is present, so each control shows (and binds to) a real value.
  diffusion = $state<DiffusionOptions>({ ...DIFFUSION_DEFAULTS });
  ar = $state<ArOptions>({ ...AR_DEFAULTS, maxNewTokens: DIFFUSION_DEFAULTS.genLength });
  infillSpan = $state(8);
  /** Set once the user (or the URL) chose a generation length; until then each pair's own length applies. */
  private lengthChosen = false;
  /** What the block length follows when the generation length changes: the default blocks, one block, or a typed length. */
  blockRule: 'default' | 'one' | 'fixed' = 'default';
  /** Set once the link chose a cache mode; until then the page's setting for the pair applies. */
  private cacheChosen = false;

  traces = $state.raw<Record<ModelKind, LiveTrace | null>>({ diffusion: null, block: null, ar: null });
  arSkipped = $state<string | null>(null);
  blockSkipped = $state<string | null>(null);
  /** The prompt of the run shown (or of the trace opened): what Export writes, whatever the box holds now. */
  runPrompt = $state<string | null>(null);

  axis = $state<TimeAxis>('passes');
  /** Cursor on the shared time axis (forward passes or ms). */
  time = $state(0);
  /** While generating, the cursor follows the newest step unless the user moved it. */
  following = $state(true);
  playing = $state(false);
  /** Playback speed multiplier. */
  speed = $state(1);
  showGhosts = $state(true);

  /** "Benchmark this device": progress line while running, then the result. */
  benchProgress = $state<string | null>(null);
  benchResult = $state.raw<DeviceBenchResult | null>(null);

  constructor(private readonly backend: DemoBackend) {}

  /** The device benchmark is running (the page is busy with it, not with a generation). */
  benchRunning = $state(false);

  async benchmark() {
    if (this.status !== 'ready') return;
    this.status = 'generating';
    this.benchRunning = true;
    this.error = null;
    this.benchResult = null;
    try {
      this.benchResult = await this.backend.bench((what) => (this.benchProgress = what));
    } catch (err) {
      if ((err as Error).name === 'BenchCancelledError') this.notice = 'Benchmark cancelled.';
      else this.fail(err);
    } finally {
      this.benchProgress = null;
      this.benchRunning = false;
      if (this.status === 'generating') this.status = 'ready';
    }
  }

  /** Option problems, checked as the user types (same validation as the worker's). */
  readonly validation = $derived.by(() => {
    const context = this.loaded?.info.contextLength ?? Infinity;
    const problems: string[] = [];
    try {
      // the canvas to the context end: the options as a run fits them, here for the widest canvas (a one-token
      // prompt); a longer prompt only cuts whole blocks off it
      const d = Number.isFinite(context) ? fitToContext(this.diffusion, context - 1) : this.diffusion;
      resolveDiffusionOptions(d, context);
    } catch (err) {
      problems.push(`diffusion ${(err as Error).message}`);
    }
    try {
      resolveArOptions(this.ar, context);
    } catch (err) {
      problems.push(`AR ${(err as Error).message}`);
    }
    if (!this.prompt.trim()) problems.push('the prompt is empty');
    const span = this.infillSpan;
    const spanOk = Number.isInteger(span) && span >= 1 && span <= MAX_SPAN;
    if (!spanOk)
      problems.push(
        `infill [MASK] length must be an integer in [1, ${MAX_SPAN}], got ${Number.isNaN(span) ? 'an empty value' : JSON.stringify(span)}`,
      );
    try {
      expandInfillMarkers(this.prompt, '', spanOk ? span : 1); // the markers, as the worker checks them
    } catch (err) {
      problems.push((err as Error).message);
    }
    return problems;
  });

  readonly times = $derived.by(() => {
    const of = (t: LiveTrace | null) => (t ? stepTimes(t.steps, this.axis) : []);
    return { diffusion: of(this.traces.diffusion), block: of(this.traces.block), ar: of(this.traces.ar) };
  });

  readonly maxTime = $derived(
    Math.max(0, this.times.diffusion.at(-1) ?? 0, this.times.block.at(-1) ?? 0, this.times.ar.at(-1) ?? 0),
  );

  /** Steps shown for each model at the cursor. */
  readonly shownStep = $derived({
    diffusion: stepAt(this.times.diffusion, this.time),
    block: stepAt(this.times.block, this.time),
    ar: stepAt(this.times.ar, this.time),
  });

  /** Backend and WASM thread count asked for in the URL (?backend=wasm|webgpu&threads=N), for benchmarks. */
  backendPref: 'auto' | 'wasm' | 'webgpu' = 'auto';
  threads: number | undefined = undefined;

  /** Resolves what the visitor typed and asks what loading it would take (sizes, cache, whether it can run here). */
  async checkSource(input = this.sourceInput) {
    this.error = null;
    this.plan = null;
    this.planning = true;
    try {
      const source = resolveSource(input, this.hub);
      this.plan = await this.backend.plan(source, this.backendPref);
    } catch (err) {
      this.fail(err, undefined, false);
    } finally {
      this.planning = false;
    }
  }

  /** Loads the checked models: downloads what the cache lacks, then races them like the embedded ones. */
  async loadPlanned() {
    const plan = this.plan;
    if (!plan || plan.refusal) return;
    this.source = { root: plan.root, label: plan.label };
    await this.load(undefined);
    if (this.source) this.plan = null; // loaded (a failed load went back to the embedded models)
  }

  /** Back to the models embedded in the page. */
  async loadEmbedded(pair?: string) {
    this.source = null;
    this.plan = null;
    await this.load(pair);
  }

  async forgetDownloads() {
    try {
      const freed = await this.backend.forget();
      this.notice = `Forgot ${freed.files} downloaded file${freed.files === 1 ? '' : 's'} (${(freed.bytes / 1e6).toFixed(1)} MB freed).`;
      if (this.plan) await this.checkSource(this.plan.label);
    } catch (err) {
      this.fail(err, undefined, false);
    }
  }

  /** Startup: a link's models from elsewhere load straight away only when the cache holds all of them. */
  async start() {
    if (this.sourceInput) {
      await this.checkSource();
      if (this.plan && !this.plan.refusal && this.plan.toDownload === 0) return this.loadPlanned();
    }
    return this.load();
  }

  async load(pair = this.pair) {
    this.status = 'loading';
    this.error = null;
    this.progress = {};
    try {
      this.loaded = await this.backend.load(
        { pair, backend: this.backendPref, threads: this.threads, ...(this.source ? { source: this.source } : {}) },
        {
          onProgress: (p) => (this.progress = { ...this.progress, [p.file]: p }),
          onPhase: (phase) => (this.phase = phase),
        },
      );
      this.vocabText = this.loaded.vocabText;
      if (!this.source) {
        this.embedded = this.loaded.manifest;
        this.pair = this.loaded.info.pair;
      }
      // the page's settings for this pair, for what the visitor (or the link) has not chosen
      const page = pageSettings(this.loaded.info);
      if (!this.lengthChosen) {
        this.setGenLength(page.diffusion.genLength, false);
        this.diffusion.fillContext = page.diffusion.fillContext;
        this.ar.fillContext = page.ar.fillContext;
      }
      if (!this.cacheChosen) this.diffusion.cache = page.diffusion.cache;
      const converted = this.loaded.info.converted;
      if (converted || this.convertedApplied) {
        // a published model's own settings (dLLM's), and the page's back when embedded models return
        for (const key of Object.keys(CONVERTED_SETTINGS) as (keyof DiffusionOptions)[]) {
          (this.diffusion as unknown as Record<string, unknown>)[key] = page.diffusion[key];
        }
        this.blockRule = converted ? 'fixed' : 'default';
        this.setGenLength(page.diffusion.genLength, false);
        this.diffusion.blockLength = page.diffusion.blockLength;
        this.ar.temperature = page.ar.temperature;
        this.ar.fillContext = page.ar.fillContext;
        this.convertedApplied = converted;
      }
      this.status = 'ready';
    } catch (err) {
      // the worker let go of the models it had: nothing is loaded until a load succeeds
      this.loaded = null;
      this.fail(err);
      if (this.source) {
        // models from elsewhere that failed (network, refusal, a bad file): back to the embedded ones, the
        // reason kept on screen and the plan with it, so nothing typed is lost
        const error = this.error;
        this.source = null;
        await this.load();
        this.error = error;
      }
    }
  }

  async generate() {
    if (this.status !== 'ready' || this.validation.length) return;
    this.status = 'generating';
    this.runPrompt = this.prompt;
    this.error = null;
    this.arSkipped = null;
    this.blockSkipped = null;
    this.traces = { diffusion: null, block: null, ar: null };
    this.time = 0;
    this.following = true;
    this.playing = false;
    let current: ModelKind = 'diffusion';
    try {
      const result = await this.backend.generate(
        {
          prompt: this.prompt,
          mode: this.mode,
          diffusion: $state.snapshot(this.diffusion),
          ar: $state.snapshot(this.ar),
          infillSpan: this.infillSpan,
          chat: this.chat && Boolean(this.loaded?.info.chat),
        },
        {
          onStart: (model: ModelKind, s: TraceStart) => {
            current = model;
            this.traces = { ...this.traces, [model]: { ...s, steps: [], done: null } };
          },
          onStep: (model: ModelKind, step: TraceStep) => this.queueStep(model, step),
        },
      );
      this.finish(result);
    } catch (err) {
      this.fail(err, current);
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
    for (const model of ['diffusion', 'block', 'ar'] as const) {
      const t = next[model];
      const add = this.pendingSteps.filter((p) => p.model === model).map((p) => p.step);
      if (t && add.length) next[model] = { ...t, steps: [...t.steps, ...add] };
    }
    this.pendingSteps = [];
    this.traces = next;
    if (this.following) this.time = this.maxTime;
  }

  private finish(result: GenerateResult) {
    this.flushSteps();
    const done = (t: Trace | undefined, live: LiveTrace | null): LiveTrace | null =>
      t ? { ...(live ?? { ...t, plannedSteps: t.termination.plannedSteps }), steps: t.steps, done: t } : live;
    const { traces, skipped } = result;
    this.traces = {
      diffusion: done(traces.diffusion, this.traces.diffusion),
      block: done(traces.block, this.traces.block),
      ar: done(traces.ar, this.traces.ar),
    };
    this.arSkipped = skipped.ar ?? null;
    this.blockSkipped = skipped.block ?? null;
    const cancelled = Object.values(traces).some((t) => t?.termination.reason === 'cancelled');
    this.notice = cancelled ? 'Generation cancelled: what was produced so far is kept below.' : null;
    this.status = 'ready';
    if (this.following) this.time = this.maxTime;
  }

  private fail(err: unknown, during?: ModelKind, settle = true) {
    const e = err as { name?: string; message?: string };
    this.error = { name: e.name ?? 'Error', message: (during ? `${during}: ` : '') + (e.message ?? String(err)) };
    if (settle) this.status = this.loaded ? 'ready' : 'error';
  }

  cancel() {
    this.backend.cancel();
  }

  /**
   * Sets the generation length for both models; steps and blocks that followed the old length (1 token per
   * step; one block or the default blocks) keep following it. `byUser` false: the pair's length on load.
   */
  setGenLength(length: number, byUser = true) {
    const d = this.diffusion;
    const old = d.genLength;
    if (d.steps === old) d.steps = length;
    // by the rule the blocks follow, not by their value: typing 100 passes through 1 and 10, where the default
    // blocks and one block are the same length
    if (this.blockRule === 'one') d.blockLength = Math.max(1, length);
    else if (this.blockRule === 'default') d.blockLength = defaultBlockLength(length);
    d.genLength = length;
    this.ar.maxNewTokens = length;
    if (byUser) {
      // a length typed is a length wanted: the canvas no longer runs to the context end
      d.fillContext = this.ar.fillContext = false;
      this.lengthChosen = true;
    }
  }

  /** Both canvases to the context end (the length then follows the prompt), or the length in the field. */
  setFillContext(on: boolean) {
    this.diffusion.fillContext = this.ar.fillContext = on;
    this.lengthChosen = true;
  }

  /** The visitor's cache mode, kept when another pair loads. */
  setCache(mode: CacheMode) {
    this.diffusion.cache = mode;
    this.cacheChosen = true;
  }

  /** A block length the visitor typed: kept whatever the generation length becomes. */
  setBlockLength(length: number) {
    this.diffusion.blockLength = length;
    this.blockRule = 'fixed';
  }

  applyPreset(preset: Preset) {
    this.diffusion = { ...this.diffusion, ...preset.diffusion };
    const length = this.diffusion.genLength;
    this.blockRule = preset.blocks ?? (preset.diffusion.blockLength !== undefined ? 'fixed' : this.blockRule);
    if (preset.blocks === 'one') this.diffusion.blockLength = Math.max(1, length);
    if (preset.blocks === 'default') this.diffusion.blockLength = defaultBlockLength(length);
    if (preset.diffusion.temperature !== undefined) this.ar.temperature = preset.diffusion.temperature;
    if (preset.diffusion.threshold === null && preset.diffusion.factor === null && this.diffusion.genLength) {
      // a fixed schedule: one token per step unless the preset says otherwise
      this.diffusion.steps = this.diffusion.genLength;
    }
    if (preset.prompt) this.prompt = preset.prompt;
  }

  readonly presets = PRESETS;

  /** Moves the cursor to the previous/next step time of either trace. */
  stepBy(direction: 1 | -1) {
    this.following = false;
    this.playing = false;
    const all = [...this.times.diffusion, ...this.times.block, ...this.times.ar, 0].sort((a, b) => a - b);
    if (direction > 0) this.time = all.find((t) => t > this.time + 1e-9) ?? this.maxTime;
    else this.time = [...all].reverse().find((t) => t < this.time - 1e-9) ?? 0;
  }

  /** Shows `step` (1-based) of one model's run: the cursor moves to that step's time on the shared axis. */
  seekStep(model: ModelKind, step: number) {
    const t = this.times[model][step - 1];
    if (t !== undefined) this.seek(t);
  }

  seek(t: number) {
    this.following = false;
    this.time = Math.max(0, Math.min(this.maxTime, t));
  }

  togglePlay() {
    if (this.playing) {
      this.playing = false;
      return;
    }
    if (this.time >= this.maxTime) this.time = 0;
    this.following = false;
    this.playing = true;
    let last = performance.now();
    const unitsPerSecond = () => (this.axis === 'passes' ? 12 : 1000) * this.speed;
    const tick = (now: number) => {
      if (!this.playing) return;
      this.time = Math.min(this.maxTime, this.time + ((now - last) / 1000) * unitsPerSecond());
      last = now;
      if (this.time >= this.maxTime) this.playing = false;
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  shareQuery(): string {
    const query = toQuery({
      // a reload or a shared link opens the same models
      pair: this.source ? undefined : (this.loaded?.info.pair ?? this.pair),
      prompt: this.prompt,
      mode: this.mode,
      diffusion: $state.snapshot(this.diffusion),
      ar: $state.snapshot(this.ar),
    });
    const extra = new URLSearchParams();
    if (this.source) extra.set('model', this.source.label);
    if (this.hub !== DEFAULT_HUB) extra.set('hub', this.hub);
    return extra.size ? `${extra.toString()}&${query}` : query;
  }

  readQuery(search: string) {
    const { state, problems } = fromQuery(search);
    if (state.pair) this.pair = state.pair;
    const q = new URLSearchParams(search);
    // models from elsewhere named by the link: checked (resolveSource validates) before anything is fetched
    const hub = q.get('hub');
    if (hub !== null) {
      try {
        resolveSource('a/b', hub);
        this.hub = hub;
      } catch (err) {
        problems.push(`hub=${hub} in the URL ignored: ${(err as Error).message}`);
      }
    }
    const model = q.get('model');
    if (model !== null) this.sourceInput = model;
    const backend = q.get('backend');
    if (backend === 'wasm' || backend === 'webgpu') this.backendPref = backend;
    if (state.threads) this.threads = state.threads;
    if (state.prompt !== undefined) this.prompt = state.prompt;
    if (state.mode) this.mode = state.mode;
    if (state.diffusion) {
      // a length from the link brings the page's steps and blocks for it, unless the link sets those too
      const { genLength, ...rest } = state.diffusion;
      if (rest.blockLength !== undefined) this.blockRule = 'fixed';
      if (genLength !== undefined) this.setGenLength(genLength);
      this.diffusion = { ...this.diffusion, ...rest };
    }
    if (state.diffusion?.cache !== undefined) this.cacheChosen = true;
    if (state.ar) this.ar = { ...this.ar, ...state.ar };
    if (problems.length) this.notice = problems.join('; ');
  }

  exportTraces(): string {
    return JSON.stringify({
      format: 'diffusion-demo-trace/1',
      prompt: this.runPrompt ?? this.prompt, // the run's, whatever the box holds since
      pair: this.loaded?.info.pair,
      diffusion: this.traces.diffusion?.done ?? undefined,
      block: this.traces.block?.done ?? undefined,
      ar: this.traces.ar?.done ?? undefined,
      vocabText: this.loaded?.vocabText,
    });
  }

  /** Opens an exported trace for replay without running a model. */
  importTraces(text: string) {
    if (this.status === 'generating') {
      // its steps would mix with the run's, which would then replace it: refuse, losing nothing
      this.error = {
        name: 'TraceFileError',
        message: 'could not open the trace file: a run is in progress; cancel it or wait for it to end first',
      };
      return;
    }
    try {
      const f = parseTraceFile(JSON.parse(text));
      const live = (t: Trace | undefined): LiveTrace | null =>
        t ? { ...t, plannedSteps: t.termination.plannedSteps, done: t } : null;
      this.traces = { diffusion: live(f.diffusion), block: live(f.block), ar: live(f.ar) };
      this.prompt = this.runPrompt = f.prompt;
      if (f.vocabText) this.vocabText = f.vocabText;
      this.time = this.maxTime;
      this.following = false;
      this.error = null;
      this.notice = 'Replaying a saved trace: no model was run.';
    } catch (err) {
      this.error = { name: 'TraceFileError', message: `could not open the trace file: ${(err as Error).message}` };
    }
  }
}
