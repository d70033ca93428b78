// The page's state, by concern: what the page is doing (status), which models it runs (models), what the visitor
// set (settings), the run shown (run) and the cursor over it (playback). Each is a class of runes in state/; this
// one wires them together and holds what spans them (Generate, the link). The worker streams steps in; the page
// keeps traces as raw state and derives what to draw at the cursor from them.
import { DEFAULT_HUB } from '../core/models/model-source.ts';
import type { DemoBackend } from '../worker/protocol.ts';
import { DraftState } from './state/draft.svelte.ts';
import { ModelsState } from './state/models.svelte.ts';
import { PlaybackState } from './state/playback.svelte.ts';
import { RunState } from './state/run.svelte.ts';
import { SamplesState } from './state/samples.svelte.ts';
import { SettingsState } from './state/settings.svelte.ts';
import { PageStatus } from './state/status.svelte.ts';
import { fromQuery, toQuery } from './url-state.ts';

export type { LiveTrace } from './state/run.svelte.ts';
export type { Status } from './state/status.svelte.ts';
export { DEFAULT_PROMPT } from './state/settings.svelte.ts';

export class AppState {
  readonly page = new PageStatus();
  readonly models: ModelsState;
  readonly settings: SettingsState;
  readonly run: RunState;
  readonly playback: PlaybackState;
  readonly draft: DraftState;
  readonly samples: SamplesState;

  constructor(backend: DemoBackend) {
    this.settings = new SettingsState(() => this.models.loaded?.info.contextLength ?? Infinity);
    this.models = new ModelsState(backend, this.page, (info) => this.settings.forPair(info));
    this.playback = new PlaybackState(() => this.run.traces);
    this.run = new RunState(backend, this.page, {
      hasModels: () => this.models.loaded !== null,
      restart: () => this.playback.restart(),
      stepsAdded: () => this.playback.follow(),
      opened: () => this.playback.showEnd(),
      paused: (kind) => this.draft.open(kind),
    });
    this.samples = new SamplesState(backend, this.page, () => this.models.loaded !== null);
    this.draft = new DraftState({
      traces: () => this.run.traces,
      shownStep: (kind) => this.playback.shownStep[kind],
      ready: () => this.page.status === 'ready',
      resume: (kind, atStep, edits) => this.run.resume(kind, atStep, edits),
    });
  }

  /** Runs the settings' request on the loaded models (nothing while busy or while an option is wrong). */
  async generate() {
    if (this.page.status !== 'ready' || this.settings.validation.length) return;
    await this.run.generate(this.settings.request(Boolean(this.models.loaded?.info.chat)));
  }

  /** "8 samples": the settings' request with 8 seeds (nothing while busy or while an option is wrong). */
  async runSamples() {
    if (this.page.status !== 'ready' || this.settings.validation.length) return;
    await this.samples.run(this.settings.request(Boolean(this.models.loaded?.info.chat)));
  }

  exportTraces(): string {
    const { models } = this;
    return this.run.exportTraces(this.settings.prompt, models.loaded?.info.pair, models.loaded?.vocabText);
  }

  importTraces(text: string) {
    const opened = this.run.importTraces(text);
    if (!opened) return;
    this.settings.prompt = opened.prompt;
    if (opened.vocabText) this.models.vocabText = opened.vocabText;
  }

  shareQuery(): string {
    const { models, settings } = this;
    const query = toQuery({
      // a reload or a shared link opens the same models
      pair: models.source ? undefined : (models.loaded?.info.pair ?? models.pair),
      prompt: settings.prompt,
      mode: settings.mode,
      diffusion: $state.snapshot(settings.diffusion),
      ar: $state.snapshot(settings.ar),
    });
    const extra = new URLSearchParams();
    if (models.source) extra.set('model', models.source.label);
    if (models.hub !== DEFAULT_HUB) extra.set('hub', models.hub);
    return extra.size ? `${extra.toString()}&${query}` : query;
  }

  readQuery(search: string) {
    const { state, problems } = fromQuery(search);
    problems.push(...this.models.fromLink(new URLSearchParams(search), state.pair, state.threads));
    this.settings.fromLink(state);
    if (problems.length) this.page.notice = problems.join('; ');
  }
}
