// Which models the page runs and loading them: the embedded pairs, or models from elsewhere (a URL or a Hugging
// Face id) checked before anything is downloaded, per-file progress, and the downloads kept in the browser.
import type { EngineInfo, LoadProgress } from '../../core/engine.ts';
import { DEFAULT_HUB, resolveSource, type LoadPlan } from '../../core/models/model-source.ts';
import type { DemoBackend, LoadPhase, Loaded } from '../../worker/protocol.ts';
import type { PageStatus } from './status.svelte.ts';

export class ModelsState {
  phase = $state<LoadPhase>('download');
  progress = $state<Record<string, LoadProgress>>({});
  loaded = $state.raw<Loaded | null>(null);
  /** Display text of every token id (from the loaded model, or from an imported trace file). */
  vocabText = $state.raw<string[]>([]);
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
  /** Backend and WASM thread count asked for in the URL (?backend=wasm|webgpu&threads=N), for benchmarks. */
  backendPref: 'auto' | 'wasm' | 'webgpu' = 'auto';
  threads: number | undefined = undefined;

  constructor(
    private readonly backend: DemoBackend,
    private readonly page: PageStatus,
    /** A pair loaded: the settings follow it. */
    private readonly onLoaded: (info: EngineInfo) => void,
  ) {}

  private fail(err: unknown, settle = true) {
    this.page.fail(err, this.loaded !== null, undefined, settle);
  }

  /** Resolves what the visitor typed and asks what loading it would take (sizes, cache, whether it can run here). */
  async checkSource(input = this.sourceInput) {
    this.page.error = null;
    this.plan = null;
    this.planning = true;
    try {
      const source = resolveSource(input, this.hub);
      this.plan = await this.backend.plan(source, this.backendPref);
    } catch (err) {
      this.fail(err, false);
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
      this.page.notice = `Forgot ${freed.files} downloaded file${freed.files === 1 ? '' : 's'} (${(freed.bytes / 1e6).toFixed(1)} MB freed).`;
      if (this.plan) await this.checkSource(this.plan.label);
    } catch (err) {
      this.fail(err, false);
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
    const { page } = this;
    page.status = 'loading';
    page.error = null;
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
      this.onLoaded(this.loaded.info);
      if (this.loaded.notice) page.notice = this.loaded.notice;
      page.status = 'ready';
    } catch (err) {
      // the worker let go of the models it had: nothing is loaded until a load succeeds
      this.loaded = null;
      this.fail(err);
      if (this.source) {
        // models from elsewhere that failed (network, refusal, a bad file): back to the embedded ones, the
        // reason kept on screen and the plan with it, so nothing typed is lost
        const error = page.error;
        this.source = null;
        await this.load();
        page.error = error;
      }
    }
  }

  /** What a link says about the models: a pair, a hub, models from elsewhere, a backend; problems are returned. */
  fromLink(q: URLSearchParams, pair: string | undefined, threads: number | undefined): string[] {
    const problems: string[] = [];
    if (pair) this.pair = pair;
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
    if (threads) this.threads = threads;
    return problems;
  }
}
